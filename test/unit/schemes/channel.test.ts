// Channel pruning by hand: every weight reading one input channel, lowest L2 first.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { channel } from '../../../src/core/schemes/channel';
import type { SchemeSpec } from '../../../src/core/schemes/scheme';
import { geometry, transpose, zerosOf } from './geometry';

const spec = (rate: number): SchemeSpec => ({ scheme: 'channel', rate });
const f32 = (v: number[]) => new Float32Array(v);

test('Gemm transB=1: channel c is column c; a tie → the lower channel; transB=0 gives the same logical mask', () => {
  // Logical W[2][4]: channel norms c0 √2, c1 0.1·√2, c2 2√2, c3 0.1·√2 (ties with c1).
  const logical = f32([1, 0.1, 2, 0.1, 1, 0.1, 2, -0.1]);
  const g1 = geometry('Gemm', [2, 4], { transB: 1 });
  assert.deepEqual([...channel.mask(g1, [logical], spec(0.25))[0]], [1, 0, 1, 1, 1, 0, 1, 1]);
  const half = channel.mask(g1, [logical], spec(0.5))[0];
  assert.deepEqual([...half], [1, 0, 1, 0, 1, 0, 1, 0]);
  // transB=0 stores [4][2]: channel c is row c of the tensor.
  const t0 = channel.mask(geometry('Gemm', [4, 2], { transB: 0 }), [transpose(logical, 2, 4)], spec(0.5))[0];
  assert.deepEqual(zerosOf(t0), [2, 3, 6, 7]);
  assert.deepEqual([...t0], [...transpose(half, 2, 4)]);
});

test('Conv [2,3,3,3]: channel c is W[:, c, :, :], 18 weights at f·27 + c·9 + k', () => {
  // Channel norms: c0 = 1 per weight, c1 = 3, c2 = 2 → rate 1/3 prunes channel 0.
  const w = f32(Array.from({ length: 54 }, (_, i) => [1, 3, 2][Math.floor(i / 9) % 3]));
  const zeros = zerosOf(channel.mask(geometry('Conv', [2, 3, 3, 3]), [w], spec(1 / 3))[0]);
  assert.deepEqual(zeros, [0, 1, 2, 3, 4, 5, 6, 7, 8, 27, 28, 29, 30, 31, 32, 33, 34, 35]);
});

test('grouped Conv: channels of every group compete together', () => {
  // Conv [2,2,1,1] group 2 (C = 4): group 1 = filter 0 reading channels 0, 1; group 2 = filter 1 reading 2, 3.
  // Weights [[5, 0.2], [0.1, 6]]: the two lowest channels are group 2's channel 0 and group 1's channel 1.
  const m = channel.mask(geometry('Conv', [2, 2, 1, 1], { group: 2 }), [f32([5, 0.2, 0.1, 6])], spec(0.5))[0];
  assert.deepEqual([...m], [1, 0, 0, 1]);
});

test('ConvTranspose W[C][F][k]: input channel c is row c of the tensor', () => {
  // C = 3, F = 2, K = 1; channel 1 is the weakest.
  const m = channel.mask(geometry('ConvTranspose', [3, 2, 1, 1]), [f32([1, 1, 0.1, 0.1, 2, 2])], spec(1 / 3))[0];
  assert.deepEqual([...m], [1, 1, 0, 0, 1, 1]);
});

test('GRU W and R: input channels and hidden channels compete together', () => {
  // W[1][3][2] (input 2), R[1][3][1] (H 1): channels W:c0 (3 weights), W:c1, R:c0; 9 weights.
  // Norms: W:c0 = √3·1, W:c1 = √3·2, R:c0 = √3·0.5 → rate 1/3 prunes R's channel.
  const W = f32([1, 2, 1, 2, 1, 2]);
  const R = f32([0.5, 0.5, 0.5]);
  const m = channel.mask(geometry('GRU', [1, 3, 2], { recurrent: [1, 3, 1] }), [W, R], spec(1 / 3));
  assert.deepEqual(m.map((x) => [...x]), [[1, 1, 1, 1, 1, 1], [0, 0, 0]]);
  // Rate 2/3 (target 6): R (3) then W:c0 (3) → 6.
  assert.deepEqual(channel.mask(geometry('GRU', [1, 3, 2], { recurrent: [1, 3, 1] }), [W, R], spec(2 / 3)).map((x) => [...x]), [[0, 1, 0, 1, 0, 1], [0, 0, 0]]);
});

test('rate exactness: to the nearest channel', () => {
  const g = geometry('Conv', [2, 4, 3, 3]); // 72 weights, 18 per channel
  const w = f32(Array.from({ length: 72 }, (_, i) => 1 + (Math.floor(i / 9) % 4)));
  for (const [rate, channels] of [[0.1, 0], [0.2, 1], [0.37, 1], [0.38, 2], [0.9, 4]] as const) {
    assert.equal(zerosOf(channel.mask(g, [w], spec(rate))[0]).length, 18 * channels, `rate ${rate}`);
  }
});
