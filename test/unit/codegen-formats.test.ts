// The compact formats' structure against small cases written out by hand: the row-sparse (CSR)
// arrays of a 2×3 matrix, the pattern format's kernels grouped by pattern, block-bcr as block
// units of one column, and the thread-balancing reorder (LPT).

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { blockPunchedFormat } from '../../src/core/codegen/block-punched-format';
import { kernelPatterns, patternFormat } from '../../src/core/codegen/pattern-format';
import { rowSparseFormat, rowWork } from '../../src/core/codegen/row-sparse-format';
import { balanceRows } from '../../src/core/codegen/thread-balance';

test('row-sparse format of [[1, 0, 2], [0, 0, 3]] (the zeros masked)', () => {
  const w = Float32Array.of(1, 9, 2, 8, 7, 3);
  const mask = Uint8Array.of(1, 0, 1, 0, 0, 1);
  const f = rowSparseFormat(w, mask, 2, 3);
  assert.deepEqual([...f.rowFilter], [0, 1]);
  assert.deepEqual([...f.rowStart], [0, 2, 3]);
  assert.deepEqual([...f.column], [0, 2, 2]);
  assert.deepEqual([...f.values], [1, 2, 3]);
  assert.deepEqual(rowWork(mask, 2, 3), [2, 1]);
  // Rows stored in the order [1, 0]: filter 1's entries come first.
  const r = rowSparseFormat(w, mask, 2, 3, [1, 0]);
  assert.deepEqual([...r.rowFilter], [1, 0]);
  assert.deepEqual([...r.rowStart], [0, 1, 3]);
  assert.deepEqual([...r.column], [2, 0, 2]);
  assert.deepEqual([...r.values], [3, 1, 2]);
  // A row with nothing kept is an empty row (its output is its bias).
  assert.deepEqual([...rowSparseFormat(w, Uint8Array.of(0, 0, 0, 1, 0, 0), 2, 3).rowStart], [0, 0, 1]);
});

test('pattern format: 2 filters × 3 channels of 3×3, kernels grouped by pattern, removed kernels not stored', () => {
  // Patterns: A = positions {1,3,4,5} = 0b000111010 = 58, B = {0,1,3,4} = 0b000011011 = 27.
  const A = [1, 3, 4, 5], B = [0, 1, 3, 4];
  const shapeOf = [[A, B, A], [null, B, B]] as const; // filter 1, channel 0: removed kernel
  const w = Float32Array.from({ length: 54 }, (_, i) => i);
  const mask = new Uint8Array(54);
  shapeOf.forEach((cs, f) => cs.forEach((p, c) => p?.forEach((k) => (mask[(f * 3 + c) * 9 + k] = 1))));
  assert.deepEqual(kernelPatterns(mask, 2, 3), [27, 58]);
  const fmt = patternFormat(w, mask, 2, 3);
  assert.deepEqual(fmt.patterns, [27, 58]);
  // Row 0: pattern 27 → channel 1; pattern 58 → channels 0, 2. Row 1: pattern 27 → channels 1, 2.
  assert.deepEqual([...fmt.kernelStart], [0, 1, 3, 5, 5]);
  assert.deepEqual([...fmt.channel], [1, 0, 2, 1, 2]);
  const v = (f: number, c: number, ks: readonly number[]) => ks.map((k) => (f * 3 + c) * 9 + k);
  assert.deepEqual([...fmt.values], [...v(0, 1, B), ...v(0, 0, A), ...v(0, 2, A), ...v(1, 1, B), ...v(1, 2, B)]);
});

test('block-bcr as block units of one GEMM column: a block row keeps the columns with any weight, pruned rows zero', () => {
  // W2 [4][3] (K = 1), block rows of 2: rows 0-1 keep columns 0 and 2 (row 1 pruned in column 2).
  const w = Float32Array.from({ length: 12 }, (_, i) => i + 1);
  const mask = Uint8Array.of(1, 0, 1, /**/ 1, 0, 0, /**/ 0, 1, 0, /**/ 0, 1, 0);
  const f = blockPunchedFormat(w, mask, 4, 3, 1, 2, 1);
  assert.deepEqual([...f.rowStart], [0, 2, 3]);
  assert.deepEqual([...f.unitChannel], [0, 2, 1]);
  assert.deepEqual([...f.values], [1, 4, 3, 0, 8, 11]);
});

test('thread balance: rows dealt by work, largest first, to the least-loaded thread (LPT); bins keep original order', () => {
  const work = [5, 1, 8, 3, 3, 6];
  const s = balanceRows(work, 2);
  // Rows by work: 2 (8) → t0; 5 (6) → t1; 0 (5) → t1 (6 < 8), loads 8 / 11; 3 (3) → t0 = 11;
  // 4 (3) → t0 (a tie goes to the lower thread) = 14; 1 (1) → t1 = 12. t0 {2, 3, 4}, t1 {0, 1, 5}.
  assert.deepEqual([...s.order], [2, 3, 4, 0, 1, 5]);
  assert.deepEqual([...s.binStart], [0, 3, 6]);
  assert.deepEqual([...s.load], [14, 12]);
  const one = balanceRows(work, 1);
  assert.deepEqual([...one.order], [0, 1, 2, 3, 4, 5]);
  assert.deepEqual([...one.binStart], [0, 6]);
});
