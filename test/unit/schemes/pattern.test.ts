// Pattern + connectivity pruning by hand on 3×3 kernels (position k = kh·3 + kw, bit k of a mask).

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { choosePatternLibrary, pattern, topFourMask } from '../../../src/core/schemes/pattern';
import type { SchemeSpec } from '../../../src/core/schemes/scheme';
import { geometry, prng, randomWeights, zerosOf } from './geometry';

const f32 = (v: number[]) => new Float32Array(v);
const bits = (...ks: number[]) => ks.reduce((m, k) => m | (1 << k), 0);
const maskOf = (m: number) => Array.from({ length: 9 }, (_, k) => (m >> k) & 1);

const A = bits(1, 3, 4, 5); // 58: up, left, centre, right
const B = bits(1, 4, 5, 7); // 178: up, centre, right, down
const C = bits(3, 4, 5, 7); // 184: left, centre, right, down
// Energies (sum of squares kept) under A / B / C:
const k0 = [0, 1, 0, 1, 5, 1, 0, 0, 0]; // 28 / 27 / 27 → A
const k1 = [0, 1, 0, 0, 3, 1, 0, 1, 0]; // 11 / 12 / 11 → B
const k2 = [0, 0, 0, 1, 3, 1, 0, 0, 0]; // 11 / 10 / 11 → A (tie with C: the earlier entry)

test('each kernel takes the library pattern keeping the most energy; a tie → the earlier entry', () => {
  const g = geometry('Conv', [3, 1, 3, 3]);
  const spec: SchemeSpec = { scheme: 'pattern', rate: 5 / 9, library: [A, B, C] };
  const m = pattern.mask(g, [f32([...k0, ...k1, ...k2])], spec)[0];
  assert.deepEqual([...m], [...maskOf(A), ...maskOf(B), ...maskOf(A)]);
});

test('connectivity pruning removes whole kernels, lowest L2 of the kept weights first', () => {
  const g = geometry('Conv', [3, 1, 3, 3]); // 27 weights, 3 kernels
  const w = f32([...k0, ...k1, ...k2]);
  // Kept norms: √28, √12, √11 → kernel 2 goes first. Rate 19/27 = (15 + 4) / 27: one kernel.
  const one = pattern.mask(g, [w], { scheme: 'pattern', rate: 19 / 27, library: [A, B, C] })[0];
  assert.deepEqual([...one], [...maskOf(A), ...maskOf(B), ...maskOf(0)]);
  // 23/27: two kernels (2, then 1); 0.75 · 27 = 20.25 → 15 + 4·1.3 → one kernel.
  const two = pattern.mask(g, [w], { scheme: 'pattern', rate: 23 / 27, library: [A, B, C] })[0];
  assert.deepEqual([...two], [...maskOf(A), ...maskOf(0), ...maskOf(0)]);
  assert.equal(zerosOf(pattern.mask(g, [w], { scheme: 'pattern', rate: 0.75, library: [A, B, C] })[0]).length, 19);
});

test('connectivity ties → the lower kernel index f·C + c', () => {
  const g = geometry('Conv', [2, 2, 3, 3]); // kernels (0,0) (0,1) (1,0) (1,1)
  const w = f32([...k0, ...k2, ...k2, ...k0]); // (0,1) and (1,0) tie
  const m = pattern.mask(g, [w], { scheme: 'pattern', rate: (20 + 4) / 36, library: [A] })[0];
  assert.deepEqual([...m], [...maskOf(A), ...maskOf(0), ...maskOf(A), ...maskOf(A)]);
});

test('without a library: the layer\'s most frequent top-4 masks (ties → smaller mask value)', () => {
  // Top-4 masks: k0 → A (58), k1 → B (178), k2 → {0,3,4,5} = 57 (the fourth place is a tie of zeros → position 0).
  assert.deepEqual([topFourMask(k0, 0), topFourMask(k1, 0), topFourMask(k2, 0)], [A, B, bits(0, 3, 4, 5)]);
  const g = geometry('Conv', [4, 1, 3, 3]);
  const w = f32([...k0, ...k1, ...k1, ...k2]);
  // Frequencies: B 2, 57 1, A 1 → patterns 2 = [B, 57]; k0 under B keeps 27, under 57 keeps 27 → B (earlier).
  const m = pattern.mask(g, [w], { scheme: 'pattern', rate: 5 / 9, patterns: 2 })[0];
  assert.deepEqual([...m], [...maskOf(B), ...maskOf(B), ...maskOf(B), ...maskOf(bits(0, 3, 4, 5))]);
  // Default 6 patterns: every kernel keeps its own top-4 mask here.
  const d = pattern.mask(g, [w], { scheme: 'pattern', rate: 5 / 9 })[0];
  assert.deepEqual([...d], [...maskOf(A), ...maskOf(B), ...maskOf(B), ...maskOf(bits(0, 3, 4, 5))]);
});

test('choosePatternLibrary counts top-4 masks over several layers', () => {
  const layer1 = f32([...k0, ...k0, ...k2]);
  const layer2 = f32([...k1, ...k2, ...k2]);
  // A 2, B 1, 57 3 → [57, A, B]; count 2 → [57, A]; fewer distinct masks than asked → all of them.
  assert.deepEqual(choosePatternLibrary([layer1, layer2], 2), [bits(0, 3, 4, 5), A]);
  assert.deepEqual(choosePatternLibrary([layer1, layer2], 6), [bits(0, 3, 4, 5), A, B]);
  // Frequency ties → smaller mask value first.
  assert.deepEqual(choosePatternLibrary([f32([...k1, ...k0])], 2), [A, B]);
});

test('infeasible: not a Conv, not 3×3, grouped or depthwise, rate below 5/9, bad library', () => {
  const conv = geometry('Conv', [4, 2, 3, 3]);
  const spec = (rate: number, extra: Partial<SchemeSpec> = {}): SchemeSpec => ({ scheme: 'pattern', rate, ...extra });
  const no = (reason: string) => ({ ok: false, reason });
  assert.deepEqual(pattern.feasible(geometry('Gemm', [4, 8], { transB: 1 }), spec(0.6)), no('pattern pruning applies to Conv layers only; this is a Gemm'));
  assert.deepEqual(pattern.feasible(geometry('ConvTranspose', [4, 2, 3, 3]), spec(0.6)), no('pattern pruning applies to Conv layers only; this is a ConvTranspose'));
  assert.deepEqual(pattern.feasible(geometry('Conv', [4, 2, 1, 1]), spec(0.6)), no('pattern pruning needs a 3×3 kernel and group 1; this layer is 1×1'));
  assert.deepEqual(pattern.feasible(geometry('Conv', [4, 2, 5, 5]), spec(0.6)), no('pattern pruning needs a 3×3 kernel and group 1; this layer is 5×5'));
  assert.deepEqual(pattern.feasible(geometry('Conv', [4, 2, 3]), spec(0.6)), no('pattern pruning needs a 3×3 kernel and group 1; this layer is 3'));
  assert.deepEqual(pattern.feasible(geometry('Conv', [4, 1, 3, 3], { group: 4 }), spec(0.6)), no('pattern pruning needs a 3×3 kernel and group 1; this layer is depthwise'));
  assert.deepEqual(pattern.feasible(geometry('Conv', [4, 2, 3, 3], { group: 2 }), spec(0.6)), no('pattern pruning needs a 3×3 kernel and group 1; this layer is grouped (2 groups)'));
  assert.deepEqual(pattern.feasible(conv, spec(0.5)), no('pattern pruning removes at least 5/9 of a 3×3 layer; rate 0.5 is below that'));
  assert.deepEqual(pattern.feasible(conv, spec(1.2)), no('rate 1.2 is outside [0, 1)'));
  assert.deepEqual(pattern.feasible(conv, spec(0.6, { library: [7] })), no('pattern library entry 7 is not a 9-bit mask with exactly 4 bits set'));
  assert.deepEqual(pattern.feasible(conv, spec(0.6, { library: [] })), no('pattern "library" must be a non-empty list of 9-bit masks'));
  assert.deepEqual(pattern.feasible(conv, spec(0.6, { patterns: 0 })), no('pattern "patterns" must be an integer from 1 to 126; it is 0'));
  assert.deepEqual(pattern.feasible(conv, spec(5 / 9)), { ok: true });
  assert.deepEqual(pattern.feasible(conv, spec(0.6, { library: [A, B] })), { ok: true });
});

test('rate exactness: 5 zeros per kernel plus 4 per removed kernel, to the nearest kernel', () => {
  const g = geometry('Conv', [4, 3, 3, 3]); // 12 kernels, 108 weights
  const w = randomWeights(prng(7), [4, 3, 3, 3]);
  for (const rate of [5 / 9, 0.56, 0.6, 0.7, 0.8, 0.9, 0.99]) {
    const removed = Math.max(0, Math.round((rate * 108 - 60) / 4 - 1e-9));
    assert.equal(zerosOf(pattern.mask(g, [w], { scheme: 'pattern', rate })[0]).length, 60 + 4 * removed, `rate ${rate}`);
  }
});
