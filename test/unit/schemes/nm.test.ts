// N:M sparsity by hand: n kept of every m consecutive input channels, at each output row and kernel position.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { nm } from '../../../src/core/schemes/nm';
import type { SchemeSpec } from '../../../src/core/schemes/scheme';
import { geometry, transpose, zerosOf } from './geometry';

const f32 = (v: number[]) => new Float32Array(v);
const spec = (n: number, m: number, rate = 1 - n / m): SchemeSpec => ({ scheme: 'nm', rate, n, m });
const no = (reason: string) => ({ ok: false, reason });

test('2:4 keeps the two largest |w| of each group; a tie → the lower column', () => {
  const g = geometry('Gemm', [2, 8], { transB: 1 });
  const w = f32([
    0.1, -0.5, 0.3, 0.2, /* | */ 1, 1, 1, 1, // row 0: keep 1, 2 | tie of four → keep 4, 5
    -3, 0, 0, 3, /* | */ 0.5, 0.4, -0.6, 0.4, // row 1: keep 0, 3 | keep 10 (0.6), 8 (0.5)
  ]);
  assert.deepEqual([...nm.mask(g, [w], spec(2, 4))[0]], [0, 1, 1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 1, 0, 1, 0]);
  // 1:2 on the same weights: the larger of each pair (ties → the first).
  assert.deepEqual([...nm.mask(g, [w], spec(1, 2))[0]], [0, 1, 1, 0, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 1, 0]);
});

test('Conv: a group is m consecutive channels at one kernel position, never mixing positions', () => {
  // Conv [1,4,1,2]: one row, C 4, K 2, tensor index c·2 + k.
  // k = 0: channels 0…3 hold 0.1, 0.8, 0.3, 0.05 (indices 0, 2, 4, 6) → keep c1, c2.
  // k = 1: channels 0…3 hold 0.9, 0.2, 0.7, 0.6 (indices 1, 3, 5, 7) → keep c0, c2.
  const w = f32([0.1, 0.9, 0.8, 0.2, 0.3, 0.7, 0.05, 0.6]);
  assert.deepEqual([...nm.mask(geometry('Conv', [1, 4, 1, 2]), [w], spec(2, 4))[0]], [0, 1, 1, 0, 1, 1, 0, 0]);
  // 3×3, C 4, all weights equal: every (f, k) keeps channels 0 and 1 (ties → the lower channels).
  const m = nm.mask(geometry('Conv', [2, 4, 3, 3]), [f32(Array(72).fill(1))], spec(2, 4))[0];
  assert.deepEqual(zerosOf(m), [0, 1].flatMap((f) => [2, 3].flatMap((c) => Array.from({ length: 9 }, (_, k) => f * 36 + c * 9 + k))).sort((x, y) => x - y));
});

test('Gemm transB=0 and ConvTranspose store the same logical rows differently: the same logical mask', () => {
  const logical = f32([0.1, -0.5, 0.3, 0.2, 4, 3, 2, 1]); // W[2][4]
  const t1 = nm.mask(geometry('Gemm', [2, 4], { transB: 1 }), [logical], spec(2, 4))[0];
  assert.deepEqual([...t1], [0, 1, 1, 0, 1, 1, 0, 0]);
  const t0 = nm.mask(geometry('Gemm', [4, 2], { transB: 0 }), [transpose(logical, 2, 4)], spec(2, 4))[0];
  assert.deepEqual([...t0], [...transpose(t1, 2, 4)]);
  // ConvTranspose [C 4][F 2][1][1] stores the same [c][f] layout as Gemm transB=0.
  assert.deepEqual([...nm.mask(geometry('ConvTranspose', [4, 2, 1, 1]), [transpose(logical, 2, 4)], spec(2, 4))[0]], [...t0]);
});

test('grouped Conv and RNN W + R: every matrix row gets its own groups', () => {
  // Conv [2,2,1,1] group 2 (C 4): each group's matrix is 1 × 2; 1:2 per row.
  assert.deepEqual([...nm.mask(geometry('Conv', [2, 2, 1, 1], { group: 2 }), [f32([1, 2, 4, 3])], spec(1, 2))[0]], [0, 1, 1, 0]);
  const m = nm.mask(geometry('RNN', [1, 2, 2], { recurrent: [1, 2, 2] }), [f32([1, 2, 4, 3]), f32([5, 6, 8, 7])], spec(1, 2));
  assert.deepEqual(m.map((x) => [...x]), [[0, 1, 1, 0], [0, 1, 1, 0]]);
});

test('infeasible: rate other than 1 − n/m, bad n or m, input size not a multiple of m', () => {
  const g = geometry('Gemm', [2, 8], { transB: 1 });
  assert.deepEqual(nm.feasible(g, spec(2, 4, 0.6)), no('2:4 sparsity prunes exactly 0.5 of the weights; rate 0.6 does not match'));
  assert.deepEqual(nm.feasible(g, spec(2, 4, 0.5 + 1e-12)), { ok: true });
  assert.deepEqual(nm.feasible(g, spec(4, 4, 0)), no('nm needs integers n and m with 1 ≤ n < m (e.g. n 2, m 4); got n 4, m 4'));
  assert.deepEqual(nm.feasible(g, { scheme: 'nm', rate: 0.5 }), no('nm needs integers n and m with 1 ≤ n < m (e.g. n 2, m 4); got n undefined, m undefined'));
  assert.deepEqual(nm.feasible(g, spec(0, 4, 0.5)), no('nm needs integers n and m with 1 ≤ n < m (e.g. n 2, m 4); got n 0, m 4'));
  assert.deepEqual(nm.feasible(geometry('Conv', [2, 2, 3, 3]), spec(2, 4)), no('2:4 sparsity needs the input channels to be a multiple of 4; this layer has 2 input channels'));
  assert.deepEqual(nm.feasible(geometry('Conv', [4, 2, 3, 3], { group: 2 }), spec(2, 4)), no('2:4 sparsity needs the input channels to be a multiple of 4; this layer has 2 input channels per group'));
  assert.deepEqual(nm.feasible(geometry('Gemm', [2, 6], { transB: 1 }), spec(2, 4)), no('2:4 sparsity needs the input channels to be a multiple of 4; this layer has 6 inputs'));
  assert.deepEqual(nm.feasible(geometry('LSTM', [1, 8, 4], { recurrent: [1, 8, 2] }), spec(2, 4)), no('2:4 sparsity needs the input channels to be a multiple of 4; this layer has 2 inputs (R)'));
  assert.deepEqual(nm.feasible(g, spec(2, 4, 1.5)), no('rate 1.5 is outside [0, 1)'));
  assert.deepEqual(nm.feasible(geometry('Conv', [2, 4, 3, 3]), spec(2, 4)), { ok: true });
  assert.throws(() => nm.mask(g, [new Float32Array(16)], spec(2, 4, 0.6)), /rate 0\.6 does not match/);
});
