// Top-1 of the bundled sample on the FULL fashion-mnist test set (10,000 images, Debian's
// dataset-fashion-mnist), dense and one-shot pruned (no fine-tuning): every scheme at 2×, 4× and
// 8× compression of its layers, and the rule-based plan. Pruned models are written by the real
// writer and run in onnxruntime-node. Writes the table to docs/accuracy.md.
//
// Run: npx tsx bench/accuracy.ts [--model samples/fashion-cnn.onnx] [--target snapdragon855-cpu]

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { testSet, top1, type TestSet } from './fashion-mnist-top1';
import { findLayers, type Layer } from '../src/core/layers';
import { mapModel } from '../src/core/mapper/rules';
import { loadModel, type LoadedModel } from '../src/core/onnx/load';
import type { Plan, PlanLayer } from '../src/core/plan';
import { buildMasks } from '../src/core/prune/masks';
import { writePrunedModel } from '../src/core/prune/write';
import { getScheme } from '../src/core/schemes/registry';
import type { SchemeSpec } from '../src/core/schemes/scheme';
import { geometryOf } from '../src/core/schemes/weight-matrix';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const modelPath = path.resolve(option('--model', 'samples/fashion-cnn.onnx'));
const target = option('--target', 'snapdragon855-cpu');

/** idx-ubyte test set → images as float32 [N,1,28,28] in [0,1], labels as bytes. */


/** Every layer the scheme can take at this compression; the others stay dense. */
function uniformPlan(layers: readonly Layer[], spec: Omit<SchemeSpec, 'rate'>, compression: number): Plan | undefined {
  const rate = 1 - 1 / compression;
  const entries: Record<string, PlanLayer> = {};
  for (const layer of layers) {
    const full = { ...spec, rate } as SchemeSpec;
    if (getScheme(spec.scheme)!.feasible(geometryOf(layer), full).ok) entries[layer.id] = full;
  }
  return Object.keys(entries).length ? { model: path.basename(modelPath), target, layers: entries } : undefined;
}

const schemeRows: { label: string; spec: (x: number) => Omit<SchemeSpec, 'rate'> }[] = [
  { label: 'unstructured', spec: () => ({ scheme: 'unstructured' }) },
  { label: 'filter', spec: () => ({ scheme: 'filter' }) },
  { label: 'channel', spec: () => ({ scheme: 'channel' }) },
  { label: 'pattern (6 shapes)', spec: () => ({ scheme: 'pattern', patterns: 6 }) },
  { label: 'block-punched 8×4', spec: () => ({ scheme: 'block-punched', block: [8, 4] }) },
  { label: 'block-bcr 8×4', spec: () => ({ scheme: 'block-bcr', block: [8, 4] }) },
  { label: 'n:m (1:2, 1:4, 1:8)', spec: (x) => ({ scheme: 'nm', n: 1, m: x }) },
];

async function evaluate(loaded: LoadedModel, layers: readonly Layer[], plan: Plan, data: TestSet, dir: string) {
  const out = path.join(dir, `pruned-${Math.random().toString(36).slice(2)}.onnx`);
  const report = await writePrunedModel(loaded, buildMasks(loaded, layers, plan), out, { layers, durable: false });
  const acc = await top1(out, data);
  fs.rmSync(out, { force: true });
  return { acc, compression: report.totals.compression, prunedLayers: report.layers.filter((l) => l.zeros > 0).length };
}

async function main() {
  const data = testSet();
  const loaded = loadModel(modelPath, { inMemory: true });
  const layers = findLayers(loaded.model, loaded.tensors);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prunemap-accuracy-'));
  const dense = await top1(modelPath, data);
  const fmt = (r: { acc: number; compression: number; prunedLayers: number } | undefined) =>
    r ? `${(r.acc * 100).toFixed(2)}% (${r.compression.toFixed(2)}×, ${r.prunedLayers} layers)` : 'n/a (infeasible)';
  const rows: string[] = [];
  for (const row of schemeRows) {
    const cells: string[] = [];
    for (const x of [2, 4, 8]) {
      const plan = uniformPlan(layers, row.spec(x), x);
      cells.push(fmt(plan ? await evaluate(loaded, layers, plan, data, dir) : undefined));
    }
    rows.push(`| ${row.label} | ${cells.join(' | ')} |`);
    console.log(rows[rows.length - 1]);
  }
  const ruleCells: string[] = [];
  for (const x of [2, 4, 8]) {
    const plan = mapModel(loaded.model, layers, loaded.tensors, { target, compression: x, modelName: path.basename(modelPath) });
    ruleCells.push(fmt(await evaluate(loaded, layers, plan, data, dir)));
  }
  rows.push(`| **rule-based plan** (${target}) | ${ruleCells.join(' | ')} |`);
  console.log(rows[rows.length - 1]);
  fs.rmSync(dir, { recursive: true, force: true });
  loaded.close();
  const doc = [
    '# Accuracy of one-shot pruning on the bundled sample',
    '',
    `Top-1 of \`samples/${path.basename(modelPath)}\` on the full fashion-mnist test set (10,000 images), dense and`,
    'pruned one-shot — no fine-tuning — by each scheme at 2×, 4× and 8× compression of the layers the',
    'scheme can take (the others stay dense; the cell gives the compression achieved over all prunable',
    'weights and how many layers were pruned), and by the rule-based plan at the same targets. Pattern',
    'pruning removes at least 5/9 of a layer, so it has no 2× column. Fine-tuning recovers accuracy;',
    'see the training hand-off in a later issue.',
    '',
    `Dense: **${(dense * 100).toFixed(2)}%**. Produced by \`npx tsx bench/accuracy.ts\` on ${new Date().toISOString().slice(0, 10)}.`,
    '',
    '| scheme | 2× | 4× | 8× |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
  fs.writeFileSync(path.resolve('docs/accuracy.md'), doc);
  console.log(`dense ${(dense * 100).toFixed(2)}%; wrote docs/accuracy.md`);
}

void main();
