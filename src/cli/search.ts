// `prunemap search MODEL (--budget-ms X | --speedup S) [--target ID] [--calibration PATH] [--seed N]
// [-o PLAN] [--json]`: the search-based plan (src/core/mapper/search.ts, docs/search.md) — the same
// plan JSON and table as `map`. Progress goes to stderr when it is a terminal; Ctrl+C cancels the
// search (exit 130) and nothing is written.

import * as path from 'node:path';
import { defaultTarget, getProfile, profileIds } from '../core/latency/profiles';
import { searchPlan } from '../core/mapper/search';
import { loadModel } from '../core/onnx/load';
import { findLayers } from '../core/layers';
import { formatPlan, writePlanFile } from '../core/plan-io';
import { parse, UsageError, type Command } from './command';
import { checkOutput, render } from './map';

export const searchCommand: Command = {
  name: 'search',
  usage: 'search MODEL (--budget-ms X | --speedup S) [--target ID] [--calibration PATH] [--seed N] [-o PLAN] [--json]',
  summary: 'search-based pruning plan under a latency budget (accuracy proxy in onnxruntime)',
  async run(args) {
    const { values, positionals } = parse(
      args,
      {
        'budget-ms': { type: 'string' }, speedup: { type: 'string' }, target: { type: 'string' }, calibration: { type: 'string' },
        seed: { type: 'string' }, json: { type: 'boolean' }, output: { type: 'string', short: 'o' },
      },
      ['MODEL'],
    );
    if (values.help) return help();
    const target = values.target ?? defaultTarget;
    const profile = getProfile(target);
    if (!profile) throw new UsageError(`unknown target "${target}"; known targets: ${profileIds.join(', ')}`);
    const budget = parseBudget(values['budget-ms'], values.speedup);
    const seed = parseSeed(values.seed);
    const model = positionals[0];
    const out = values.output;
    if (out !== undefined) checkOutput(out, model);

    const controller = new AbortController();
    const onSigint = () => controller.abort();
    process.once('SIGINT', onSigint);
    const progress = process.stderr.isTTY
      // Messages carry layer ids from the model: control characters are shown as '?', never sent to the terminal.
      ? (fraction: number, message: string) => process.stderr.write(`\r\x1b[K${Math.round(fraction * 100)}% ${message.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?').slice(0, (process.stderr.columns ?? 100) - 6)}`)
      : undefined;
    let plan;
    try {
      plan = await searchPlan(model, { target, ...budget, calibration: values.calibration, seed, signal: controller.signal, onProgress: progress });
    } catch (err) {
      if ((err as Error).name === 'AbortError') {
        process.stderr.write(`${progress ? '\r\x1b[K' : ''}prunemap: search cancelled; nothing was written\n`);
        return 130;
      }
      throw err;
    } finally {
      process.removeListener('SIGINT', onSigint);
      if (progress) process.stderr.write('\r\x1b[K');
    }
    // A plan's `model` is relative to the plan's folder: the base name when the plan sits next to the model.
    if (out !== undefined) plan = { ...plan, model: path.relative(path.dirname(path.resolve(out)), path.resolve(model)).split(path.sep).join('/') };
    if (out !== undefined) writePlanFile(out, plan);
    if (values.json) process.stdout.write(formatPlan(plan));
    else {
      const loaded = loadModel(model);
      let ops: Map<string, string>;
      try {
        ops = new Map(findLayers(loaded.model, loaded.tensors).map((l) => [l.id, l.op]));
      } finally {
        loaded.close();
      }
      process.stdout.write(render(plan, ops, profile.basis) + (out !== undefined ? `\nwrote ${out}\n` : '\n'));
    }
    return 0;
  },
};

function parseBudget(budgetMs: string | undefined, speedup: string | undefined): { budgetMs: number } | { speedup: number } {
  if ((budgetMs === undefined) === (speedup === undefined)) {
    throw new UsageError(budgetMs === undefined ? 'give --budget-ms X or --speedup S (one of them)' : 'give --budget-ms or --speedup, not both');
  }
  if (speedup !== undefined) {
    const s = Number(speedup.trim().replace(/x$/i, ''));
    if (!speedup.trim() || !Number.isFinite(s) || s <= 1) throw new UsageError(`--speedup must be a number > 1 (e.g. 1.5 for 1.5× faster than dense), not "${speedup}"`);
    return { speedup: s };
  }
  const ms = Number(budgetMs!.trim().replace(/ms$/i, ''));
  if (!budgetMs!.trim() || !Number.isFinite(ms) || ms <= 0) throw new UsageError(`--budget-ms must be a positive number of milliseconds, not "${budgetMs}"`);
  return { budgetMs: ms };
}

function parseSeed(text: string | undefined): number {
  if (text === undefined) return 1;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n)) throw new UsageError(`--seed must be a whole number ≥ 0, not "${text}"`);
  return n;
}

function help(): number {
  process.stdout.write([
    'usage: prunemap search MODEL (--budget-ms X | --speedup S) [--target ID] [--calibration PATH] [--seed N] [-o PLAN] [--json]',
    '',
    'Searches per-layer schemes and rates that keep the most accuracy under a latency budget: the',
    'accuracy proxy is the agreement (and KL divergence) of the pruned vs the dense model on real',
    'calibration inputs in onnxruntime-node; latency is the latency model\'s estimate (docs/search.md).',
    '',
    '  --speedup S         estimated speedup of the prunable layers vs dense, > 1 (e.g. 1.5)',
    '  --budget-ms X       or: estimated time of all prunable layers, in ms',
    `  --target ID         device profile: ${profileIds.join(', ')} (default ${defaultTarget})`,
    '  --calibration PATH  a folder of .npy float32 batches, or a fashion-mnist slice file (FMS1);',
    '                      default: the bundled slice for 28×28 grey-image models, else generated inputs',
    '  --seed N            same seed, same plan (default 1)',
    '  --json              print the plan as JSON',
    '  -o PLAN             write the plan to PLAN (e.g. model.prune.json); never over the model',
  ].join('\n') + '\n');
  return 0;
}
