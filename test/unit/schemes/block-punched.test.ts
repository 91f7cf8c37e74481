// Block-punched pruning by hand: units are bf × bc weights at one kernel position in one block.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { blockPunched } from '../../../src/core/schemes/block-punched';
import type { SchemeSpec } from '../../../src/core/schemes/scheme';
import { geometry, prng, randomWeights, transpose, zerosOf } from './geometry';

const f32 = (v: number[]) => new Float32Array(v);
const spec = (rate: number, block: [number, number]): SchemeSpec => ({ scheme: 'block-punched', rate, block });
const no = (reason: string) => ({ ok: false, reason });

// Logical Gemm W[4][4], block [2, 2]: four 2×2 units. Unit scores (Σ over the unit's 2 columns of
// the column's L2): top-left 2 + 2 = 4, top-right 0.5 + 0.5 = 1, bottom-left 3 + 3 = 6,
// bottom-right 1 + 0 = 1 (ties with top-right, which has the lower index).
const W44 = [
  2, 0, 0.5, 0,
  0, 2, 0, 0.5,
  3, 0, 0.6, 0,
  0, 3, 0.8, 0,
];

test('K = 1 (Gemm): a unit is a whole bf × bc sub-matrix; a tie → the lower unit', () => {
  const g = geometry('Gemm', [4, 4], { transB: 1 });
  const quarter = blockPunched.mask(g, [f32(W44)], spec(0.25, [2, 2]))[0];
  assert.deepEqual([...quarter], [1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1]);
  const half = blockPunched.mask(g, [f32(W44)], spec(0.5, [2, 2]))[0];
  assert.deepEqual([...half], [1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0]);
  // transB=0 stores the same logical matrix transposed: the same logical mask.
  const t0 = blockPunched.mask(geometry('Gemm', [4, 4], { transB: 0 }), [transpose(f32(W44), 4, 4)], spec(0.5, [2, 2]))[0];
  assert.deepEqual([...t0], [...transpose(half, 4, 4)]);
});

test('K > 1: a unit is the block\'s weights at one kernel position', () => {
  // Conv [2,2,1,2]: F 2, C 2, K 2 (tensor index f·4 + c·2 + k); block [2,2] → units k=0 and k=1.
  // k=0 weights: (0,0)=1 (0,1)=1 (1,0)=1 (1,1)=1 → score √2 + √2; k=1 weights all 0.1 → lower.
  const w = f32([1, 0.1, 1, 0.1, 1, 0.1, 1, 0.1]);
  assert.deepEqual([...blockPunched.mask(geometry('Conv', [2, 2, 1, 2]), [w], spec(0.5, [2, 2]))[0]], [1, 0, 1, 0, 1, 0, 1, 0]);
});

test('score = Σ over channels of the L2 of the rows, not the L2 of the whole unit', () => {
  // Gemm [2][4], block [2, 2]: unit 0 = columns 0, 1; unit 1 = columns 2, 3.
  // Unit 0: column norms ‖(3, 4)‖ = 5 and ‖(0, 0)‖ = 0 → Σ = 5 (its whole-unit L2 is 5 too).
  // Unit 1: column norms ‖(2.6, 0)‖ + ‖(2.6, 0)‖ → Σ = 5.2, though its whole-unit L2 is only ≈ 3.68.
  // So the scheme's score prunes unit 0, where a whole-unit L2 would have pruned unit 1.
  const w = f32([3, 0, 2.6, 2.6, 4, 0, 0, 0]);
  assert.deepEqual([...blockPunched.mask(geometry('Gemm', [2, 4], { transB: 1 }), [w], spec(0.5, [2, 2]))[0]], [0, 0, 1, 1, 0, 0, 1, 1]);
});

test('partial last block: feasible with a note; a partial unit is scored per weight, like a full one', () => {
  // Gemm [3][4] block [2, 2]: row blocks {0,1} and {2}; units (0,0) (0,1) of 4 weights, (1,0) (1,1) of 2.
  const g = geometry('Gemm', [3, 4], { transB: 1 });
  assert.deepEqual(blockPunched.feasible(g, spec(0.5, [2, 2])), { ok: true, note: 'last filter block has 1 row' });
  // All weights 1: full units score 2·√2, partial units 2·1 scaled by (2/2)·√(2/1) = 2·√2 — a tie,
  // so the lower unit (a full one) goes first; unscaled, the partial units would be pruned first.
  const ones = f32(Array(12).fill(1));
  assert.deepEqual(zerosOf(blockPunched.mask(g, [ones], spec(4 / 12, [2, 2]))[0]), [0, 1, 4, 5]);
  // Weights 1 except the partial row at 0.9 per weight: now the partial units are weaker per weight.
  const w = f32([1, 1, 1, 1, 1, 1, 1, 1, 0.9, 0.9, 0.9, 0.9]);
  assert.deepEqual(zerosOf(blockPunched.mask(g, [w], spec(2 / 12, [2, 2]))[0]), [8, 9]);
  // Gemm [4][3] block [2, 2]: the last channel block has 1 channel.
  assert.deepEqual(blockPunched.feasible(geometry('Gemm', [4, 3], { transB: 1 }), spec(0.5, [2, 2])), { ok: true, note: 'last channel block has 1 channel' });
  assert.deepEqual(blockPunched.feasible(geometry('Conv', [10, 7, 3, 3]), spec(0.5, [8, 4])), { ok: true, note: 'last filter block has 2 rows; last channel block has 3 channels' });
});

test('grouped Conv: units of every group compete together', () => {
  // Conv [4,2,1,1] group 2 (C 4): each group is a 2×2 matrix = one unit of block [2, 2].
  const w = f32([5, 5, 5, 5, 0.1, 0.1, 0.1, 0.1]);
  assert.deepEqual([...blockPunched.mask(geometry('Conv', [4, 2, 1, 1], { group: 2 }), [w], spec(0.5, [2, 2]))[0]], [1, 1, 1, 1, 0, 0, 0, 0]);
});

test('ConvTranspose: the same logical matrix as a Conv gives the same logical mask', () => {
  // Conv W[F 2][C 2][K 2] vs ConvTranspose W[C 2][F 2][K 2] holding the same logical (f, c, k) values.
  const logical = (f: number, c: number, k: number) => [[[1, 0.1], [2, 0.2]], [[3, 0.3], [0.05, 4]]][f][c][k];
  const conv = f32([0, 1].flatMap((f) => [0, 1].flatMap((c) => [0, 1].map((k) => logical(f, c, k)))));
  const convT = f32([0, 1].flatMap((c) => [0, 1].flatMap((f) => [0, 1].map((k) => logical(f, c, k)))));
  const a = blockPunched.mask(geometry('Conv', [2, 2, 1, 2]), [conv], spec(0.5, [1, 2]))[0];
  const b = blockPunched.mask(geometry('ConvTranspose', [2, 2, 1, 2]), [convT], spec(0.5, [1, 2]))[0];
  // Units (row f, k): scores f0k0 = 1 + 2 = 3, f0k1 = 0.3, f1k0 = 3.05, f1k1 = 4.3 → prune f0k1 and f0k0.
  assert.deepEqual([...a], [0, 0, 0, 0, 1, 1, 1, 1]);
  for (const f of [0, 1]) for (const c of [0, 1]) for (const k of [0, 1]) assert.equal(b[c * 4 + f * 2 + k], a[f * 4 + c * 2 + k]);
});

test('RNN W and R: units of both compete together', () => {
  // GRU W[1][6][4], R[1][6][2]; block [3, 2]: W has 4 units, R has 2; 36 weights.
  const W = f32(Array(24).fill(1));
  const R = f32([0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 2, 2, 2, 2, 2, 2]);
  const m = blockPunched.mask(geometry('GRU', [1, 6, 4], { recurrent: [1, 6, 2] }), [W, R], spec(6 / 36, [3, 2]));
  assert.deepEqual(m.map(zerosOf), [[], [0, 1, 2, 3, 4, 5]]);
});

test('rate exactness: within half a unit', () => {
  const g = geometry('Conv', [8, 8, 3, 3]); // 576 weights, block [4,2] → units of 8
  const w = randomWeights(prng(3), [8, 8, 3, 3]);
  for (const rate of [0.1, 0.25, 0.5, 0.77, 0.9]) {
    const zeros = zerosOf(blockPunched.mask(g, [w], spec(rate, [4, 2]))[0]).length;
    assert.equal(zeros, 8 * Math.round(rate * 576 / 8), `rate ${rate}`);
  }
});

test('infeasible: bad block, block larger than the layer, bad rate', () => {
  const conv = geometry('Conv', [8, 4, 3, 3]);
  assert.deepEqual(blockPunched.feasible(conv, spec(0.5, [16, 4])), no("block 16×4 is larger than this layer's 8 filters"));
  assert.deepEqual(blockPunched.feasible(conv, spec(0.5, [8, 8])), no("block 8×8 is larger than this layer's 4 input channels"));
  assert.deepEqual(blockPunched.feasible(geometry('Conv', [8, 2, 3, 3], { group: 2 }), spec(0.5, [8, 2])), no("block 8×2 is larger than this layer's 4 filters per group"));
  assert.deepEqual(blockPunched.feasible(geometry('Gemm', [8, 16], { transB: 1 }), spec(0.5, [16, 4])), no("block 16×4 is larger than this layer's 8 outputs"));
  assert.deepEqual(blockPunched.feasible(geometry('LSTM', [1, 8, 10], { recurrent: [1, 8, 2] }), spec(0.5, [4, 4])), no("block 4×4 is larger than this layer's 2 inputs (R)"));
  const bad = 'block-punched needs "block": two positive integers such as [8, 4]';
  assert.deepEqual(blockPunched.feasible(conv, { scheme: 'block-punched', rate: 0.5 }), no(bad));
  assert.deepEqual(blockPunched.feasible(conv, spec(0.5, [0, 4])), no(bad));
  assert.deepEqual(blockPunched.feasible(conv, spec(0.5, [2.5, 4])), no(bad));
  assert.deepEqual(blockPunched.feasible(conv, spec(1.2, [8, 4])), no('rate 1.2 is outside [0, 1)'));
  assert.deepEqual(blockPunched.feasible(conv, spec(0.5, [8, 4])), { ok: true });
});
