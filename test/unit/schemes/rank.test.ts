// The shared selection rule: closest count of groups, ties → lower index, linear-time selection.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { groupCount, kthSmallest, lowestEqual, prunePrefix, rankOrder } from '../../../src/core/schemes/rank';
import { prng } from './geometry';

test('groupCount: the count whose zeros are closest to the target; half-way → fewer', () => {
  assert.deepEqual([groupCount(21.6, 18, 4), groupCount(28.8, 18, 4), groupCount(9, 18, 4), groupCount(9.01, 18, 4)], [1, 2, 0, 1]);
  assert.deepEqual([groupCount(0, 1, 5), groupCount(-3, 1, 5), groupCount(100, 1, 5), groupCount(2.5, 1, 5)], [0, 0, 5, 2]);
  assert.equal(groupCount(0.3 * 10, 1, 10), 3); // 3.0000000000000004 is 3
});

test('lowestEqual and rankOrder: lowest first, ties → lower index, NaN lowest', () => {
  const s = new Float64Array([0.5, 0.1, 0.3, 0.1, NaN, 0.3]);
  assert.deepEqual([...rankOrder(s)], [4, 1, 3, 2, 5, 0]);
  assert.deepEqual([...lowestEqual(s, 2)], [0, 1, 0, 0, 1, 0]);
  assert.deepEqual([...lowestEqual(s, 4)], [0, 1, 1, 1, 1, 0]);
  assert.deepEqual([...lowestEqual(s, 0)], [0, 0, 0, 0, 0, 0]);
  assert.deepEqual([...lowestEqual(s, 9)], [1, 1, 1, 1, 1, 1]);
});

test('kthSmallest agrees with a sort, duplicates and all', () => {
  const rand = prng(123);
  for (let trial = 0; trial < 200; trial++) {
    const n = 1 + Math.floor(rand() * 300);
    const levels = 1 + Math.floor(rand() * 20);
    const a = Float64Array.from({ length: n }, () => Math.floor(rand() * levels) / levels);
    const sorted = [...a].sort((x, y) => x - y);
    const k = Math.floor(rand() * n);
    assert.equal(kthSmallest(a.slice(), k), sorted[k], `n ${n} k ${k}`);
  }
});

test('prunePrefix: the closest prefix of the ranking, costs that shrink as units overlap', () => {
  const applied: number[] = [];
  // Costs 2, 1, 3: target 3 → 2 + 1; target 4.5 → 3, not 6 (a tie → the shorter prefix); target 5 → 6.
  const run = (target: number) => {
    applied.length = 0;
    return [prunePrefix([0, 1, 2], target, (g) => [2, 1, 3][g], (g) => applied.push(g)), [...applied]];
  };
  assert.deepEqual(run(3), [3, [0, 1]]);
  assert.deepEqual(run(4.5), [3, [0, 1]]);
  assert.deepEqual(run(5), [6, [0, 1, 2]]);
  assert.deepEqual(run(0.9), [0, []]);
  assert.deepEqual(run(1), [0, []]); // 0 and 2 are equally far: the shorter prefix
  assert.deepEqual(run(1.1), [2, [0]]);
});
