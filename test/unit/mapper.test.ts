// The rule-based mapper (src/core/mapper) on small hand-built models: R0 (first conv, depthwise,
// classifier, small layers), R1 (3×3 → pattern or block-punched by target), R2 + R3 (1×1 →
// block-punched with the smallest block within 5% of the best), R4 (overall compression on target,
// caps, pattern floor), the graph dependency check behind filter/channel pruning, and that every
// chosen scheme is feasible.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { blockEfficiency, estimateLayer } from '../../src/core/latency/estimate';
import { getProfile } from '../../src/core/latency/profiles';
import { findLayers, type Layer } from '../../src/core/layers';
import { GraphDeps } from '../../src/core/mapper/graph-deps';
import { patternLibraryOf } from '../../src/core/mapper/pattern-library';
import { compressionOf, solveRates } from '../../src/core/mapper/rates';
import { mapModel, ruleConstants, type MapOptions } from '../../src/core/mapper/rules';
import { ModelError } from '../../src/core/errors';
import { loadModelFromBytes } from '../../src/core/onnx/load';
import type { Model } from '../../src/core/onnx/model';
import type { TensorReader } from '../../src/core/onnx/tensor-data';
import type { Plan } from '../../src/core/plan';
import { choosePatternLibrary } from '../../src/core/schemes/pattern';
import { getScheme } from '../../src/core/schemes/registry';
import { geometryOf } from '../../src/core/schemes/weight-matrix';
import { attr, filledTensor, graph, modelBytes, node, valueInfo } from '../support/build-model';

interface Built {
  model: Model;
  tensors: TensorReader;
  layers: Layer[];
}

function build(g: Parameters<typeof graph>[0]): Built {
  const { model, tensors } = loadModelFromBytes('/virtual/m.onnx', modelBytes(graph(g)));
  return { model, tensors, layers: findLayers(model, tensors) };
}

function map(b: Built, options: MapOptions): Plan {
  return mapModel(b.model, b.layers, b.tensors, options);
}

const pads = attr.ints('pads', [1, 1, 1, 1]);

// A small CNN: stem 3×3 (3 → 16) · 3×3 (16 → 32) · depthwise 3×3 · pointwise 1×1 (32 → 64) · GAP · FC 64 → 10.
const cnn = () =>
  build({
    node: [
      node('Conv', ['x', 'w0'], ['a0'], [pads], 'stem'),
      node('Relu', ['a0'], ['r0']),
      node('Conv', ['r0', 'w1'], ['a1'], [pads], 'conv3x3'),
      node('Relu', ['a1'], ['r1']),
      node('Conv', ['r1', 'wd'], ['a2'], [pads, attr.int('group', 32)], 'depthwise'),
      node('Conv', ['a2', 'wp'], ['a3'], [], 'pointwise'),
      node('Relu', ['a3'], ['r3']),
      node('GlobalAveragePool', ['r3'], ['p']),
      node('Flatten', ['p'], ['f']),
      node('Gemm', ['f', 'wf', 'bf'], ['y'], [attr.int('transB', 1)], 'classifier'),
    ],
    initializer: [filledTensor('w0', [16, 3, 3, 3]), filledTensor('w1', [32, 16, 3, 3]), filledTensor('wd', [32, 1, 3, 3]),
      filledTensor('wp', [64, 32, 1, 1]), filledTensor('wf', [10, 64]), filledTensor('bf', [10])],
    input: [valueInfo('x', 1, ['N', 3, 32, 32])],
    output: [valueInfo('y', 1, ['N', 10])],
  });

/** Prunable weights before / after, recomputed from the plan. */
function planCompression(b: Built, plan: Plan): number {
  const weights = b.layers.map((l) => geometryOf(l).matrices.reduce((n, m) => n + m.rows * m.channels * m.kernel, 0));
  return compressionOf(b.layers.map((l) => plan.layers[l.id].rate), weights);
}

function assertFeasible(b: Built, plan: Plan): void {
  for (const l of b.layers) {
    const entry = plan.layers[l.id];
    assert.ok(entry, `${l.id} has an entry`);
    assert.ok(entry.reason && entry.reason.length > 10, `${l.id} has a reason`);
    if (entry.scheme === 'dense') {
      assert.equal(entry.rate, 0);
      continue;
    }
    const scheme = getScheme(entry.scheme);
    assert.ok(scheme, `${entry.scheme} is registered`);
    const f = scheme.feasible(geometryOf(l), entry);
    assert.ok(f.ok, `${l.id}: ${entry.scheme} is feasible (${f.ok ? '' : f.reason})`);
  }
}

test('R0: the first conv on a 3-channel input, the depthwise conv stay dense; the classifier is pruned lightly', () => {
  const b = cnn();
  const plan = map(b, { target: 'snapdragon855-cpu' });
  assert.equal(plan.layers.stem.scheme, 'dense');
  assert.match(plan.layers.stem.reason!, /^first layer: reads the raw input \(3 channels\)/);
  assert.equal(plan.layers.depthwise.scheme, 'dense');
  assert.match(plan.layers.depthwise.reason!, /^depthwise conv/);
  assert.equal(plan.layers.classifier.scheme, 'block-punched');
  assert.ok(plan.layers.classifier.rate > 0 && plan.layers.classifier.rate <= ruleConstants.lightCap);
  assert.match(plan.layers.classifier.reason!, /^final classifier: .*pruned lightly \(rate ≤ 0\.5\)/);
  assertFeasible(b, plan);
});

test('R1: a 3×3 conv gets pattern + connectivity where the target has pattern kernels, block-punched elsewhere', () => {
  const b = cnn();
  const phone = map(b, { target: 'snapdragon855-cpu' }).layers.conv3x3;
  assert.equal(phone.scheme, 'pattern');
  assert.ok(phone.rate >= 5 / 9, 'pattern rate is at least 5/9');
  assert.match(phone.reason!, /3×3 conv → pattern \+ connectivity \(R1\)/);
  const host = map(b, { target: 'host-cpu' }).layers.conv3x3;
  assert.equal(host.scheme, 'block-punched');
  assert.match(host.reason!, /3×3 conv \(host-cpu has no pattern kernels\) → block-punched \(R1\)/);
  assert.ok(host.block);
});

test('pattern library: choosePatternLibrary over the model\'s pattern layers, stored in each of them', () => {
  const b = cnn();
  const plan = map(b, { target: 'snapdragon855-cpu' });
  const entry = plan.layers.conv3x3;
  // 32·16 = 512 kernels ≤ the sample budget: every kernel is counted, so it is the exact library.
  const w = b.tensors.float32(b.layers.find((l) => l.id === 'conv3x3')!.weightTensor);
  const expected = choosePatternLibrary([w], ruleConstants.patterns);
  assert.deepEqual(entry.library, expected);
  assert.equal(entry.patterns, expected.length);
});

test('R2 + R3: a 1×1 conv gets block-punched with the smallest block within 5% of the best', () => {
  for (const target of ['snapdragon855-cpu', 'host-cpu', 'adreno640-gpu']) {
    const b = cnn();
    const plan = map(b, { target });
    const entry = plan.layers.pointwise;
    assert.equal(entry.scheme, 'block-punched');
    assert.match(entry.reason!, /1×1 conv → block-punched \(R2\)/);
    // Recompute R3 from the latency model: all candidates divide 64 × 32 here.
    const layer = b.layers.find((l) => l.id === 'pointwise')!;
    const profile = getProfile(target)!;
    const dense = estimateLayer(layer, 'dense', profile).ms;
    const speedup = (block: readonly [number, number]) => dense / estimateLayer(layer, { scheme: 'block-punched', rate: entry.rate, block }, profile).ms;
    const best = Math.max(...ruleConstants.blockCandidates.map(speedup));
    const good = ruleConstants.blockCandidates.filter((c) => speedup(c) >= 0.95 * best);
    const smallest = good.reduce((a, c) => (c[0] * c[1] < a[0] * a[1] ? c : a));
    assert.deepEqual(entry.block, smallest, `${target}: R3 block`);
    assert.match(entry.reason!, new RegExp(`\\(${smallest[0]},${smallest[1]}\\) (is within 5% of the best block|gives the best|is the smallest candidate).* on ${target}`));
  }
});

test('R3 on a bigger layer: the knee is the saturating block of each target ((8,4) on NEON; host-cpu\'s measured knee)', () => {
  // A 1×1 conv 512 → 512 on 14×14: 51M MACs against 1 MB of weights and 0.8 MB of activations, so
  // it stays compute-bound when pruned and the block efficiency decides. (At 28×28 with 256 channels
  // a 91% rate makes it memory-bound, and then every block predicts about the same.)
  const b = build({
    node: [node('Conv', ['x', 'w0'], ['a'], [], 'pre'), node('Conv', ['a', 'w'], ['b'], [], 'big'), node('Conv', ['b', 'w2'], ['y'], [], 'post')],
    initializer: [filledTensor('w0', [512, 512, 1, 1]), filledTensor('w', [512, 512, 1, 1]), filledTensor('w2', [512, 512, 1, 1])],
    input: [valueInfo('x', 1, [1, 512, 14, 14])],
    output: [valueInfo('y', 1, [1, 512, 14, 14])],
  });
  const neon = map(b, { target: 'snapdragon855-cpu' }).layers.big;
  assert.deepEqual(neon.block, [8, 4]);
  // (8,4) ties with the larger saturated blocks, or is within 5% of them.
  assert.match(neon.reason!, /\(8,4\) (is within 5% of the best block \(\d+,\d+\)|gives the best predicted speedup of the candidates) on snapdragon855-cpu/);
  // host-cpu is measured (`prunemap calibrate`): its knee is the smallest candidate whose fitted
  // block efficiency is within 5% of the profile's maximum (the layer is compute-bound).
  const measured = getProfile('host-cpu')!.sparse['block-punched'];
  const knee = ruleConstants.blockCandidates.find((block) => blockEfficiency(measured, block) >= 0.95 * measured.max);
  assert.deepEqual(map(b, { target: 'host-cpu' }).layers.big.block, knee);
});

test('R4: overall compression equals the target within 1%, bigger layers get higher rates, caps hold', () => {
  for (const compression of [2, 4, 6]) {
    const b = cnn();
    const plan = map(b, { target: 'snapdragon855-cpu', compression });
    const c = planCompression(b, plan);
    assert.ok(Math.abs(c - compression) / compression < 0.01, `compression ${c} vs ${compression}`);
    assert.ok(Math.abs(plan.summary!.compression - c) < 1e-3 * c);
    for (const entry of Object.values(plan.layers)) assert.ok(entry.rate <= ruleConstants.rateCap);
    assertFeasible(b, plan);
  }
  // Same position, different sizes: the bigger layer gets the higher rate.
  const b = build({
    node: [
      node('Conv', ['x', 'w0'], ['a'], [], 'in'),
      node('Conv', ['a', 'w1'], ['b'], [], 'small'),
      node('Conv', ['b', 'w2'], ['c'], [], 'large'),
      node('Conv', ['c', 'w3'], ['d'], [], 'back'),
      node('Conv', ['d', 'w4'], ['y'], [], 'out'),
    ],
    initializer: [filledTensor('w0', [64, 64, 1, 1]), filledTensor('w1', [32, 64, 1, 1]), filledTensor('w2', [256, 32, 1, 1]),
      filledTensor('w3', [64, 256, 1, 1]), filledTensor('w4', [64, 64, 1, 1])],
    input: [valueInfo('x', 1, [1, 64, 8, 8])],
    output: [valueInfo('y', 1, [1, 64, 8, 8])],
  });
  const plan = map(b, { target: 'snapdragon855-cpu' });
  assert.ok(plan.layers.large.rate > plan.layers.small.rate, 'larger layer, higher rate');
  assert.match(plan.layers.small.reason!, /smaller than most layers/);
  assert.ok(Math.abs(planCompression(b, plan) - 4) < 0.04);
});

test('R4: when pattern layers\' 5/9 floor prunes more than asked, they become block-punched and say why', () => {
  const b = build({
    node: [
      node('Conv', ['x', 'w0'], ['a'], [pads], 'c0'),
      node('Conv', ['a', 'w1'], ['b'], [pads], 'c1'),
      node('Conv', ['b', 'w2'], ['c'], [pads], 'c2'),
      node('Conv', ['c', 'w3'], ['y'], [pads], 'c3'),
    ],
    initializer: [filledTensor('w0', [16, 16, 3, 3]), filledTensor('w1', [16, 16, 3, 3]), filledTensor('w2', [16, 16, 3, 3]), filledTensor('w3', [16, 16, 3, 3])],
    input: [valueInfo('x', 1, [1, 16, 8, 8])],
    output: [valueInfo('y', 1, [1, 16, 8, 8])],
  });
  const plan = map(b, { target: 'snapdragon855-cpu', compression: 1.5 });
  assert.ok(Math.abs(planCompression(b, plan) - 1.5) < 0.015);
  const converted = Object.values(plan.layers).filter((l) => /needs rates below the 5\/9/.test(l.reason!));
  assert.ok(converted.length > 0);
  for (const l of converted) assert.equal(l.scheme, 'block-punched');
  assertFeasible(b, plan);
});

test('small layers (< 0.5% of MACs and of weights) stay dense', () => {
  const b = build({
    node: [
      node('Conv', ['x', 'w0'], ['a'], [], 'in'),
      node('Conv', ['a', 'w1'], ['b'], [], 'body'),
      node('Conv', ['b', 'w2'], ['c'], [], 'tiny'),
      node('Conv', ['c', 'w3'], ['y'], [], 'out'),
    ],
    initializer: [filledTensor('w0', [256, 64, 1, 1]), filledTensor('w1', [256, 256, 1, 1]), filledTensor('w2', [8, 256, 1, 1]), filledTensor('w3', [256, 8, 1, 1])],
    input: [valueInfo('x', 1, [1, 64, 16, 16])],
    output: [valueInfo('y', 1, [1, 256, 16, 16])],
  });
  // tiny: 2,048 of 149,504 weights = 1.4% → not small; out: 2,048 too. Make the threshold bite with a bigger body:
  const plan = map(b, { target: 'snapdragon855-cpu' });
  assert.notEqual(plan.layers.tiny.scheme, 'dense');
  const b2 = build({
    node: [
      node('Conv', ['x', 'w0'], ['a'], [], 'in'),
      node('Conv', ['a', 'w1'], ['b'], [], 'body'),
      node('Conv', ['b', 'w2'], ['c'], [], 'tiny'),
      node('Conv', ['c', 'w3'], ['d'], [], 'body2'),
      node('Conv', ['d', 'w4'], ['y'], [], 'out'),
    ],
    initializer: [filledTensor('w0', [512, 64, 1, 1]), filledTensor('w1', [512, 512, 1, 1]), filledTensor('w2', [4, 512, 1, 1]),
      filledTensor('w3', [512, 4, 1, 1]), filledTensor('w4', [512, 512, 1, 1])],
    input: [valueInfo('x', 1, [1, 64, 16, 16])],
    output: [valueInfo('y', 1, [1, 512, 16, 16])],
  });
  // tiny: 2,048 of 561,152 weights (0.36%) and 2,048·256 of 561,152·256 MACs (0.36%).
  const plan2 = map(b2, { target: 'snapdragon855-cpu' });
  assert.equal(plan2.layers.tiny.scheme, 'dense');
  assert.match(plan2.layers.tiny.reason!, /^small layer: only 0\.36% of MACs and 0\.36% of weights/);
});

// Dependencies: a 1×1 conv with only 2 filters fits no block (all candidates have ≥ 4 rows).
const narrow = (withAdd: boolean) =>
  build({
    node: [
      node('Conv', ['x', 'wa'], ['h0'], [], 'wide'),
      node('Relu', ['h0'], ['h']),
      node('Conv', ['h', 'wb'], ['b'], [], 'narrow'),
      ...(withAdd ? [node('Conv', ['h', 'wc'], ['c'], [], 'branch'), node('Add', ['b', 'c'], ['s'])] : [node('Identity', ['b'], ['s'])]),
      node('Conv', ['s', 'wd'], ['y'], [], 'head'),
    ],
    initializer: [filledTensor('wa', [64, 8, 1, 1]), filledTensor('wb', [2, 64, 1, 1]), filledTensor('wc', [2, 64, 1, 1]), filledTensor('wd', [16, 2, 1, 1])],
    input: [valueInfo('x', 1, [1, 8, 16, 16])],
    output: [valueInfo('y', 1, [1, 16, 16, 16])],
  });

test('dependency check: filter pruning only where every consumer can drop the channel', () => {
  const b = narrow(true);
  const deps = new GraphDeps(b.model, b.layers);
  const byId = (id: string) => b.layers.find((l) => l.id === id)!;
  assert.deepEqual(deps.filterDependency(byId('wide')), { ok: true }); // feeds two group-1 convs through Relu
  const add = deps.filterDependency(byId('narrow'));
  assert.equal(add.ok, false);
  assert.match(!add.ok ? add.reason : '', /Add node adds it to another branch/);
  const shared = deps.channelDependency(byId('narrow'));
  assert.match(!shared.ok ? shared.reason : '', /also feeds 1 other node/);
  const sum = deps.channelDependency(byId('head'));
  assert.match(!sum.ok ? sum.reason : '', /sum of branches/);
  assert.match(deps.channelDependency(byId('wide')).ok ? '' : (deps.channelDependency(byId('wide')) as { reason: string }).reason, /model input/);
  assert.match((deps.filterDependency(byId('head')) as { reason: string }).reason, /model output/);
  assert.deepEqual(deps.position(byId('wide')), { before: 0, after: 2 });
  assert.deepEqual(deps.position(byId('head')), { before: 2, after: 0 });

  const dw = build({
    node: [node('Conv', ['x', 'w'], ['a'], [], 'pw'), node('Conv', ['a', 'd'], ['b'], [attr.int('group', 8)], 'dw'), node('Concat', ['b', 'x'], ['y'], [attr.int('axis', 1)])],
    initializer: [filledTensor('w', [8, 8, 1, 1]), filledTensor('d', [8, 1, 3, 3])],
    input: [valueInfo('x', 1, [1, 8, 8, 8])],
  });
  const deps2 = new GraphDeps(dw.model, dw.layers);
  assert.match((deps2.filterDependency(dw.layers[0]) as { reason: string }).reason, /depthwise conv "dw" would have to drop the same channels/);
  assert.match((deps2.filterDependency(dw.layers[1]) as { reason: string }).reason, /Concat node joins it with other branches/);
});

test('no block fits: filter pruning when the graph stays consistent, otherwise another scheme or dense, with the reason', () => {
  const ok = narrow(false);
  const plan = map(ok, { target: 'snapdragon855-cpu' });
  assert.equal(plan.layers.narrow.scheme, 'filter');
  assert.match(plan.layers.narrow.reason!, /block-punched: block 4×2 is larger than this layer's 2 filters.* → filter pruning, which keeps the graph consistent here/);
  assertFeasible(ok, plan);

  const coupled = narrow(true);
  const plan2 = map(coupled, { target: 'snapdragon855-cpu', compression: 2 });
  for (const id of ['narrow', 'branch']) {
    const e = plan2.layers[id];
    assert.equal(e.scheme, 'dense', id);
    assert.match(e.reason!, /filter pruning: the Add node adds it to another branch/);
    assert.match(e.reason!, /channel pruning: its input "h" also feeds 1 other node/);
    assert.match(e.reason!, /unstructured pruning beats dense only above 80% sparsity on snapdragon855-cpu; left dense/);
  }
  assert.ok(Math.abs(planCompression(coupled, plan2) - 2) < 0.02);
  assertFeasible(coupled, plan2);
});

test('plan shape: every layer listed with latency; summary consistent; model name and hash passed through', () => {
  const b = cnn();
  const plan = map(b, { target: 'adreno640-gpu', modelName: 'cnn.onnx', modelSha256: 'ab'.repeat(32) });
  assert.deepEqual(Object.keys(plan), ['model', 'modelSha256', 'target', 'layers', 'summary']);
  assert.equal(plan.model, 'cnn.onnx');
  assert.equal(plan.target, 'adreno640-gpu');
  assert.deepEqual(Object.keys(plan.layers), b.layers.map((l) => l.id));
  let dense = 0, pruned = 0;
  for (const e of Object.values(plan.layers)) {
    assert.ok(e.latency && e.latency.denseMs > 0 && e.latency.prunedMs > 0);
    if (e.scheme === 'dense') assert.equal(e.latency.prunedMs, e.latency.denseMs);
    dense += e.latency.denseMs;
    pruned += e.latency.prunedMs;
  }
  const s = plan.summary!;
  assert.ok(Math.abs(s.denseMs - dense) < 1e-3 * dense);
  assert.ok(Math.abs(s.prunedMs - pruned) < 1e-3 * pruned);
  assert.ok(Math.abs(s.speedup - s.denseMs / s.prunedMs) < 1e-3 * s.speedup);
  assert.deepEqual(Object.keys(plan.layers.pointwise), ['scheme', 'rate', 'block', 'reason', 'latency']);
  assert.deepEqual(Object.keys(plan.layers.stem), ['scheme', 'rate', 'reason', 'latency']);
});

test('the same model maps to the same plan (deterministic)', () => {
  assert.deepEqual(map(cnn(), { target: 'snapdragon855-cpu' }), map(cnn(), { target: 'snapdragon855-cpu' }));
});

test('errors: unknown target, compression ≤ 1, a target out of reach', () => {
  const b = cnn();
  assert.throws(() => map(b, { target: 'pixel' }), /unknown target "pixel"; known targets: host-cpu, snapdragon855-cpu, adreno640-gpu, snapdragon865-cpu/);
  assert.throws(() => map(b, { target: 'host-cpu', compression: 1 }), /compression must be a number > 1/);
  assert.throws(() => map(b, { target: 'host-cpu', compression: 100 }), (err: unknown) => err instanceof ModelError && /compression 100× is out of reach/.test(err.message) && /ask for less/.test(err.message));
});

test('solveRates: bisection hits the target; floors and caps are reported', () => {
  const layers = [
    { weights: 1000, strength: 1, floor: 0, cap: 0.95 },
    { weights: 4000, strength: 1.5, floor: 0, cap: 0.95 },
    { weights: 500, strength: 0.6, floor: 0, cap: 0.5 },
  ];
  const s = solveRates(layers, 500, 4);
  assert.ok(s.ok);
  if (s.ok) {
    assert.ok(Math.abs(s.compression - 4) < 1e-6);
    assert.ok(s.rates[1] > s.rates[0] && s.rates[0] > 0);
    assert.ok(s.rates[2] <= 0.5);
    assert.ok(Math.abs(compressionOf([...s.rates, 0], [1000, 4000, 500, 500]) - 4) < 1e-6);
  }
  const floors = solveRates([{ weights: 100, strength: 1, floor: 5 / 9, cap: 0.95 }], 0, 1.5);
  assert.deepEqual([floors.ok, !floors.ok && floors.problem], [false, 'floors']);
  const caps = solveRates([{ weights: 100, strength: 1, floor: 0, cap: 0.5 }], 100, 4);
  assert.deepEqual([caps.ok, !caps.ok && caps.problem], [false, 'caps']);
  if (!caps.ok) assert.ok(Math.abs(caps.compression - 200 / 150) < 1e-9);
});

test('pattern library sample: every kernel when the model has few, a spread deterministic sample otherwise', () => {
  const b = build({
    node: [node('Conv', ['x', 'w1'], ['a'], [pads], 'c1'), node('Conv', ['a', 'w2'], ['y'], [pads], 'c2')],
    initializer: [filledTensor('w1', [32, 16, 3, 3]), filledTensor('w2', [32, 32, 3, 3])],
    input: [valueInfo('x', 1, [1, 16, 8, 8])],
  });
  const all = [...b.tensors.float32(b.layers[0].weightTensor), ...b.tensors.float32(b.layers[1].weightTensor)];
  const full = patternLibraryOf(b.layers, b.tensors, 8, 10_000);
  assert.deepEqual([full.counted, full.total], [1536, 1536]);
  assert.deepEqual(full.library, choosePatternLibrary([new Float32Array(all)], 8));
  const sampled = patternLibraryOf(b.layers, b.tensors, 8, 100);
  assert.equal(sampled.total, 1536);
  assert.equal(sampled.counted, Math.ceil(1536 / Math.ceil(1536 / 100))); // one per stratum of 16 kernels: 96
  assert.deepEqual(patternLibraryOf(b.layers, b.tensors, 8, 100), sampled, 'deterministic');
  assert.equal(sampled.library.length, 8);
});
