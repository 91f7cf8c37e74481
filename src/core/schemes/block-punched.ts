// Block-punched pruning (DOMAIN.md §3.5; YOLObile, NPAS). spec.block = [bf, bc]: each GEMM-view
// matrix's rows (filters) are split into blocks of bf and its input channels into blocks of bc. A
// pruning unit ("punch") is the bf × bc weights at ONE kernel position k inside one block; for
// K = 1 (1×1 Conv, Gemm, MatMul, RNN) a unit is a whole bf × bc sub-matrix (block sparsity). Units
// of all the layer's matrices are ranked together; the lowest are zeroed until the rate, exact to
// one unit. Units are numbered (matrix, filter block, channel block, kernel position) for ties.
//
// Score of a unit = Σ over its channels c of ||W[rows of the block, c, k]||₂.
//
// Partial blocks: when bf does not divide F (or bc does not divide C), the last filter (channel)
// block is simply smaller — feasible, with a note such as "last filter block has 3 rows" — so the
// layer needs no padding and no other block size. A block larger than the dimension itself is
// infeasible ("block 16×4 is larger than this layer's 8 filters"). A partial unit of r ≤ bf rows and
// c ≤ bc channels has a smaller raw score only because it has fewer weights, so its score is scaled
// by (bc / c) · √(bf / r): that is the score a full unit would have with the same per-weight
// magnitudes (weights all of size a score bc·√bf·a either way), so partial units are neither pruned
// first for being small nor spared.

import type { PruningScheme } from './scheme';
import type { WeightMatrix } from './weight-matrix';
import { blockFit, blockOf, columnOffsets, commonChecks, infeasible, layerSize, newMasks, pruneLowest, requireFeasible } from './rank';

export const blockPunched: PruningScheme = {
  id: 'block-punched',
  summary: 'Removes bf × bc blocks of weights at one kernel position (whole blocks for 1×1 and FC layers).',
  feasible(layer, spec) {
    const common = commonChecks(layer, spec);
    if (common) return common;
    const block = blockOf(spec);
    if (typeof block === 'string') return infeasible(block);
    return blockFit(layer, block, 'channels', ['filter', 'row'], ['channel', 'channel']);
  },
  mask(layer, weights, spec) {
    requireFeasible(blockPunched, layer, spec);
    const [bf, bc] = blockOf(spec) as readonly [number, number];
    const masks = newMasks(layer, weights);
    // Units are numbered (matrix, filter block, channel block, kernel position) in flat typed arrays:
    // a ResNet-50 has about a million of them.
    let n = 0;
    for (const m of layer.matrices) n += Math.ceil(m.rows / bf) * Math.ceil(m.channels / bc) * m.kernel;
    const scores = new Float64Array(n);
    const sizes = new Uint32Array(n);
    let u = 0;
    for (const m of layer.matrices) {
      u = scoreMatrix(m, weights[m.tensor], bf, bc, scores, sizes, u);
    }
    // Choose units in rank order; write the masks afterwards in memory order (far fewer cache misses).
    const pruned = pruneLowest(scores, sizes, spec.rate * layerSize(layer));
    u = 0;
    for (const m of layer.matrices) u = maskMatrix(m, masks[m.tensor], pruned, bf, bc, u);
    return masks;
  },
};

/**
 * Scores the units of one matrix into scores[u…] (and their sizes), returning the next unit index.
 * One filter block at a time, the squares of its rows are summed column by column (j = c·K + k)
 * while streaming each row through memory once; then every column's norm goes to its unit. The sums
 * run in the same order as the definition's (filters, then channels), so scores are exact to it.
 */
function scoreMatrix(m: WeightMatrix, w: Float32Array, bf: number, bc: number, scores: Float64Array, sizes: Uint32Array, u: number): number {
  const K = m.kernel;
  const columns = m.channels * K;
  const offsets = columnOffsets(m);
  const contiguous = m.channelStride === K; // a row's C·K weights are adjacent (Conv, Gemm with transB)
  const squares = new Float64Array(columns);
  for (let f0 = 0; f0 < m.rows; f0 += bf) {
    const f1 = Math.min(m.rows, f0 + bf);
    squares.fill(0);
    let f = f0;
    if (contiguous) {
      // Four rows per pass: a quarter of the loads and stores of `squares`, same order of additions.
      for (; f + 4 <= f1; f += 4) {
        const r0 = m.offset + f * m.rowStride, r1 = r0 + m.rowStride, r2 = r1 + m.rowStride, r3 = r2 + m.rowStride;
        for (let j = 0; j < columns; j++) {
          const a = w[r0 + j], b = w[r1 + j], c = w[r2 + j], d = w[r3 + j];
          squares[j] = squares[j] + a * a + b * b + c * c + d * d;
        }
      }
    }
    for (; f < f1; f++) {
      const base = m.offset + f * m.rowStride;
      if (contiguous) {
        for (let j = 0; j < columns; j++) {
          const x = w[base + j];
          squares[j] += x * x;
        }
      } else {
        for (let j = 0; j < columns; j++) {
          const x = w[base + offsets[j]];
          squares[j] += x * x;
        }
      }
    }
    for (let c0 = 0; c0 < m.channels; c0 += bc) {
      const c1 = Math.min(m.channels, c0 + bc);
      const scale = (bc / (c1 - c0)) * Math.sqrt(bf / (f1 - f0));
      for (let k = 0; k < K; k++) {
        let score = 0;
        for (let c = c0; c < c1; c++) score += Math.sqrt(squares[c * K + k]);
        scores[u + k] = score * scale;
        sizes[u + k] = (f1 - f0) * (c1 - c0);
      }
      u += K;
    }
  }
  return u;
}

/**
 * Writes one matrix's mask from the units' flags (1 = pruned), returning the next unit index. All
 * rows of a filter block share one mask row, built once and copied to each of them.
 */
function maskMatrix(m: WeightMatrix, mask: Uint8Array, pruned: Uint8Array, bf: number, bc: number, u: number): number {
  const K = m.kernel;
  const offsets = columnOffsets(m);
  const contiguous = m.channelStride === K;
  const row = new Uint8Array(m.channels * K); // column j = c·K + k
  for (let f0 = 0; f0 < m.rows; f0 += bf) {
    for (let c0 = 0; c0 < m.channels; c0 += bc, u += K) {
      for (let c = c0; c < Math.min(m.channels, c0 + bc); c++) {
        for (let k = 0; k < K; k++) row[c * K + k] = pruned[u + k] ^ 1;
      }
    }
    for (let f = f0; f < Math.min(m.rows, f0 + bf); f++) {
      const base = m.offset + f * m.rowStride;
      if (contiguous) mask.set(row, base);
      else for (let j = 0; j < row.length; j++) mask[base + offsets[j]] = row[j];
    }
  }
  return u;
}
