// Unstructured pruning by hand: the smallest |w| go first, ties → the lower GEMM-view index.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { unstructured } from '../../../src/core/schemes/unstructured';
import type { SchemeSpec } from '../../../src/core/schemes/scheme';
import { geometry, prng, randomWeights, transpose, zerosOf } from './geometry';

const spec = (rate: number): SchemeSpec => ({ scheme: 'unstructured', rate });
const f32 = (v: number[]) => new Float32Array(v);

test('smallest magnitudes are pruned; a tie in |w| goes to the lower index', () => {
  const g = geometry('Gemm', [2, 4], { transB: 1 });
  const w = f32([0.5, -0.1, 0.3, -0.3, 0.2, 0.1, -0.9, 0.05]);
  // |w| ascending: 0.05 (7), 0.1 (1), 0.1 (5), 0.2 (4), 0.3 (2), 0.3 (3), 0.5 (0), 0.9 (6).
  assert.deepEqual([...unstructured.mask(g, [w], spec(2 / 8))[0]], [1, 0, 1, 1, 1, 1, 1, 0]); // 7, then 1 before 5
  assert.deepEqual([...unstructured.mask(g, [w], spec(3 / 8))[0]], [1, 0, 1, 1, 1, 0, 1, 0]);
  assert.deepEqual([...unstructured.mask(g, [w], spec(5 / 8))[0]], [1, 0, 0, 1, 0, 0, 1, 0]); // 0.3 tie: 2 before 3
  assert.deepEqual([...unstructured.mask(g, [w], spec(0))[0]], [1, 1, 1, 1, 1, 1, 1, 1]);
});

test('Gemm transB=0 stores the same logical matrix transposed and gets the same logical mask, ties included', () => {
  // Logical W[2][4]; a tie between logical (0,3) and (1,0). In transB=0 storage [4][2] those sit at
  // flat 6 and 1, so tie-breaking by the logical index (3 < 4) must still prune (0,3).
  const logical = f32([0.5, 0.4, 0.3, 0.1, -0.1, 0.6, 0.7, 0.8]);
  const t1 = unstructured.mask(geometry('Gemm', [2, 4], { transB: 1 }), [logical], spec(1 / 8))[0];
  assert.deepEqual([...t1], [1, 1, 1, 0, 1, 1, 1, 1]);
  const t0 = unstructured.mask(geometry('Gemm', [4, 2], { transB: 0 }), [transpose(logical, 2, 4)], spec(1 / 8))[0];
  assert.deepEqual(zerosOf(t0), [6]); // [c=3][f=0]
  assert.deepEqual([...t0], [...transpose(t1, 2, 4)]);
});

test('grouped Conv and LSTM W + R: one global ranking over all matrices', () => {
  // Conv [2,1,1,1] group 2: two one-weight groups; the smaller weight is pruned wherever it lives.
  assert.deepEqual([...unstructured.mask(geometry('Conv', [2, 1, 1, 1], { group: 2 }), [f32([3, -1])], spec(0.5))[0]], [1, 0]);
  // RNN: W[1][2][1] = [4, 0.2], R[1][2][1] = [0.1, 5]; rate 0.5 of 4 weights → R[0] and W[1].
  const m = unstructured.mask(geometry('RNN', [1, 2, 1], { recurrent: [1, 2, 1] }), [f32([4, 0.2]), f32([0.1, 5])], spec(0.5));
  assert.deepEqual(m.map((x) => [...x]), [[1, 0], [0, 1]]);
});

test('rate exactness: zeros = rate × weights rounded to the nearest, a half going down', () => {
  const g = geometry('Conv', [4, 2, 3, 3]);
  const w = randomWeights(prng(1), [4, 2, 3, 3]);
  for (const [rate, zeros] of [[0.5, 36], [0.3, 22], [0.1, 7], [0.99, 71], [1 / 144, 0], [3 / 144, 1], [0.75, 54]] as const) {
    assert.equal(zerosOf(unstructured.mask(g, [w], spec(rate))[0]).length, zeros, `rate ${rate}`);
  }
  // 9 weights at rate 0.5: 4.5 → 4.
  assert.equal(zerosOf(unstructured.mask(geometry('Conv', [1, 1, 3, 3]), [randomWeights(prng(2), [9])], spec(0.5))[0]).length, 4);
});

test('a NaN weight ranks lowest and is pruned first', () => {
  assert.deepEqual([...unstructured.mask(geometry('Gemm', [1, 3], { transB: 1 }), [f32([0.1, NaN, 0.2])], spec(1 / 3))[0]], [1, 0, 1]);
});

test('infeasible: rate outside [0, 1); mask() of an infeasible spec throws with the reason', () => {
  const g = geometry('Gemm', [2, 4], { transB: 1 });
  assert.deepEqual(unstructured.feasible(g, spec(1.2)), { ok: false, reason: 'rate 1.2 is outside [0, 1)' });
  assert.deepEqual(unstructured.feasible(g, spec(1)), { ok: false, reason: 'rate 1 is outside [0, 1)' });
  assert.deepEqual(unstructured.feasible(g, spec(-0.1)), { ok: false, reason: 'rate -0.1 is outside [0, 1)' });
  assert.deepEqual(unstructured.feasible(g, spec(NaN)), { ok: false, reason: 'rate NaN is outside [0, 1)' });
  assert.deepEqual(unstructured.feasible(g, spec(0)), { ok: true });
  assert.throws(() => unstructured.mask(g, [new Float32Array(8)], spec(1.2)), /rate 1\.2 is outside/);
  assert.throws(() => unstructured.mask(g, [new Float32Array(7)], spec(0.5)), /shorter than the layer's shape/);
});
