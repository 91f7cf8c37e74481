// Where a pruned model goes, and the checks that keep the input safe: the output is never the
// input (also through links), an existing output is replaced only when forced, and external data
// files are written next to the output under their original relative locations — never over the
// input's own data files.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { ModelError } from '../errors';
import { walkGraphs } from '../onnx/graph-view';
import type { Attribute, Model, Tensor } from '../onnx/model';

/**
 * The default output of `prunemap prune MODEL`: `<name>.pruned.onnx` next to the model; for a model
 * with external data, `<name>.pruned/<name>.onnx` (the data files must sit next to the model file
 * under their original names, which would be the input's own files in the model's folder).
 */
export function defaultOutputPath(model: Model): string {
  const dir = path.dirname(model.path);
  const base = path.basename(model.path).replace(/\.onnx$/i, '');
  return externalDataFiles(model).size > 0 ? path.join(dir, `${base}.pruned`, `${base}.onnx`) : path.join(dir, `${base}.pruned.onnx`);
}

/** Every external data file the model uses: resolved file → the location as written in the model. */
export function externalDataFiles(model: Model): Map<string, string> {
  const files = new Map<string, string>();
  const add = (t: Tensor | undefined) => {
    if (t?.storage.kind === 'external' && !files.has(t.storage.range.file)) files.set(t.storage.range.file, t.storage.location);
  };
  const fromAttribute = (a: Attribute) => {
    add(a.t);
    a.tensors?.forEach(add);
    if (a.sparseTensor) [a.sparseTensor.values, a.sparseTensor.indices].forEach(add);
    a.sparseTensors?.forEach((s) => [s.values, s.indices].forEach(add));
  };
  for (const { graph } of walkGraphs(model)) {
    graph.initializers.forEach(add);
    graph.sparseInitializers.forEach((s) => [s.values, s.indices].forEach(add));
    for (const node of graph.nodes) node.attributes.forEach(fromAttribute);
  }
  for (const f of model.functions) {
    f.attributeDefaults.forEach(fromAttribute);
    for (const node of f.nodes) node.attributes.forEach(fromAttribute);
  }
  return files;
}

/** One external data file of the output. */
export interface DataFileTarget {
  /** The input's data file (resolved). */
  readonly source: string;
  readonly location: string;
  /** Where the output's copy goes: outDir/location. */
  readonly target: string;
  /** The output folder is the model's folder, so the output uses the input's own file (allowed only when nothing in it is pruned). */
  readonly shared: boolean;
}

export interface OutputPlan {
  readonly modelPath: string;
  readonly output: string;
  readonly outDir: string;
  readonly dataFiles: readonly DataFileTarget[];
}

/**
 * Checks the output path against the input and resolves where every file goes. `patchedFiles` are
 * the data files (resolved) that pruning changes. Nothing is created here.
 */
export function planOutput(model: Model, outPath: string, force: boolean, patchedFiles: ReadonlySet<string>): OutputPlan {
  const output = path.resolve(outPath);
  const hint = 'Give another output path with -o.';
  if (/[\\/]$/.test(outPath) || isDirectory(output)) {
    throw new ModelError('is a folder', outPath, `Give the output model's file path, e.g. ${path.join(outPath, path.basename(model.path))}.`);
  }
  const inputReal = realpathOrSelf(model.path);
  const outDir = path.dirname(output);
  const outReal = resolvedTarget(output);
  if (outReal === inputReal || sameFile(output, model.path)) {
    throw new ModelError('the output is the input model', outPath, 'PruneMap never writes over its input; give another output path with -o.');
  }
  if (fs.existsSync(output) && !force) throw new ModelError('the output already exists', outPath, 'Pass --force to replace it, or give another path with -o.');
  const inputs = new Set([inputReal]);
  const files = externalDataFiles(model);
  for (const f of files.keys()) inputs.add(realpathOrSelf(f));
  const dataFiles: DataFileTarget[] = [];
  const sameFolder = realpathOrSelf(outDir) === realpathOrSelf(path.dirname(model.path));
  for (const [source, location] of files) {
    const target = path.join(outDir, location);
    const targetReal = resolvedTarget(target);
    if (targetReal === outReal) throw new ModelError(`external data "${location}" would be written over the output model`, outPath, hint);
    if (targetReal === realpathOrSelf(source) || (sameFolder && inputs.has(targetReal))) {
      if (patchedFiles.has(source)) {
        throw new ModelError(`the pruned weights live in the external data file "${location}", and writing the output into the model's own folder would overwrite the input's copy`,
          outPath, `Write the output into another folder (e.g. -o ${path.join(path.dirname(model.path), 'pruned', path.basename(model.path))}).`);
      }
      dataFiles.push({ source, location, target, shared: true });
      continue;
    }
    if (inputs.has(targetReal) || sameFile(target, source)) {
      throw new ModelError(`external data "${location}" of the output would overwrite an input file (${targetReal})`, outPath, hint);
    }
    if (fs.existsSync(target) && !force) {
      throw new ModelError(`the output's external data file ${target} already exists`, outPath, 'Pass --force to replace it, or give another output folder with -o.');
    }
    dataFiles.push({ source, location, target, shared: false });
  }
  return { modelPath: model.path, output, outDir, dataFiles };
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function realpathOrSelf(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/** The file a path names once written: its real path, or (when it does not exist yet) its real folder + name. */
function resolvedTarget(p: string): string {
  if (fs.existsSync(p)) return realpathOrSelf(p);
  let dir = path.dirname(p);
  const rest = [path.basename(p)];
  while (!fs.existsSync(dir) && path.dirname(dir) !== dir) {
    rest.unshift(path.basename(dir));
    dir = path.dirname(dir);
  }
  return path.join(realpathOrSelf(dir), ...rest);
}

/** Hard links: two paths to one inode. */
function sameFile(a: string, b: string): boolean {
  try {
    const [x, y] = [fs.statSync(a), fs.statSync(b)];
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}
