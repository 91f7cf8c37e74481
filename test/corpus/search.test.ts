// searchPlan on real models with a small effort (the checks do not depend on how good the plan
// is): the same seed gives the same plan; cancellation throws an AbortError and leaves nothing
// behind; the plan is `map`'s format and passes validatePlan; pruned by `prunemap prune`, it passes
// the independent structure checker (scripts/reference/check_structure.py); its latency figures
// are the latency model's (recomputed here with estimateLayer); calibration from a .npy folder
// written by numpy, and generated inputs for a model without data.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findLayers } from '../../src/core/layers';
import { estimateLayer } from '../../src/core/latency/estimate';
import { getProfile } from '../../src/core/latency/profiles';
import { searchPlan, type SearchEffort } from '../../src/core/mapper/search';
import { loadModel } from '../../src/core/onnx/load';
import type { Plan } from '../../src/core/plan';
import { validatePlan } from '../../src/core/plan-validate';

const root = path.resolve(__dirname, '..', '..');
const sample = path.join(root, 'samples', 'fashion-cnn.onnx');
const mlp = path.join(root, 'test', 'corpora', 'torchvision', 'mlp.onnx');
const PYTHON = path.join(root, '.venv-ref', 'bin', 'python');
const QUICK: Partial<SearchEffort> = { population: 4, generations: 2, elites: 2, maxCalibrationSamples: 64, polishRuns: 4 };
const target = 'snapdragon855-cpu';

function searchTemps(): string[] {
  return fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('prunemap-search-'));
}

test('the same seed gives the same plan; it meets the speedup and validates', async () => {
  const a = await searchPlan(sample, { target, speedup: 1.15, seed: 3 }, QUICK);
  const b = await searchPlan(sample, { target, speedup: 1.15, seed: 3 }, QUICK);
  assert.deepEqual(a, b);
  assert.ok(a.summary && a.summary.speedup >= 1.15, JSON.stringify(a.summary));

  const loaded = loadModel(sample);
  try {
    const layers = findLayers(loaded.model, loaded.tensors);
    const { problems } = validatePlan(JSON.parse(JSON.stringify(a)), loaded.model, layers, { modelPath: sample });
    assert.deepEqual(problems.filter((p) => p.severity === 'error'), []);
    assert.deepEqual(Object.keys(a), ['model', 'modelSha256', 'target', 'layers', 'summary']);
    assert.deepEqual(Object.keys(a.layers), layers.map((l) => l.id), 'every layer, in layer order, as map lists them');
    // Latency figures: the latency model's own estimates, summed as map's summary defines them.
    const profile = getProfile(target)!;
    let dense = 0, pruned = 0, all = 0, kept = 0;
    for (const layer of layers) {
      const entry = a.layers[layer.id];
      assert.match(entry.reason ?? '', /^search: /);
      const d = estimateLayer(layer, 'dense', profile).ms;
      const p = estimateLayer(layer, entry.scheme === 'dense' ? 'dense' : entry, profile).ms;
      assert.ok(Math.abs(entry.latency!.denseMs - d) <= 1e-5 * d && Math.abs(entry.latency!.prunedMs - p) <= 1e-5 * p, layer.id);
      dense += d;
      pruned += p;
      const w = layer.weightShape.reduce((x, y) => x * y, 1);
      all += w;
      kept += w * (1 - (entry.rate ?? 0));
    }
    assert.ok(Math.abs(a.summary!.speedup - dense / pruned) <= 1e-5 * a.summary!.speedup);
    assert.ok(Math.abs(a.summary!.compression - all / kept) <= 1e-5 * a.summary!.compression);
    assert.ok(pruned <= dense / 1.15 + 1e-12, 'the estimated time meets the speedup');
  } finally {
    loaded.close();
  }
});

test('a search plan pruned by `prunemap prune` passes the independent structure checker', async () => {
  const plan = await searchPlan(sample, { target, speedup: 1.25, seed: 1 }, QUICK);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prunemap-search-test-'));
  try {
    const planFile = path.join(dir, 'plan.json'), out = path.join(dir, 'pruned.onnx');
    fs.writeFileSync(planFile, JSON.stringify({ ...plan, model: sample }));
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'src', 'cli', 'main.ts'), 'prune', sample, '--plan', planFile, '-o', out], { cwd: root, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const check = spawnSync(PYTHON, [path.join(root, 'scripts', 'reference', 'check_structure.py'), '--dense', sample, '--pruned', out, '--plan', planFile, '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.equal(check.status, 0, check.stderr);
    const result = JSON.parse(check.stdout);
    assert.ok(result.ok, check.stdout);
    assert.ok(Object.values(plan.layers).some((l) => l.scheme !== 'dense'), 'something is pruned at 1.25×');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('cancellation throws an AbortError, before or during the search, and leaves no temporary files', async () => {
  const before = searchTemps();
  const early = new AbortController();
  early.abort();
  await assert.rejects(searchPlan(sample, { target, speedup: 1.2, signal: early.signal }, QUICK), (err: Error) => err.name === 'AbortError');

  const controller = new AbortController();
  let calls = 0;
  const started = searchPlan(sample, { target, speedup: 1.2, signal: controller.signal, onProgress: () => (++calls === 3 ? controller.abort() : undefined) }, QUICK);
  await assert.rejects(started, (err: Error) => err.name === 'AbortError');
  assert.equal(calls, 3, 'no progress after the cancellation');
  assert.deepEqual(searchTemps(), before);
});

test('calibration from a folder of .npy batches written by numpy; the reasons name it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prunemap-npy-calib-'));
  try {
    // Two batches of 32 test images (pixel / 255), from the fashion-mnist slice.
    const py = `
import numpy as np, sys
raw = open(sys.argv[1], 'rb').read()
img = np.frombuffer(raw, np.uint8, 64 * 784, 16).reshape(64, 1, 28, 28).astype(np.float32) / 255
np.save(sys.argv[2] + '/batch0.npy', img[:32]); np.save(sys.argv[2] + '/batch1.npy', img[32:])
`;
    const r = spawnSync(PYTHON, ['-c', py, path.join(root, 'samples', 'fashion-mnist-slice.bin'), dir], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const plan = await searchPlan(sample, { target, speedup: 1.1, calibration: dir }, QUICK);
    const pruned = Object.values(plan.layers).find((l) => l.scheme !== 'dense');
    assert.match(pruned?.reason ?? '', /on 64 samples from 2 \.npy files in prunemap-npy-calib-/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a model without data is searched on generated inputs, and says so', async () => {
  const plan: Plan = await searchPlan(mlp, { target, speedup: 1.05 }, { ...QUICK, generatedSamples: 8 });
  assert.ok(plan.summary!.speedup >= 1.05);
  const pruned = Object.values(plan.layers).filter((l) => l.scheme !== 'dense');
  assert.ok(pruned.length > 0);
  for (const l of pruned) assert.match(l.reason ?? '', /on 8 generated inputs \(seeded normal noise, no real data\)/);
});

test('a model with external data: candidates go through the writer in a temporary folder, removed at the end and on cancel', async () => {
  const model = path.join(root, 'test', 'corpora', 'external', 'squeezenet1_1', 'squeezenet1_1.onnx');
  const tiny: Partial<SearchEffort> = { population: 2, generations: 1, elites: 1, polishRuns: 1, generatedSamples: 1, maxOptions: 1 };
  const before = searchTemps();
  let sawTemp = false;
  const plan = await searchPlan(model, { target, speedup: 1.05, onProgress: () => (sawTemp ||= searchTemps().length > before.length) }, tiny);
  assert.ok(sawTemp, 'candidates were written to a prunemap-search-* folder');
  assert.ok(plan.summary!.speedup >= 1.05);
  assert.deepEqual(searchTemps(), before);

  const controller = new AbortController();
  let calls = 0;
  await assert.rejects(searchPlan(model, { target, speedup: 1.05, signal: controller.signal, onProgress: () => (++calls === 2 ? controller.abort() : undefined) }, tiny),
    (err: Error) => err.name === 'AbortError');
  assert.deepEqual(searchTemps(), before);
});

test('a budget only the small savings can meet is met: the search then uses every option', async () => {
  // On the sample the layers that can each save a tenth of an average layer's time reach about 1.43×;
  // 1.46× needs the small layers too.
  const plan = await searchPlan(sample, { target, speedup: 1.46 }, QUICK);
  assert.ok(plan.summary!.speedup >= 1.46, JSON.stringify(plan.summary));
  const small = ['/features/pw2/pw2.0/Conv', '/features/pw3/pw3.0/Conv', '/classifier/fc1/Gemm', '/classifier/fc2/Gemm', '/features/dw2/dw2.0/Conv', '/features/dw3/dw3.0/Conv'];
  assert.ok(small.some((id) => plan.layers[id].scheme !== 'dense'), 'a small layer is pruned');
});
