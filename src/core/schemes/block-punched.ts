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
import { blockFit, blockOf, commonChecks, infeasible, layerSize, newMasks, prunePrefix, rankOrder, requireFeasible, zeroRange } from './rank';

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
      const w = weights[m.tensor];
      const K = m.kernel;
      const columnNorm = new Float64Array(K);
      for (let f0 = 0; f0 < m.rows; f0 += bf) {
        const f1 = Math.min(m.rows, f0 + bf);
        for (let c0 = 0; c0 < m.channels; c0 += bc) {
          const c1 = Math.min(m.channels, c0 + bc);
          const scale = (bc / (c1 - c0)) * Math.sqrt(bf / (f1 - f0));
          for (let k = 0; k < K; k++) scores[u + k] = 0;
          for (let c = c0; c < c1; c++) {
            // ||W[f0..f1, c, k]||² for every k at once: kernel positions are contiguous in memory.
            for (let k = 0; k < K; k++) columnNorm[k] = 0;
            for (let f = f0; f < f1; f++) {
              const base = m.offset + f * m.rowStride + c * m.channelStride;
              for (let k = 0; k < K; k++) columnNorm[k] += w[base + k] * w[base + k];
            }
            for (let k = 0; k < K; k++) scores[u + k] += Math.sqrt(columnNorm[k]);
          }
          for (let k = 0; k < K; k++, u++) {
            scores[u] *= scale;
            sizes[u] = (f1 - f0) * (c1 - c0);
          }
        }
      }
    }
    // Choose units in rank order; zero them afterwards in memory order (far fewer cache misses).
    const pruned = new Uint8Array(n);
    prunePrefix(rankOrder(scores), spec.rate * layerSize(layer), (g) => sizes[g], (g) => (pruned[g] = 1));
    u = 0;
    for (const m of layer.matrices) {
      for (let f0 = 0; f0 < m.rows; f0 += bf) {
        const f1 = Math.min(m.rows, f0 + bf);
        for (let c0 = 0; c0 < m.channels; c0 += bc) {
          const c1 = Math.min(m.channels, c0 + bc);
          for (let k = 0; k < m.kernel; k++, u++) if (pruned[u]) zeroRange(masks, m, f0, f1, c0, c1, k, k + 1);
        }
      }
    }
    return masks;
  },
};
