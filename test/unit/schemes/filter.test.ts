// Filter pruning by hand: whole rows of the GEMM view (output channels), lowest L2 first.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { filter } from '../../../src/core/schemes/filter';
import type { SchemeSpec } from '../../../src/core/schemes/scheme';
import { geometry, transpose, zerosOf } from './geometry';

const spec = (rate: number): SchemeSpec => ({ scheme: 'filter', rate });
const f32 = (v: number[]) => new Float32Array(v);
/** A Conv weight whose filter f has every weight equal to v[f] (L2 ∝ |v[f]|). */
const perFilter = (v: number[], size: number) => f32(v.flatMap((x) => Array<number>(size).fill(x)));
/** The mask rows, one 0/1 per filter, when each filter is uniform. */
const rowsOf = (mask: Uint8Array, size: number) => Array.from({ length: mask.length / size }, (_, f) => {
  const row = [...mask.subarray(f * size, (f + 1) * size)];
  assert.ok(row.every((x) => x === row[0]), `row ${f} is uniform`);
  return row[0];
});

test('Conv [4,2,3,3]: lowest-norm filters go first; a tie → the lower filter', () => {
  const g = geometry('Conv', [4, 2, 3, 3]);
  const w = perFilter([1, 0.5, 2, -0.5], 18); // filters 1 and 3 tie at the lowest norm
  assert.deepEqual(rowsOf(filter.mask(g, [w], spec(0.25))[0], 18), [1, 0, 1, 1]); // 1 filter: the tie → filter 1
  assert.deepEqual(rowsOf(filter.mask(g, [w], spec(0.5))[0], 18), [1, 0, 1, 0]);
  assert.deepEqual(rowsOf(filter.mask(g, [w], spec(0.7))[0], 18), [0, 0, 1, 0]);
});

test('rate exactness: the number of filters whose zeros are closest to rate × weights', () => {
  const g = geometry('Conv', [4, 2, 3, 3]); // 72 weights, 18 per filter
  const w = perFilter([4, 3, 2, 1], 18);
  for (const [rate, filters] of [[0.3, 1], [0.4, 2], [0.6, 2], [0.62, 2], [0.63, 3], [0.125, 0], [0.126, 1], [0.99, 4]] as const) {
    // 0.3·72 = 21.6 → 1 (18); 0.4·72 = 28.8 → 2 (36); 0.625·72 = 45 is the half-way point.
    assert.equal(zerosOf(filter.mask(g, [w], spec(rate))[0]).length, 18 * filters, `rate ${rate}`);
  }
});

test('grouped Conv: rows of every group compete together (both pruned filters may come from one group)', () => {
  const g = geometry('Conv', [4, 1, 3, 3], { group: 2 }); // group 1: filters 0, 1; group 2: filters 2, 3
  const w = perFilter([3, 4, 1, 2], 9);
  assert.deepEqual(rowsOf(filter.mask(g, [w], spec(0.5))[0], 9), [1, 1, 0, 0]);
});

test('Gemm transB=1 and transB=0: the same logical matrix gives the same logical mask', () => {
  // Logical W[3][4]; row norms: row 0 = 2, row 1 = 1 (lowest), row 2 = 3.
  const logical = f32([2, 0, 0, 0, 0, 0.6, 0.8, 0, 0, 0, 0, 3]);
  const t1 = filter.mask(geometry('Gemm', [3, 4], { transB: 1 }), [logical], spec(1 / 3))[0];
  assert.deepEqual([...t1], [1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1]);
  const t0 = filter.mask(geometry('Gemm', [4, 3], { transB: 0 }), [transpose(logical, 3, 4)], spec(1 / 3))[0];
  assert.deepEqual(zerosOf(t0), [1, 4, 7, 10]); // column 1 of the stored [4][3]
  assert.deepEqual([...t0], [...transpose(t1, 3, 4)]);
});

test('ConvTranspose W[C][F][k]: a filter is output channel f across every input channel', () => {
  // C = 2, F = 3, K = 1: tensor [c][f]; output 2 has the smallest norm.
  const w = f32([5, 4, 0.1, 6, 7, 0.2]);
  assert.deepEqual(zerosOf(filter.mask(geometry('ConvTranspose', [2, 3, 1, 1]), [w], spec(1 / 3))[0]), [2, 5]);
});

test('LSTM W and R rows compete together; zeros closest to the target across rows of different sizes', () => {
  // W[1][4][2] rows of 2, R[1][4][1] rows of 1; 12 weights, rate 0.25 → target 3.
  // Norms: W rows [5, 0.1, 3, 4], R rows [0.2, 6, 0.05, 7]. Ranked: R2 (1), W1 (2) → 3 zeros;
  // R0 would make 4, further from 3 than 3 is, so it stays.
  const W = f32([5, 0, 0.1, 0, 3, 0, 4, 0]);
  const R = f32([0.2, 6, 0.05, 7]);
  const m = filter.mask(geometry('LSTM', [1, 4, 2], { recurrent: [1, 4, 1] }), [W, R], spec(0.25));
  assert.deepEqual(m.map((x) => [...x]), [[1, 1, 0, 0, 1, 1, 1, 1], [1, 1, 0, 1]]);
});

test('infeasible only for a bad rate', () => {
  assert.deepEqual(filter.feasible(geometry('Conv', [4, 2, 3, 3]), spec(1.5)), { ok: false, reason: 'rate 1.5 is outside [0, 1)' });
  assert.deepEqual(filter.feasible(geometry('MatMul', [2, 4, 3]), spec(0.5)), { ok: true });
});
