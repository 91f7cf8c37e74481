// Rule-based vs search-based plans (issue 7, item 2). Prints the tables and writes them into
// docs/search.md between the `bench:search` markers.
//   Sample (samples/fashion-cnn.onnx): for each rule plan of `map` at several compressions, its
//   estimated speedup S and REAL top-1 on the full fashion-mnist test set (10,000 images, Debian's
//   dataset-fashion-mnist), one-shot pruned (no fine-tuning); then the search plan at S (default
//   effort, seed 1) and its top-1. Together: the accuracy-vs-estimated-speedup curve of both.
//   ResNet-18 and MobileNetV2 (test/corpora/torchvision): no data here, so the PROXY — top-1
//   agreement with the dense model on generated inputs (seeded normal noise) — for the rule plan at
//   4× and the search at its speedup, with a short effort. Labelled as such.
// Pruned models are built by the real writer (in memory for these models) and run in
// onnxruntime-node.
//
// Run: bash bench/search.sh [--quick]   (--quick: the sample at 2× and 4× only, no corpus models)

import * as fs from 'node:fs';
import * as path from 'node:path';
import { testSet, top1 } from './fashion-mnist-top1';
import { findLayers, type Layer } from '../src/core/layers';
import { AccuracyProxy } from '../src/core/mapper/accuracy-proxy';
import { loadCalibration } from '../src/core/mapper/calibration-data';
import { PrunedCandidates } from '../src/core/mapper/pruned-candidates';
import { mapModel } from '../src/core/mapper/rules';
import { searchPlan, type SearchEffort } from '../src/core/mapper/search';
import { loadModel, type LoadedModel } from '../src/core/onnx/load';
import type { Plan } from '../src/core/plan';
import type { SchemeSpec } from '../src/core/schemes/scheme';

const ROOT = path.resolve(__dirname, '..');
const quick = process.argv.includes('--quick');
const target = 'snapdragon855-cpu';
const sample = path.join(ROOT, 'samples', 'fashion-cnn.onnx');
const compressions = quick ? [2, 4] : [1.5, 2, 3, 4, 6, 8];
/** Short runs for the large models: 2 options per layer, few generations. */
const corpusEffort: Partial<SearchEffort> = { population: 6, generations: 3, elites: 2, polishRuns: 8, generatedSamples: 4, maxOptions: 2 };



function choicesOf(plan: Plan, layers: readonly Layer[]): Map<Layer, SchemeSpec> {
  const byId = new Map(layers.map((l) => [l.id, l]));
  const out = new Map<Layer, SchemeSpec>();
  for (const [id, entry] of Object.entries(plan.layers)) if (entry.scheme !== 'dense') out.set(byId.get(id)!, entry);
  return out;
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const schemesOf = (plan: Plan) => {
  const counts = new Map<string, number>();
  for (const l of Object.values(plan.layers)) if (l.scheme !== 'dense') counts.set(l.scheme, (counts.get(l.scheme) ?? 0) + 1);
  return [...counts].map(([s, n]) => `${s} ×${n}`).join(', ') || 'none';
};

async function sampleRows(lines: string[]): Promise<void> {
  const data = testSet();
  const loaded: LoadedModel = loadModel(sample);
  const layers = findLayers(loaded.model, loaded.tensors);
  const candidates = new PrunedCandidates(loaded, layers);
  try {
    const dense = await top1(sample, data);
    lines.push(`Dense top-1: **${pct(dense)}**.`, '');
    lines.push('| rule plan (map) | estimated speedup S | rule top-1 | search top-1 at ≥ S | search speedup | search compression | search schemes | search time (busy machine) |');
    lines.push('| --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const c of compressions) {
      const rule = mapModel(loaded.model, layers, loaded.tensors, { target, compression: c, modelName: 'fashion-cnn.onnx' });
      const S = rule.summary!.speedup;
      const ruleTop1 = await top1(await candidates.build(choicesOf(rule, layers)), data);
      const t0 = performance.now();
      const search = await searchPlan(sample, { target, speedup: S, seed: 1 });
      const seconds = (performance.now() - t0) / 1000;
      const searchTop1 = await top1(await candidates.build(choicesOf(search, layers)), data);
      const row = `| ${c}× compression | ${S.toFixed(3)}× | ${pct(ruleTop1)} | **${pct(searchTop1)}** | ${search.summary!.speedup.toFixed(3)}× | ${search.summary!.compression.toFixed(2)}× | ${schemesOf(search)} | ${seconds.toFixed(0)} s |`;
      lines.push(row);
      console.log(row);
    }
  } finally {
    candidates.close();
    loaded.close();
  }
}

async function corpusRows(lines: string[]): Promise<void> {
  lines.push('| model | rule plan at 4×: speedup | rule agreement (proxy) | search agreement (proxy) at ≥ S | search speedup | search time (busy machine) |');
  lines.push('| --- | --- | --- | --- | --- | --- |');
  for (const name of ['resnet18.onnx', 'mobilenet_v2.onnx']) {
    const file = path.join(ROOT, 'test', 'corpora', 'torchvision', name);
    if (!fs.existsSync(file)) {
      lines.push(`| ${name} | (missing: run \`npm run setup:reference\`) | | | | |`);
      continue;
    }
    const loaded = loadModel(file);
    const layers = findLayers(loaded.model, loaded.tensors);
    const candidates = new PrunedCandidates(loaded, layers);
    try {
      await corpusRow(name, file, loaded, layers, candidates, lines);
    } catch (err) {
      lines.push(`| ${name} | ${(err as Error).message.replace(/\|/g, '\\|')} | | | | |`);
      console.log(lines[lines.length - 1]);
    } finally {
      candidates.close();
      loaded.close();
    }
  }
}

async function corpusRow(name: string, file: string, loaded: LoadedModel, layers: readonly Layer[], candidates: PrunedCandidates, lines: string[]): Promise<void> {
  const rule = mapModel(loaded.model, layers, loaded.tensors, { target, modelName: name });
  const S = rule.summary!.speedup;
  // The same generated inputs the search uses (same seed and count).
  const calibration = loadCalibration(loaded.model, { maxSamples: 512, generatedSamples: corpusEffort.generatedSamples!, seed: 1 });
  const proxy = await AccuracyProxy.create(candidates.dense(), calibration, file);
  const ruleScore = await proxy.score(await candidates.build(choicesOf(rule, layers)), file);
  const t0 = performance.now();
  const search = await searchPlan(file, { target, speedup: S, seed: 1 }, corpusEffort);
  const seconds = (performance.now() - t0) / 1000;
  const searchScore = await proxy.score(await candidates.build(choicesOf(search, layers)), file);
  const row = `| ${name} | ${S.toFixed(3)}× | ${pct(ruleScore.agreement)} (KL ${ruleScore.kl.toPrecision(3)}) | **${pct(searchScore.agreement)}** (KL ${searchScore.kl.toPrecision(3)}) | ${search.summary!.speedup.toFixed(3)}× | ${seconds.toFixed(0)} s |`;
  lines.push(row);
  console.log(row);
}

async function main(): Promise<void> {
  const lines: string[] = [
    `Produced by \`bash bench/search.sh${quick ? ' --quick' : ''}\` on ${new Date().toISOString().slice(0, 10)}, target ${target}, seed 1; the machine was shared`,
    'with other jobs, so the times are "busy machine" figures.',
    '',
    '### The sample: real top-1 on the full fashion-mnist test set (one-shot, no fine-tuning)',
    '',
  ];
  await sampleRows(lines);
  if (!quick) {
    lines.push('', '### ResNet-18 and MobileNetV2: proxy only (generated inputs, no real data)', '');
    lines.push(`No labelled data for these models here: both plans are scored by the search's proxy, top-1 agreement with the dense model on ${corpusEffort.generatedSamples} generated inputs (seeded normal noise), and the search ran a short effort (${JSON.stringify(corpusEffort)}). Agreement on noise is a weak stand-in for accuracy; read it as "how much the plan perturbs the model".`, '');
    await corpusRows(lines);
  }
  const doc = path.join(ROOT, 'docs', 'search.md');
  const text = fs.readFileSync(doc, 'utf8');
  const begin = '<!-- bench:search:begin -->', end = '<!-- bench:search:end -->';
  const a = text.indexOf(begin), b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`docs/search.md has no ${begin} … ${end} markers`);
  const updated = text.slice(0, a + begin.length) + '\n' + lines.join('\n') + '\n' + text.slice(b);
  const temp = `${doc}.${process.pid}.tmp`;
  fs.writeFileSync(temp, updated);
  fs.renameSync(temp, doc);
  console.log('wrote docs/search.md');
}

void main();
