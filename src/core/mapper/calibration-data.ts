// Calibration inputs for the search's accuracy proxy (docs/search.md "Calibration inputs"): real
// inputs the dense and the pruned model are both run on. Three sources:
//   - a folder of .npy files, each one float32 batch for the model's (single) input, in name order;
//   - a fashion-mnist slice file (format FMS1, samples/README.md): images as pixel / 255;
//   - generated inputs (seeded standard-normal values) for models without data — then the proxy
//     measures agreement on noise, and everything that reports it says "generated".
// The default is the bundled fashion-mnist slice for models that read [N,1,28,28] images (the
// sample), else generated inputs.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { ModelError } from '../errors';
import type { Dim, Model } from '../onnx/model';
import { Prng } from './prng';

/** One batch: a float32 tensor per model input. */
export interface CalibrationBatch {
  readonly feeds: ReadonlyMap<string, { readonly data: Float32Array; readonly dims: readonly number[] }>;
}

export interface CalibrationSet {
  readonly batches: readonly CalibrationBatch[];
  /** Samples over all batches (the first dimension of each batch). */
  readonly samples: number;
  /** For reasons and reports: "512 images of fashion-mnist-slice.bin", "16 generated inputs". */
  readonly description: string;
  readonly generated: boolean;
}

export interface CalibrationOptions {
  /** A .npy folder or an FMS1 file; undefined → the default (see above). */
  readonly path?: string;
  /** Use at most this many samples (from the start). */
  readonly maxSamples: number;
  /** Generated inputs: how many samples, and the seed. */
  readonly generatedSamples: number;
  readonly seed: number;
}

const FLOAT = 1;
const BUNDLED_SLICE = 'fashion-mnist-slice.bin';

/** The calibration inputs for `model`, or a one-line ModelError saying what is wrong with the given path. */
export function loadCalibration(model: Model, options: CalibrationOptions): CalibrationSet {
  const inputs = modelInputs(model);
  if (options.path !== undefined) {
    const where = options.path;
    let stat: fs.Stats;
    try {
      stat = fs.statSync(where);
    } catch {
      throw new ModelError('calibration path not found', where, 'Give a folder of .npy float32 batches or a fashion-mnist slice file (FMS1); see docs/search.md.');
    }
    return stat.isDirectory() ? readNpyFolder(where, inputs, options.maxSamples) : readSliceFile(where, inputs, options.maxSamples);
  }
  const bundled = bundledSlice();
  if (bundled && inputs.length === 1 && looksLikeFashionMnist(inputs[0].shape)) return readSliceFile(bundled, inputs, options.maxSamples);
  return generated(inputs, options.generatedSamples, options.seed, model.path);
}

interface ModelInput {
  readonly name: string;
  readonly shape: readonly Dim[];
}

function modelInputs(model: Model): ModelInput[] {
  const initializers = new Set(model.graph.initializers.map((t) => t.name));
  const inputs: ModelInput[] = [];
  for (const input of model.graph.inputs) {
    if (initializers.has(input.name)) continue;
    const type = input.type;
    if (type?.kind !== 'tensor' || type.elemType !== FLOAT) {
      throw new ModelError(`input "${input.name}" is not a float32 tensor`, model.path, 'The search runs the model on float32 calibration inputs; models with other inputs cannot be searched yet.');
    }
    inputs.push({ name: input.name, shape: type.shape ?? [] });
  }
  if (!inputs.length) throw new ModelError('the model has no inputs to feed', model.path, 'The search needs a model that reads at least one float32 input.');
  return inputs;
}

function looksLikeFashionMnist(shape: readonly Dim[]): boolean {
  return shape.length === 4 && shape[1] === 1 && shape[2] === 28 && shape[3] === 28;
}

/** samples/fashion-mnist-slice.bin next to the sources or the bundle (the package ships samples/). */
function bundledSlice(): string | undefined {
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    const candidate = path.join(dir, 'samples', BUNDLED_SLICE);
    if (fs.existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  return undefined;
}

/** Fixed dims must match; symbolic ones take the batch's value. */
function checkShape(dims: readonly number[], shape: readonly Dim[], where: string, inputName: string): void {
  const fits = dims.length === shape.length && shape.every((d, i) => typeof d !== 'number' || d === dims[i]);
  if (!fits) {
    const want = `[${shape.map((d) => (typeof d === 'number' ? d : d ?? '?')).join(', ')}]`;
    throw new ModelError(`batch shape [${dims.join(', ')}] does not fit model input "${inputName}" ${want}`, where, 'Give batches shaped like the model\'s input (symbolic dimensions may take any size).');
  }
}

function readSliceFile(file: string, inputs: readonly ModelInput[], maxSamples: number): CalibrationSet {
  const buf = fs.readFileSync(file);
  if (buf.length < 16 || buf.toString('latin1', 0, 4) !== 'FMS1') {
    throw new ModelError('not a fashion-mnist slice file (no FMS1 header)', file, 'Give a folder of .npy float32 batches or an FMS1 file (samples/README.md); see docs/search.md.');
  }
  const count = buf.readUInt32LE(4), rows = buf.readUInt32LE(8), cols = buf.readUInt32LE(12);
  if (buf.length < 16 + count * rows * cols || count === 0) throw new ModelError(`FMS1 file is truncated (${count} images of ${rows}×${cols} need ${16 + count * rows * cols} bytes)`, file, 'Copy the file again.');
  if (inputs.length !== 1) throw new ModelError(`the model has ${inputs.length} inputs; an FMS1 file feeds one`, file, 'Give a folder of .npy batches, or leave out --calibration.');
  const n = Math.min(count, maxSamples);
  const dims = [n, 1, rows, cols];
  checkShape(dims, inputs[0].shape, file, inputs[0].name);
  const data = new Float32Array(n * rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = buf[16 + i] / 255;
  return { batches: [{ feeds: new Map([[inputs[0].name, { data, dims }]]) }], samples: n, description: `${n} images of ${path.basename(file)}`, generated: false };
}

function readNpyFolder(dir: string, inputs: readonly ModelInput[], maxSamples: number): CalibrationSet {
  if (inputs.length !== 1) throw new ModelError(`the model has ${inputs.length} inputs; a .npy folder feeds one`, dir, 'Leave out --calibration to use generated inputs.');
  const files = fs.readdirSync(dir).filter((f) => f.toLowerCase().endsWith('.npy')).sort();
  if (!files.length) throw new ModelError('no .npy files in the calibration folder', dir, 'Put one float32 batch per .npy file there (numpy.save), shaped like the model input.');
  const batches: CalibrationBatch[] = [];
  let samples = 0;
  for (const f of files) {
    if (samples >= maxSamples) break;
    const where = path.join(dir, f);
    let { data, dims } = readNpy(where);
    checkShape(dims, inputs[0].shape, where, inputs[0].name);
    const take = Math.min(dims[0] ?? 1, maxSamples - samples);
    if (dims.length && take < dims[0]) {
      const per = data.length / dims[0];
      data = data.slice(0, take * per);
      dims = [take, ...dims.slice(1)];
    }
    samples += dims.length ? dims[0] : 1;
    batches.push({ feeds: new Map([[inputs[0].name, { data, dims }]]) });
  }
  return { batches, samples, description: `${samples} samples from ${files.length} .npy file${files.length === 1 ? '' : 's'} in ${path.basename(dir)}`, generated: false };
}

/** A little-endian float32, C-order .npy file (format versions 1–3). */
export function readNpy(file: string): { data: Float32Array; dims: number[] } {
  const buf = fs.readFileSync(file);
  const bad = (what: string): never => {
    throw new ModelError(what, file, 'Save each batch with numpy.save(path, array.astype(numpy.float32)).');
  };
  if (buf.length < 10 || buf[0] !== 0x93 || buf.toString('latin1', 1, 6) !== 'NUMPY') bad('not a .npy file');
  const major = buf[6];
  const headerLength = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + headerLength;
  if (start > buf.length) bad('truncated .npy header');
  const header = buf.toString('latin1', major === 1 ? 10 : 12, start);
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  if (descr !== '<f4' && descr !== '=f4') bad(`array dtype is ${descr ?? 'unknown'}, not little-endian float32`);
  if (/'fortran_order'\s*:\s*True/.test(header)) bad('array is in Fortran order');
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (shapeText === undefined) bad('no shape in the .npy header');
  const dims = shapeText!.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) bad(`bad shape (${shapeText})`);
  const count = dims.reduce((a, b) => a * b, 1);
  if (buf.length - start < count * 4) bad(`holds ${Math.floor((buf.length - start) / 4)} values; shape [${dims.join(', ')}] needs ${count}`);
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = buf.readFloatLE(start + 4 * i);
  return { data, dims };
}

/** Seeded standard-normal inputs (about what normalised images look like); symbolic first dim = samples, others 1. */
function generated(inputs: readonly ModelInput[], samples: number, seed: number, where: string): CalibrationSet {
  const prng = new Prng(seed ^ 0x5eed);
  const batchFixed = inputs.every((i) => typeof i.shape[0] === 'number');
  // A fixed batch dimension: as many batches of it as needed for `samples`.
  const perBatch = batchFixed ? Math.max(1, Number(inputs[0].shape[0]) || 1) : samples;
  const batchCount = Math.max(1, Math.ceil(samples / perBatch));
  const batches: CalibrationBatch[] = [];
  for (let b = 0; b < batchCount; b++) {
    const feeds = new Map<string, { data: Float32Array; dims: number[] }>();
    for (const input of inputs) {
      const dims = input.shape.map((d, i) => (typeof d === 'number' ? d : i === 0 ? perBatch : 1));
      if (dims.some((d) => d <= 0)) throw new ModelError(`input "${input.name}" has a zero-size dimension`, where, 'Give calibration inputs with --calibration.');
      const data = new Float32Array(dims.reduce((a, c) => a * c, 1));
      for (let i = 0; i < data.length; i++) data[i] = prng.normal();
      feeds.set(input.name, { data, dims });
    }
    batches.push({ feeds });
  }
  const total = batchCount * perBatch;
  return { batches, samples: total, description: `${total} generated inputs (seeded normal noise, no real data)`, generated: true };
}
