// `prunemap map MODEL [--target ID] [--compression X] [--json] [-o PLAN]`: the rule-based plan —
// a scheme, block and rate per layer with the reason and the latency estimate — as a table, as
// JSON, or written to a plan file (through plan-io's writePlanFile: a temporary file renamed into
// place, with the `$schema` reference; never over the model).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultTarget, getProfile, profileIds } from '../core/latency/profiles';
import { findLayers } from '../core/layers';
import { sha256File } from '../core/mapper/model-file';
import { mapModel, ruleConstants } from '../core/mapper/rules';
import { loadModel } from '../core/onnx/load';
import type { Plan } from '../core/plan';
import { formatPlan, writePlanFile } from '../core/plan-io';
import { parse, UsageError, type Command } from './command';
import { table } from './format';

export const mapCommand: Command = {
  name: 'map',
  usage: 'map MODEL [--target ID] [--compression X] [--json] [-o PLAN]',
  summary: 'rule-based pruning plan: scheme, block, rate and latency per layer',
  run(args) {
    const { values, positionals } = parse(
      args,
      { target: { type: 'string' }, compression: { type: 'string' }, json: { type: 'boolean' }, output: { type: 'string', short: 'o' } },
      ['MODEL'],
    );
    if (values.help) return help();
    const target = values.target ?? defaultTarget;
    const profile = getProfile(target);
    if (!profile) throw new UsageError(`unknown target "${target}"; known targets: ${profileIds.join(', ')}`);
    const compression = parseCompression(values.compression);
    const model = positionals[0];
    const out = values.output;
    if (out !== undefined) checkOutput(out, model);

    const loaded = loadModel(model);
    let plan: Plan, ops: Map<string, string>;
    try {
      const layers = findLayers(loaded.model, loaded.tensors);
      ops = new Map(layers.map((l) => [l.id, l.op]));
      // A plan's `model` is relative to the plan's folder: the base name when the plan sits next to the model.
      const modelName = out === undefined ? path.basename(model) : path.relative(path.dirname(path.resolve(out)), path.resolve(model)).split(path.sep).join('/');
      plan = mapModel(loaded.model, layers, loaded.tensors, { target, compression, modelName, modelSha256: sha256File(model) });
    } finally {
      loaded.close();
    }
    if (out !== undefined) writePlanFile(out, plan);
    if (values.json) process.stdout.write(formatPlan(plan));
    else process.stdout.write(render(plan, ops, profile.basis) + (out !== undefined ? `\nwrote ${out}\n` : '\n'));
    return 0;
  },
};

function parseCompression(text: string | undefined): number {
  if (text === undefined) return ruleConstants.compression;
  const x = Number(text.trim().replace(/x$/i, ''));
  if (!text.trim() || !Number.isFinite(x) || x <= 1) throw new UsageError(`--compression must be a number > 1 (e.g. 4 for 4×), not "${text}"`);
  return x;
}

/** The plan file must not be the model (or a link to it) and must be in an existing folder. */
export function checkOutput(out: string, model: string): void {
  if (path.resolve(out) === path.resolve(model) || sameFile(out, model)) {
    throw new UsageError(`-o ${out} is the model itself; give another file for the plan (e.g. ${planName(model)})`);
  }
  const dir = path.dirname(path.resolve(out));
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UsageError(`-o ${out}: folder ${dir} does not exist`);
  if (fs.existsSync(out) && fs.statSync(out).isDirectory()) throw new UsageError(`-o ${out} is a folder; give a file name (e.g. ${path.join(out, planName(model))})`);
}

function sameFile(a: string, b: string): boolean {
  try {
    const sa = fs.statSync(a), sb = fs.statSync(b);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}

function planName(model: string): string {
  return path.basename(model).replace(/\.onnx$/i, '') + '.prune.json';
}

export function render(plan: Plan, ops: Map<string, string>, basis: string): string {
  const ms = (x: number | undefined) => (x === undefined ? '?' : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3));
  const rows = Object.entries(plan.layers).map(([id, l]) => {
    const block = l.block ? `${l.block[0]}×${l.block[1]}` : l.scheme === 'nm' ? `${l.n}:${l.m}` : l.scheme === 'pattern' ? `${l.patterns ?? '?'} pat` : '';
    const lat = l.latency;
    const speedup = lat && lat.prunedMs > 0 ? `${(lat.denseMs / lat.prunedMs).toFixed(2)}×` : '';
    return [id, ops.get(id) ?? '', l.scheme, block, l.rate ? l.rate.toFixed(4) : '0', lat ? `${ms(lat.denseMs)} → ${ms(lat.prunedMs)}` : '', speedup, l.reason ?? ''];
  });
  const s = plan.summary;
  const header = `${plan.model} · target ${plan.target} (${basis} latency) · ${Object.keys(plan.layers).length} layers`;
  const body = table(['layer', 'op', 'scheme', 'block', 'rate', 'ms dense → pruned', 'speedup', 'reason'], rows, [4, 5, 6]);
  const summary = s
    ? `total: ${ms(s.denseMs)} ms → ${ms(s.prunedMs)} ms (${s.speedup.toFixed(2)}× faster) · compression ${s.compression.toFixed(2)}× of the prunable weights`
    : '';
  return [header, '', body, '', summary].join('\n');
}

function help(): number {
  process.stdout.write([
    'usage: prunemap map MODEL [--target ID] [--compression X] [--json] [-o PLAN]',
    '',
    'Maps every prunable layer to a pruning scheme, block size and rate with the rule-based mapper',
    '(docs/cli.md "map"), with the latency model\'s estimate on the target.',
    '',
    `  --target ID        device profile: ${profileIds.join(', ')} (default ${defaultTarget})`,
    `  --compression X    prunable weights before / after, > 1 (default ${ruleConstants.compression})`,
    '  --json             print the plan as JSON',
    '  -o PLAN            write the plan to PLAN (e.g. model.prune.json); never over the model',
  ].join('\n') + '\n');
  return 0;
}
