// `prunemap prune MODEL [--plan PLAN | --target ID] [-o OUT] [--json] [--force] [--verify]`: applies
// a plan's masks (without --plan, the rule-based plan of `map`) and writes the pruned model — a copy
// of MODEL in which only pruned weights changed — never over MODEL. Ctrl+C during the write removes
// the temporaries and exits with 130.

import * as path from 'node:path';
import { findLayers } from '../core/layers';
import { defaultTarget, profileIds } from '../core/latency/profiles';
import { mapModel } from '../core/mapper/rules';
import { loadModel, type LoadedModel } from '../core/onnx/load';
import type { Model } from '../core/onnx/model';
import { prepareMasks } from '../core/prune/masks';
import { defaultOutputPath } from '../core/prune/output';
import { writePrunedModel, type PruneReport } from '../core/prune/write';
import { parse, toJson, UsageError, type Command } from './command';
import { readPlanForModel } from './read-plan';
import { formatCount, table } from './format';

export const pruneCommand: Command = {
  name: 'prune',
  usage: 'prune MODEL [--plan PLAN] [-o OUT] [--json] [--force] [--fsync] [--verify]',
  summary: 'writes the pruned model (a copy with the plan\'s masks applied), never over MODEL',
  async run(args) {
    const { values, positionals } = parse(args, {
      plan: { type: 'string' }, target: { type: 'string' }, output: { type: 'string', short: 'o' }, json: { type: 'boolean' },
      force: { type: 'boolean' }, fsync: { type: 'boolean' }, verify: { type: 'boolean' },
    }, ['MODEL']);
    if (values.help) return help();
    if (values.plan && values.target) throw new UsageError('--target chooses the rule-based plan; with --plan the plan says its target');
    const target = values.target ?? defaultTarget;
    if (!profileIds.includes(target)) throw new UsageError(`unknown target "${target}"; known targets: ${profileIds.join(', ')}`);
    // Ctrl+C cancels the run: the writer removes its temporary files and nothing is left behind.
    const controller = new AbortController();
    const onSigint = () => controller.abort();
    process.on('SIGINT', onSigint);
    const loaded = loadModel(positionals[0]);
    try {
      const layers = findLayers(loaded.model, loaded.tensors);
      const plan = values.plan
        ? readPlanForModel(values.plan, loaded.model, layers)
        : mapModel(loaded.model, layers, loaded.tensors, { target, modelName: path.basename(loaded.model.path) });
      const masks = prepareMasks(loaded, layers, plan, values.plan ?? `rule-based plan for ${target}`); // computed as the writer reaches each layer
      const out = values.output ?? defaultOutputPath(loaded.model);
      const report = await writePrunedModel(loaded, masks, out, { signal: controller.signal, force: values.force, durable: values.fsync, layers });
      process.off('SIGINT', onSigint); // the output is complete: Ctrl+C from here on just stops
      const verify = values.verify ? await verifyInOnnxRuntime(loaded.model.path, report.output) : undefined;
      process.stdout.write(values.json ? toJson(verify ? { ...report, verify } : report) + '\n' : render(report, verify));
      return verify && !verify.ok ? 1 : 0;
    } catch (err) {
      if (!controller.signal.aborted) throw err;
      process.stderr.write('prunemap: interrupted; no output was written\n');
      return 130;
    } finally {
      loaded.close();
      process.off('SIGINT', onSigint);
    }
  },
};

/** Reads and checks the plan against the model; the first error is thrown as one line with line:column. */
const pct = (x: number | null) => (x === null ? '' : `${(x * 100).toFixed(1)}%`);

function render(r: PruneReport, verify: VerifyResult | undefined): string {
  const rows = r.layers.map((l) => [l.id, l.op, l.scheme, pct(l.plannedRate), pct(l.achievedRate), formatCount(l.weights), formatCount(l.kept), formatCount(l.zeros)]);
  const t = r.totals;
  const lines = [
    `${r.input} → ${r.output}${r.dataFiles.length ? ` (+ ${r.dataFiles.map((f) => path.relative(path.dirname(r.output), f)).join(', ')})` : ''}`,
    '',
    table(['layer', 'op', 'scheme', 'planned', 'achieved', 'weights', 'kept', 'zeros'], rows, [3, 4, 5, 6, 7]),
    '',
    `${r.layers.length} layers pruned · ${formatCount(t.pruned)} of ${formatCount(t.weights)} prunable weights removed (${pct(t.rate)}) · ${formatCount(t.kept)} kept · compression ${t.compression.toFixed(2)}×`,
  ];
  if (verify) lines.push(`verify: ${verify.message}`);
  return lines.join('\n') + '\n';
}

export interface VerifyResult {
  readonly ok: boolean;
  readonly message: string;
  /** Largest |pruned − dense| over every output element, on the generated input. */
  readonly maxAbsDiff?: number;
}

/**
 * Loads the pruned model in onnxruntime-node (required lazily: it is a native module the rest of
 * the CLI does not need) and runs it and the dense model on one generated input.
 */
async function verifyInOnnxRuntime(densePath: string, prunedPath: string): Promise<VerifyResult> {
  let ort: typeof import('onnxruntime-node');
  try {
    // Loaded only for --verify: the native runtime is large and not needed to prune.
    ort = require('onnxruntime-node');
  } catch (err) {
    return { ok: false, message: `onnxruntime-node could not be loaded (${(err as Error).message.split('\n')[0]}); the pruned model was written but not verified` };
  }
  let pruned;
  try {
    pruned = await ort.InferenceSession.create(prunedPath);
  } catch (err) {
    return { ok: false, message: `onnxruntime cannot load the pruned model: ${(err as Error).message.split('\n')[0]}` };
  }
  const dense = await ort.InferenceSession.create(densePath);
  const loaded: LoadedModel = loadModel(densePath);
  let feeds: Record<string, InstanceType<typeof ort.Tensor>>;
  try {
    const made = generatedInputs(loaded.model, ort);
    if (typeof made === 'string') return { ok: true, message: `the pruned model loads in onnxruntime (not run: ${made})` };
    feeds = made;
  } finally {
    loaded.close();
  }
  let denseOut;
  try {
    denseOut = await dense.run(feeds);
  } catch (err) {
    return { ok: true, message: `the pruned model loads in onnxruntime (not run: the dense model does not run on a generated input: ${(err as Error).message.split('\n')[0]})` };
  }
  let prunedOut;
  try {
    prunedOut = await pruned.run(feeds);
  } catch (err) {
    return { ok: false, message: `the pruned model fails in onnxruntime where the dense model runs: ${(err as Error).message.split('\n')[0]}` };
  }
  let maxAbsDiff = 0;
  for (const name of Object.keys(denseOut)) {
    const a = denseOut[name].data as ArrayLike<number>, b = prunedOut[name].data as ArrayLike<number>;
    if (typeof a[0] !== 'number') continue;
    for (let i = 0; i < a.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a[i] - b[i]));
  }
  return { ok: true, maxAbsDiff, message: `the pruned model runs in onnxruntime; largest output change vs the dense model on a generated input: ${maxAbsDiff.toPrecision(3)}` };
}

/** Uniform [-1, 1) float inputs (symbolic dims = 1), or why none can be made. */
function generatedInputs(model: Model, ort: typeof import('onnxruntime-node')): Record<string, InstanceType<typeof ort.Tensor>> | string {
  const initializers = new Set(model.graph.initializers.map((t) => t.name));
  const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
  let seed = 1;
  const random = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  for (const input of model.graph.inputs) {
    if (initializers.has(input.name)) continue;
    const type = input.type;
    if (type?.kind !== 'tensor' || type.elemType !== 1) return `input "${input.name}" is not a float tensor`;
    const dims = (type.shape ?? []).map((d) => (typeof d === 'number' ? d : 1));
    const data = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, random);
    feeds[input.name] = new ort.Tensor('float32', data, dims);
  }
  return feeds;
}

function help(): number {
  process.stdout.write([
    'usage: prunemap prune MODEL [--plan PLAN | --target ID] [-o OUT] [--json] [--force] [--fsync] [--verify]',
    '',
    'Applies the plan\'s masks and writes the pruned model: a copy of MODEL in which only the pruned',
    `weights are zero. Without --plan, the rule-based plan of \`prunemap map\` for --target (default ${defaultTarget}).`,
    'OUT defaults to <name>.pruned.onnx next to MODEL (<name>.pruned/<name>.onnx for',
    'a model with external data, whose data files are written next to it). MODEL is never written;',
    'an existing OUT is replaced only with --force. --fsync flushes the outputs to disk before they are',
    'renamed into place (durable across a power cut). --verify runs the result in onnxruntime-node.',
    '--json prints the report in the format of docs/cli.md.',
  ].join('\n') + '\n');
  return 0;
}
