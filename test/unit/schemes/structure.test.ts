// Property test: random weights (seeded), many layer kinds, shapes, blocks and rates for every scheme;
// the independent structure checker must find no violation in any mask. And the checker itself
// must catch corrupted masks — one flipped bit — for every scheme, so it cannot silently pass.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { allSchemes, getScheme } from '../../../src/core/schemes/registry';
import type { LayerGeometry, SchemeSpec } from '../../../src/core/schemes/scheme';
import { checkStructure } from './structure-checker';
import { count, geometry, prng, randomWeights } from './geometry';

interface Case {
  readonly name: string;
  readonly g: LayerGeometry;
  readonly shapes: readonly (readonly number[])[];
}

const layers: Case[] = [
  { name: 'Conv 8×4×3×3', g: geometry('Conv', [8, 4, 3, 3]), shapes: [[8, 4, 3, 3]] },
  { name: 'Conv 6×5×3×3', g: geometry('Conv', [6, 5, 3, 3]), shapes: [[6, 5, 3, 3]] },
  { name: 'Conv 8×8×1×1', g: geometry('Conv', [8, 8, 1, 1]), shapes: [[8, 8, 1, 1]] },
  { name: 'Conv 4×6×5×5', g: geometry('Conv', [4, 6, 5, 5]), shapes: [[4, 6, 5, 5]] },
  { name: 'Conv1d 6×4×3', g: geometry('Conv', [6, 4, 3]), shapes: [[6, 4, 3]] },
  { name: 'grouped Conv 8×2×3×3 g4', g: geometry('Conv', [8, 2, 3, 3], { group: 4 }), shapes: [[8, 2, 3, 3]] },
  { name: 'depthwise Conv 6×1×3×3', g: geometry('Conv', [6, 1, 3, 3], { group: 6 }), shapes: [[6, 1, 3, 3]] },
  { name: 'ConvTranspose 4×6×3×3 g2', g: geometry('ConvTranspose', [4, 6, 3, 3], { group: 2 }), shapes: [[4, 6, 3, 3]] },
  { name: 'Gemm transB=1 10×12', g: geometry('Gemm', [10, 12], { transB: 1 }), shapes: [[10, 12]] },
  { name: 'Gemm transB=0 12×10', g: geometry('Gemm', [12, 10], { transB: 0 }), shapes: [[12, 10]] },
  { name: 'MatMul 2×8×6', g: geometry('MatMul', [2, 8, 6]), shapes: [[2, 8, 6]] },
  { name: 'LSTM 16×6 + 16×4', g: geometry('LSTM', [1, 16, 6], { recurrent: [1, 16, 4] }), shapes: [[1, 16, 6], [1, 16, 4]] },
  { name: 'GRU bidirectional 12×8 + 12×4', g: geometry('GRU', [2, 12, 8], { recurrent: [2, 12, 4] }), shapes: [[2, 12, 8], [2, 12, 4]] },
];

const rates = [0, 0.1, 1 / 3, 0.5, 0.6, 0.77, 0.95];
const library = [0b000111010, 0b010110010, 0b010011010, 0b010111000, 0b000110011, 0b110011000]; // six 4-bit shapes

function specs(): SchemeSpec[] {
  const out: SchemeSpec[] = [];
  for (const rate of rates) {
    out.push({ scheme: 'unstructured', rate }, { scheme: 'filter', rate }, { scheme: 'channel', rate });
    out.push({ scheme: 'pattern', rate }, { scheme: 'pattern', rate, patterns: 2 }, { scheme: 'pattern', rate, library });
    for (const block of [[1, 1], [2, 2], [4, 2], [3, 2], [8, 4], [16, 4], [5, 3]] as [number, number][]) out.push({ scheme: 'block-punched', rate, block });
    for (const block of [[2, 2], [4, 3], [3, 5], [1, 4], [8, 1], [16, 16]] as [number, number][]) out.push({ scheme: 'block-bcr', rate, block });
  }
  for (const [n, m] of [[1, 2], [2, 4], [1, 4], [3, 4], [2, 8], [1, 3]]) out.push({ scheme: 'nm', rate: 1 - n / m, n, m });
  return out;
}

/** Weights: uniform, or quantised to a few levels so that ties are everywhere. */
function weightsFor(c: Case, seed: number, quantised: boolean): Float32Array[] {
  const rand = prng(seed);
  return c.shapes.map((s) => {
    const w = randomWeights(rand, s);
    return quantised ? w.map((x) => Math.round(x * 2) / 2) : w;
  });
}

test('property: every feasible mask of every scheme has its structure, rate and ranking', () => {
  const runs = new Map<string, number>();
  let seed = 1;
  for (const c of layers) {
    for (const spec of specs()) {
      const scheme = getScheme(spec.scheme)!;
      if (!scheme.feasible(c.g, spec).ok) continue;
      for (const quantised of [false, true]) {
        const w = weightsFor(c, seed++, quantised);
        const masks = scheme.mask(c.g, w, spec);
        assert.deepEqual(masks.map((m) => m.length), c.shapes.map(count));
        const violations = checkStructure(c.g, spec, masks, w);
        assert.deepEqual(violations, [], `${spec.scheme} ${JSON.stringify(spec)} on ${c.name}`);
        // Deterministic: the same inputs give the same masks.
        assert.deepEqual(scheme.mask(c.g, w, spec), masks);
        runs.set(spec.scheme, (runs.get(spec.scheme) ?? 0) + 1);
      }
    }
  }
  // Every scheme was exercised, and on many layers.
  for (const s of allSchemes()) assert.ok((runs.get(s.id) ?? 0) >= 20, `${s.id}: ${runs.get(s.id) ?? 0} runs`);
});

test('property: the same logical matrix stored as Gemm transB=1 or transB=0 gets the same logical masks', () => {
  const t1 = geometry('Gemm', [10, 12], { transB: 1 });
  const t0 = geometry('Gemm', [12, 10], { transB: 0 });
  const w1 = randomWeights(prng(99), [10, 12]).map((x) => Math.round(x * 4) / 4); // ties included
  const w0 = new Float32Array(120);
  for (let f = 0; f < 10; f++) for (let c = 0; c < 12; c++) w0[c * 10 + f] = w1[f * 12 + c];
  for (const spec of specs()) {
    const scheme = getScheme(spec.scheme)!;
    if (!scheme.feasible(t1, spec).ok) continue;
    const [a] = scheme.mask(t1, [w1], spec);
    const [b] = scheme.mask(t0, [w0], spec);
    for (let f = 0; f < 10; f++) for (let c = 0; c < 12; c++) assert.equal(b[c * 10 + f], a[f * 12 + c], `${JSON.stringify(spec)} at (${f}, ${c})`);
  }
});

/** Per scheme, a small layer and a spec whose target is a whole number of groups (so any flip moves the rate). */
const corruptCases: { spec: SchemeSpec; c: Case }[] = [
  { spec: { scheme: 'unstructured', rate: 0.5 }, c: layers[0] },
  { spec: { scheme: 'filter', rate: 0.5 }, c: layers[0] },
  { spec: { scheme: 'channel', rate: 0.5 }, c: layers[11] },
  { spec: { scheme: 'pattern', rate: 0.7, library }, c: layers[0] },
  { spec: { scheme: 'pattern', rate: 0.6, patterns: 3 }, c: layers[1] },
  { spec: { scheme: 'block-punched', rate: 0.5, block: [4, 2] }, c: layers[0] },
  { spec: { scheme: 'block-punched', rate: 0.5, block: [3, 3] }, c: layers[8] },
  { spec: { scheme: 'block-bcr', rate: 0.5, block: [4, 3] }, c: layers[8] },
  { spec: { scheme: 'nm', rate: 0.5, n: 2, m: 4 }, c: layers[0] },
];

test('the checker catches every single flipped bit (any scheme but BCR) and BCR\'s structural flips', () => {
  for (const { spec, c } of corruptCases) {
    const scheme = getScheme(spec.scheme)!;
    const w = weightsFor(c, 42, false);
    const masks = scheme.mask(c.g, w, spec);
    assert.deepEqual(checkStructure(c.g, spec, masks, w), [], `${spec.scheme}: clean mask`);
    let flips = 0, caught = 0;
    for (let t = 0; t < masks.length; t++) {
      for (let i = 0; i < masks[t].length; i++) {
        const bad = masks.map((m) => m.slice());
        bad[t][i] ^= 1;
        flips++;
        // Also without weights: the structure and rate checks alone.
        const structural = checkStructure(c.g, spec, bad).length > 0;
        const found = structural || checkStructure(c.g, spec, bad, w).length > 0;
        if (found) caught++;
        if (spec.scheme !== 'block-bcr') {
          assert.ok(found, `${spec.scheme}: flipping tensor ${t} index ${i} went unnoticed`);
          if (spec.scheme !== 'unstructured') assert.ok(structural, `${spec.scheme}: flip at ${i} not a structure/rate violation`);
        }
      }
    }
    if (spec.scheme === 'block-bcr') {
      // BCR: a flip can leave a legal BCR mask (zeroing the last kept weight of a block-row), so
      // count only flips that must break it: a kept weight (f, j) whose block-row and block-column
      // both keep another weight — zeroing it puts a zero in no pruned row or column.
      const [br, bc] = spec.block!;
      const mask = masks[0];
      const cols = 12;
      let structuralFlips = 0;
      for (let f = 0; f < 10; f++) {
        for (let j = 0; j < cols; j++) {
          if (!mask[f * cols + j]) continue;
          const f0 = f - (f % br), j0 = j - (j % bc);
          let rowOthers = 0, colOthers = 0;
          for (let x = j0; x < Math.min(cols, j0 + bc); x++) if (x !== j) rowOthers += mask[f * cols + x];
          for (let y = f0; y < Math.min(10, f0 + br); y++) if (y !== f) colOthers += mask[y * cols + j];
          if (!rowOthers || !colOthers) continue;
          structuralFlips++;
          const bad = mask.slice();
          bad[f * cols + j] = 0;
          assert.ok(checkStructure(c.g, spec, [bad]).some((v) => v.includes('is in no pruned block-row or block-column')), `bcr flip at (${f}, ${j})`);
        }
      }
      assert.ok(structuralFlips > 20, `bcr: ${structuralFlips} structural flips`);
    }
    assert.ok(caught > 0 && caught <= flips);
  }
});

test('the checker catches a mask made for another rate, another scheme, or the wrong groups', () => {
  const c = layers[0];
  const w = weightsFor(c, 7, false);
  const filter = getScheme('filter')!;
  const half = filter.mask(c.g, w, { scheme: 'filter', rate: 0.5 });
  assert.ok(checkStructure(c.g, { scheme: 'filter', rate: 0.75 }, half, w).some((v) => v.startsWith('rate:')));
  assert.ok(checkStructure(c.g, { scheme: 'channel', rate: 0.5 }, half, w).some((v) => v.endsWith('partly pruned')));
  // The right number of rows, but the strongest ones: a ranking violation only the weights reveal.
  const inverted = [half[0].map((x) => 1 - x)];
  assert.deepEqual(checkStructure(c.g, { scheme: 'filter', rate: 0.5 }, inverted), []);
  assert.ok(checkStructure(c.g, { scheme: 'filter', rate: 0.5 }, inverted, w).some((v) => v.startsWith('ranking:')));
  // Values other than 0/1, and pruning outside the matrices, are reported too.
  const two = [half[0].slice()];
  two[0][0] = 2;
  assert.ok(checkStructure(c.g, { scheme: 'filter', rate: 0.5 }, two).some((v) => v.includes('not 0 or 1')));
  const lstm = layers[11];
  const extra = [new Uint8Array(96 + 3).fill(1), new Uint8Array(64).fill(1)];
  extra[0][97] = 0;
  assert.ok(checkStructure(lstm.g, { scheme: 'unstructured', rate: 0 }, extra).some((v) => v.includes('outside every matrix')));
});
