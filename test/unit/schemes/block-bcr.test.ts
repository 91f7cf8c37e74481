// Block column-row (BCR) pruning by hand: inside each block, whole block-rows and block-columns,
// all ranked together by RMS (L2 per weight), overlap counted once.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { blockBcr } from '../../../src/core/schemes/block-bcr';
import type { SchemeSpec } from '../../../src/core/schemes/scheme';
import { geometry, prng, randomWeights, transpose, zerosOf } from './geometry';

const f32 = (v: number[]) => new Float32Array(v);
const spec = (rate: number, block: [number, number]): SchemeSpec => ({ scheme: 'block-bcr', rate, block });
const no = (reason: string) => ({ ok: false, reason });

// Logical Gemm W[4][4], block [2, 2]: four blocks; every other weight is 9, so only the top-left
// block [[0.1, 0.2], [0.3, 5]] has weak units. Its RMS: row 0 √((0.01+0.04)/2) ≈ 0.158, column 0
// √((0.01+0.09)/2) ≈ 0.224, row 1 ≈ column 1 ≈ 3.54.
const W44 = [
  0.1, 0.2, 9, 9,
  0.3, 5, 9, 9,
  9, 9, 9, 9,
  9, 9, 9, 9,
];

test('a block-row, then a crossing block-column that adds only its one new zero', () => {
  const g = geometry('Gemm', [4, 4], { transB: 1 });
  // Target 3: row 0 of the block (2 zeros), then column 0 (its (0,0) already zero: +1) → 3.
  const m = blockBcr.mask(g, [f32(W44)], spec(3 / 16, [2, 2]))[0];
  assert.deepEqual(zerosOf(m), [0, 1, 4]);
  // Target 2: just the block-row.
  assert.deepEqual(zerosOf(blockBcr.mask(g, [f32(W44)], spec(2 / 16, [2, 2]))[0]), [0, 1]);
  // transB=0: the same logical mask.
  const t0 = blockBcr.mask(geometry('Gemm', [4, 4], { transB: 0 }), [transpose(f32(W44), 4, 4)], spec(3 / 16, [2, 2]))[0];
  assert.deepEqual([...t0], [...transpose(m, 4, 4)]);
});

test('rows and columns of different lengths compete per weight; a tie → block rows before columns', () => {
  // Gemm [2][4], block [2, 4]: one block; rows of 4 weights, columns of 2.
  // Row 0 = [1, 1, 1, 1] (RMS 1); row 1 = [1, 2, 2, 2]; column 0 = (1, 1) (RMS 1, ties with row 0).
  const w = f32([1, 1, 1, 1, 1, 2, 2, 2]);
  const g = geometry('Gemm', [2, 4], { transB: 1 });
  // Target 4: row 0 (unit 0) wins the tie with column 0 (unit 2) → the first row.
  assert.deepEqual(zerosOf(blockBcr.mask(g, [w], spec(0.5, [2, 4]))[0]), [0, 1, 2, 3]);
  // Target 5: row 0 (4), then column 0 adds 1 → 5.
  assert.deepEqual(zerosOf(blockBcr.mask(g, [w], spec(5 / 8, [2, 4]))[0]), [0, 1, 2, 3, 4]);
});

test('K > 1: columns are c·K + k of the GEMM view', () => {
  // Conv [2,2,1,2]: GEMM columns j = c·2 + k, tensor index f·4 + j; block [2, 2] → blocks {j0, j1} and {j2, j3}.
  // Column j = 3 (c 1, k 1) is the weakest.
  const w = f32([5, 5, 5, 0.1, 5, 5, 5, 0.2]);
  assert.deepEqual(zerosOf(blockBcr.mask(geometry('Conv', [2, 2, 1, 2]), [w], spec(2 / 8, [2, 2]))[0]), [3, 7]);
});

test('ConvTranspose: the same logical matrix as a Conv gives the same logical mask', () => {
  const rand = prng(11);
  const values = Array.from({ length: 3 * 4 * 4 }, () => rand() * 2 - 1); // logical (f 3, c 4, k 4)
  const lv = (f: number, c: number, k: number) => values[f * 16 + c * 4 + k];
  const conv = f32([0, 1, 2].flatMap((f) => [0, 1, 2, 3].flatMap((c) => [0, 1, 2, 3].map((k) => lv(f, c, k)))));
  const convT = f32([0, 1, 2, 3].flatMap((c) => [0, 1, 2].flatMap((f) => [0, 1, 2, 3].map((k) => lv(f, c, k)))));
  for (const rate of [0.2, 0.5, 0.8]) {
    const a = blockBcr.mask(geometry('Conv', [3, 4, 2, 2]), [conv], spec(rate, [2, 3]))[0];
    const b = blockBcr.mask(geometry('ConvTranspose', [4, 3, 2, 2]), [convT], spec(rate, [2, 3]))[0];
    for (let f = 0; f < 3; f++) for (let c = 0; c < 4; c++) for (let k = 0; k < 4; k++) assert.equal(b[c * 12 + f * 4 + k], a[f * 16 + c * 4 + k]);
  }
});

test('LSTM W and R: units of both matrices compete together', () => {
  // W[1][4][2] all 1 (every unit RMS 1); R = [[3, 0.5], [0.5, 3], [0.5, 0.5], [0.5, 0.5]]; block [4, 2]
  // makes each matrix one block. R's columns: RMS √((9 + 3·0.25)/4) ≈ 1.56; rows 0, 1 ≈ 2.15;
  // rows 2, 3: 0.5, the lowest of the layer → target 4 = R's rows 2 and 3.
  const W = f32(Array(8).fill(1));
  const R = f32([3, 0.5, 0.5, 3, 0.5, 0.5, 0.5, 0.5]);
  const m = blockBcr.mask(geometry('LSTM', [1, 4, 2], { recurrent: [1, 4, 2] }), [W, R], spec(4 / 16, [4, 2]));
  assert.deepEqual(m.map(zerosOf), [[], [4, 5, 6, 7]]);
});

test('partial blocks: feasible with a note; a block larger than the layer is not', () => {
  assert.deepEqual(blockBcr.feasible(geometry('Gemm', [5, 6], { transB: 1 }), spec(0.5, [2, 4])), { ok: true, note: 'last row block has 1 row; last column block has 2 columns' });
  assert.deepEqual(blockBcr.feasible(geometry('Conv', [4, 2, 3, 3]), spec(0.5, [4, 16])), { ok: true, note: 'last column block has 2 columns' });
  assert.deepEqual(blockBcr.feasible(geometry('Conv', [4, 2, 3, 3]), spec(0.5, [4, 32])), no("block 4×32 is larger than this layer's 18 weight columns (2 input channels × 9 kernel positions)"));
  assert.deepEqual(blockBcr.feasible(geometry('Gemm', [4, 8], { transB: 1 }), spec(0.5, [8, 2])), no("block 8×2 is larger than this layer's 4 outputs"));
  assert.deepEqual(blockBcr.feasible(geometry('Gemm', [4, 8], { transB: 1 }), spec(0.5, [2, 16])), no("block 2×16 is larger than this layer's 8 inputs"));
  assert.deepEqual(blockBcr.feasible(geometry('Gemm', [4, 8], { transB: 1 }), { scheme: 'block-bcr', rate: 0.5, block: [2, -1] as unknown as [number, number] }), no('block-bcr needs "block": two positive integers such as [8, 4]'));
  assert.deepEqual(blockBcr.feasible(geometry('Gemm', [4, 8], { transB: 1 }), spec(-1, [2, 2])), no('rate -1 is outside [0, 1)'));
  // A partial unit at the end: Gemm [3][3] block [2, 2], every weight equal → all units tie at RMS 1;
  // the first unit (row 0 of block (0,0), 2 weights) goes first.
  assert.deepEqual(zerosOf(blockBcr.mask(geometry('Gemm', [3, 3], { transB: 1 }), [f32(Array(9).fill(1))], spec(2 / 9, [2, 2]))[0]), [0, 1]);
});

test('rate exactness: within half a block-row or block-column, for many rates', () => {
  const g = geometry('Conv', [8, 4, 3, 3]); // 288 weights; block [4, 6]: rows of 6, columns of 4
  const w = randomWeights(prng(5), [8, 4, 3, 3]);
  for (let rate = 0; rate < 1; rate += 0.05) {
    const zeros = zerosOf(blockBcr.mask(g, [w], spec(rate, [4, 6]))[0]).length;
    assert.ok(Math.abs(zeros - rate * 288) <= 3 + 1e-9, `rate ${rate}: ${zeros} zeros`);
  }
});
