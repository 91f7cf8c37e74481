// The latency model (src/core/latency): hand-computed estimates on a tiny profile with round
// numbers, layer classes, and the built-in profiles' shape and stated design.
//
// Tiny profile: peak 1 GMAC/s = 10^6 MACs per ms; bandwidth 1 GB/s = 10^6 bytes per ms; overhead
// 0.1 ms; dense efficiency 0.5 (depthwise 0.25); block-punched keep = 0.2 + 0.6·min(1, log2(bf·bc)/4),
// i.e. saturating at bf·bc = 16.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { blockEfficiency, estimateLayer, keptEfficiency, layerClassOf } from '../../src/core/latency/estimate';
import { allProfiles, defaultTarget, getProfile, parseProfile, profileIds, type DeviceProfile } from '../../src/core/latency/profiles';
import { findLayers, type Layer } from '../../src/core/layers';
import { loadModelFromBytes } from '../../src/core/onnx/load';
import { attr, filledTensor, graph, modelBytes, node, valueInfo } from '../support/build-model';

const why = 'test';
const tiny: DeviceProfile = parseProfile({
  id: 'tiny', name: 'tiny test device', kind: 'cpu', basis: 'modelled', basisNote: 'numbers chosen for hand arithmetic', sources: ['none'],
  threads: 1, peakGmacs: 1, bandwidthGBs: 1, overheadMs: 0.1, simdLanes: 4,
  supports: { pattern: true, nm: false, why },
  dense: {
    conv3x3: { eff: 0.5, why }, conv1x1: { eff: 0.5, why }, conv: { eff: 0.5, why },
    depthwise: { eff: 0.25, why }, gemm: { eff: 0.5, why }, rnn: { eff: 0.5, why },
  },
  sparse: {
    filter: { keep: 1, why }, channel: { keep: 1, why }, pattern: { keep: 0.8, why }, nm: { keep: 0.5, why }, unstructured: { keep: 0.25, why },
    'block-punched': { floor: 0.2, max: 0.8, saturateAt: 16, why },
    'block-bcr': { floor: 0.1, max: 0.6, saturateAt: 16, why },
  },
});

function layersOf(g: Parameters<typeof graph>[0]): Layer[] {
  const { model, tensors } = loadModelFromBytes('/virtual/m.onnx', modelBytes(graph(g)));
  return findLayers(model, tensors);
}

// conv: 3×3, 16 → 32 channels, pads 1 on 32×32 (batch N symbolic = 1): output [N, 32, 32, 32].
//   MACs = 32·32·32 outputs × 16·9 = 32,768 × 144 = 4,718,592; weights 32·16·9 = 4,608.
//   activations: input 16·32·32 = 16,384 floats = 65,536 B; output 32,768 floats = 131,072 B.
// fc: Gemm transB, x [1, 1000], W [1000, 1000]: MACs 10^6, weights 10^6 (4 MB), activations 2·4,000 B.
const [conv, fc] = layersOf({
  node: [
    node('Conv', ['x', 'w'], ['y'], [attr.ints('pads', [1, 1, 1, 1])], 'conv'),
    node('Gemm', ['v', 'W'], ['z'], [attr.int('transB', 1)], 'fc'),
  ],
  initializer: [filledTensor('w', [32, 16, 3, 3]), filledTensor('W', [1000, 1000])],
  input: [valueInfo('x', 1, ['N', 16, 32, 32]), valueInfo('v', 1, [1, 1000])],
});

const close = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) < 1e-9 * Math.max(1, expected), `${what}: ${actual} ≠ ${expected}`);

test('dense 3×3 conv: compute-bound, MACs / (peak · eff) + overhead', () => {
  assert.equal(conv.macs, 4_718_592);
  const e = estimateLayer(conv, 'dense', tiny);
  // compute 4,718,592 / (10^6 · 0.5) = 9.437184 ms; bytes 4,608·4 + 65,536 + 131,072 = 215,040 → 0.21504 ms.
  close(e.ms, 9.437184 + 0.1, 'ms');
  assert.equal(e.boundBy, 'compute');
  assert.equal(e.bytesMoved, 215_040);
  assert.equal(e.macsKept, 4_718_592);
  assert.equal(e.efficiency, 0.5);
  assert.ok(e.notes.some((n) => /N counted as 1/.test(n)), 'the symbolic batch is noted');
});

test('block-punched (8,4) at rate 0.75: saturated block, index bytes per kept unit', () => {
  const e = estimateLayer(conv, { scheme: 'block-punched', rate: 0.75, block: [8, 4] }, tiny);
  // keep = 0.2 + 0.6·min(1, log2(32)/4) = 0.8 → eff 0.5·0.8 = 0.4; MACs kept 4,718,592·0.25 = 1,179,648
  // compute 1,179,648 / 400,000 = 2.94912 ms.
  // units = (32/8)·(16/4)·9 = 144 → index 2 B × 144 × 0.25 + 4 B × 4 block rows = 88 B;
  // bytes = 4,608·4·0.25 + 88 + 196,608 = 201,304.
  close(e.efficiency, 0.4, 'efficiency');
  assert.equal(e.macsKept, 1_179_648);
  close(e.bytesMoved, 201_304, 'bytes');
  close(e.ms, 2.94912 + 0.1, 'ms');
  assert.equal(e.boundBy, 'compute');
});

test('block-punched (4,2): a block below saturation keeps less efficiency', () => {
  const e = estimateLayer(conv, { scheme: 'block-punched', rate: 0.75, block: [4, 2] }, tiny);
  // keep = 0.2 + 0.6·(3/4) = 0.65 → eff 0.325; compute 1,179,648 / 325,000 ms.
  close(e.efficiency, 0.325, 'efficiency');
  close(e.ms, 1_179_648 / 325_000 + 0.1, 'ms');
});

test('pattern at rate 0.75: 3 B per kept kernel + 4 B per filter of index', () => {
  const e = estimateLayer(conv, { scheme: 'pattern', rate: 0.75, patterns: 8 }, tiny);
  // kept kernels = 32·16 · min(1, (9/4)·0.25) = 512·0.5625 = 288 → index 3·288 + 4·32 = 992 B.
  // bytes = 4,608 + 992 + 196,608 = 202,208; eff 0.5·0.8 = 0.4 → compute 2.94912 ms.
  close(e.bytesMoved, 202_208, 'bytes');
  close(e.ms, 2.94912 + 0.1, 'ms');
});

test('unstructured beats dense only above 1 − keep = 75% sparsity on this profile', () => {
  const dense = estimateLayer(conv, 'dense', tiny).ms;
  // rate 0.5: 2,359,296 / (10^6 · 0.125) = 18.874368 ms > dense; rate 0.9: 471,859.2 / 125,000 = 3.7748736 ms < dense.
  close(estimateLayer(conv, { scheme: 'unstructured', rate: 0.5 }, tiny).ms, 18.874368 + 0.1, 'rate 0.5');
  close(estimateLayer(conv, { scheme: 'unstructured', rate: 0.9 }, tiny).ms, 3.7748736 + 0.1, 'rate 0.9');
  assert.ok(estimateLayer(conv, { scheme: 'unstructured', rate: 0.7 }, tiny).ms > dense);
  assert.ok(estimateLayer(conv, { scheme: 'unstructured', rate: 0.8 }, tiny).ms < dense);
});

test('filter pruning: fewer output channels written, nothing counted for the next layer', () => {
  const e = estimateLayer(conv, { scheme: 'filter', rate: 0.5 }, tiny);
  // bytes = 4,608·4·0.5 + 65,536 + 131,072·0.5 = 140,288; compute 2,359,296 / 500,000 = 4.718592 ms.
  assert.equal(e.bytesMoved, 140_288);
  close(e.ms, 4.718592 + 0.1, 'ms');
  assert.ok(e.notes.some((n) => /next layer/.test(n)));
});

test('dense FC at batch 1 is memory-bound; block pruning cuts the bytes', () => {
  const dense = estimateLayer(fc, 'dense', tiny);
  // compute 10^6 / 500,000 = 2 ms; bytes 4,000,000 + 4,000 + 4,000 = 4,008,000 → 4.008 ms.
  assert.equal(dense.boundBy, 'memory');
  close(dense.ms, 4.008 + 0.1, 'dense ms');
  const pruned = estimateLayer(fc, { scheme: 'block-punched', rate: 0.5, block: [8, 4] }, tiny);
  // units 125·250 = 31,250 → index 2·31,250·0.5 + 4·125 = 31,750 B; bytes 2,000,000 + 31,750 + 8,000 = 2,039,750.
  assert.equal(pruned.boundBy, 'memory');
  close(pruned.bytesMoved, 2_039_750, 'bytes');
  close(pruned.ms, 2.03975 + 0.1, 'pruned ms');
});

test('layer classes', () => {
  const ls = layersOf({
    node: [
      node('Conv', ['x', 'a'], ['h1'], [], 'k7'),
      node('Conv', ['h1', 'b'], ['h2'], [attr.int('group', 8)], 'dw'),
      node('Conv', ['h2', 'c'], ['h3'], [], 'pw'),
      node('Conv', ['h3', 'd'], ['h4'], [attr.int('group', 2)], 'grouped'),
      node('LSTM', ['s', 'W', 'R'], ['Y'], [attr.int('hidden_size', 4)], 'rnn'),
      node('MatMul', ['m', 'M'], ['o'], [], 'mm'),
    ],
    initializer: [filledTensor('a', [8, 3, 7, 7]), filledTensor('b', [8, 1, 3, 3]), filledTensor('c', [8, 8, 1, 1]), filledTensor('d', [8, 4, 3, 3]),
      filledTensor('W', [1, 16, 5]), filledTensor('R', [1, 16, 4]), filledTensor('M', [6, 3])],
    input: [valueInfo('x', 1, [1, 3, 20, 20]), valueInfo('s', 1, [2, 1, 5]), valueInfo('m', 1, [1, 6])],
  });
  assert.deepEqual(ls.map((l) => [l.id, layerClassOf(l)]), [
    ['k7', 'conv'], ['dw', 'depthwise'], ['pw', 'conv1x1'], ['grouped', 'conv3x3'], ['rnn', 'rnn'], ['mm', 'gemm'],
  ]);
  // An RNN's bytes include W and R: 16·5 + 16·4 = 144 weights.
  const rnn = ls[4];
  const e = estimateLayer(rnn, 'dense', tiny);
  assert.equal(e.bytesMoved, 4 * 144 + 4 * (2 * 5) + 4 * (2 * 4));
});

test('unknown shapes count as one element and are noted', () => {
  const [l] = layersOf({
    node: [node('MatMul', ['x', 'M'], ['y'], [], 'mm')],
    initializer: [filledTensor('M', [4, 2])],
    input: [valueInfo('x', 1)],
  });
  const e = estimateLayer(l, 'dense', tiny);
  assert.ok(e.notes.some((n) => /input shape unknown/.test(n)));
  assert.ok(Number.isFinite(e.ms) && e.ms > 0);
});

test('built-in profiles: all four, host-cpu measured and the others modelled, with sources and a reason for every number', () => {
  assert.deepEqual([...profileIds].sort(), ['adreno640-gpu', 'host-cpu', 'snapdragon855-cpu', 'snapdragon865-cpu']);
  assert.ok(getProfile(defaultTarget));
  for (const p of allProfiles()) {
    const measured = p.id === 'host-cpu'; // fitted by `prunemap calibrate` (test/unit/calibrate.test.ts)
    assert.equal(p.basis, measured ? 'measured' : 'modelled', `${p.id} says how its figures were obtained`);
    assert.match(p.basisNote, measured ? /prunemap calibrate/ : /modelled/i);
    assert.ok(p.sources.some((s) => /peakGmacs/.test(s)), `${p.id} derives its peak`);
    for (const e of Object.values(p.dense)) assert.ok(e.why.length > 10);
    for (const e of Object.values(p.sparse)) assert.ok(e.why.length > 10);
  }
  assert.match(getProfile('host-cpu')!.sources.join(' '), /avx2/i);
  assert.match(getProfile('snapdragon855-cpu')!.sources.join(' '), /2\.84 GHz/);
  assert.match(getProfile('adreno640-gpu')!.sources.join(' '), /899 GFLOPS/);
  assert.equal(getProfile('adreno640-gpu')!.kind, 'gpu');
  assert.equal(getProfile('host-cpu')!.supports.pattern, false);
  assert.equal(getProfile('snapdragon855-cpu')!.supports.pattern, true);
});

test('built-in modelled efficiencies follow the design: filter 1, pattern high, unstructured low, blocks saturate', () => {
  const blocks: [number, number][] = [[4, 2], [4, 4], [8, 4], [8, 8], [16, 4], [16, 8]];
  // host-cpu's efficiencies are fitted to timings (test/unit/calibrate.test.ts), not designed.
  for (const p of allProfiles().filter((q) => q.basis === 'modelled')) {
    assert.equal(keptEfficiency(p, { scheme: 'filter', rate: 0.5 }), 1);
    assert.equal(keptEfficiency(p, { scheme: 'channel', rate: 0.5 }), 1);
    assert.ok(p.sparse.pattern.keep >= 0.7 && p.sparse.pattern.keep <= 0.9, `${p.id} pattern`);
    assert.ok(p.sparse.unstructured.keep >= 0.1 && p.sparse.unstructured.keep <= 0.3, `${p.id} unstructured`);
    // Unstructured beats dense only once 1 − p < keep, i.e. above 70–90% sparsity.
    assert.ok(1 - p.sparse.unstructured.keep >= 0.7);
    for (const s of ['block-punched', 'block-bcr'] as const) {
      const effs = blocks.map((b) => blockEfficiency(p.sparse[s], b));
      for (let i = 1; i < effs.length; i++) assert.ok(effs[i] >= effs[i - 1] - 1e-12, `${p.id} ${s} rises with block size`);
      const sat = p.sparse[s].saturateAt;
      assert.equal(blockEfficiency(p.sparse[s], [sat, 1]), p.sparse[s].max);
      assert.equal(blockEfficiency(p.sparse[s], [sat, 2]), p.sparse[s].max);
    }
    // BCR is lower than block-punched for small blocks.
    assert.ok(blockEfficiency(p.sparse['block-bcr'], [4, 2]) < blockEfficiency(p.sparse['block-punched'], [4, 2]));
  }
  // NEON fp32: (8,4) = 32 fills 4 lanes × 8 registers.
  const neon = getProfile('snapdragon855-cpu')!;
  assert.equal(blockEfficiency(neon.sparse['block-punched'], [8, 4]), neon.sparse['block-punched'].max);
  assert.ok(blockEfficiency(neon.sparse['block-punched'], [4, 4]) < neon.sparse['block-punched'].max);
  assert.match(getProfile('adreno640-gpu')!.sparse.nm.why, /sparse tensor cores|N:M hardware/);
});

test('parseProfile names the first bad field', () => {
  const bad = JSON.parse(JSON.stringify(tiny));
  bad.sparse['block-punched'].max = 0.1; // below its floor 0.2
  assert.throws(() => parseProfile(bad), /tiny: sparse\.block-punched\.max/);
  assert.throws(() => parseProfile({ ...tiny, peakGmacs: 0 }), /peakGmacs/);
  assert.throws(() => parseProfile({ ...tiny, basis: 'guessed' }), /basis/);
});
