// Block column-row pruning (DOMAIN.md §3.6; GRIM, RTMobile). spec.block = [rows, cols] of the GEMM
// view (columns j = c·K + k): each matrix is tiled into rows × cols blocks, and inside a block whole
// block-rows (one row's `cols` weights in that block) and whole block-columns (one column's `rows`
// weights in that block) can be pruned, independently in every block. Works for Conv (as GEMM),
// ConvTranspose, Gemm, MatMul and RNN W and R.
//
// Rule (simple and deterministic): every block-row and block-column of the layer is one unit,
// scored by its L2 norm per weight, i.e. its RMS √(Σw² / size), so a short partial row or column
// competes fairly with full ones and rows compete fairly with columns. All units of the layer are
// ranked together (lowest first; a tie → the lower unit number, units being numbered block by block
// in (matrix, row block, column block) order, within a block its rows top to bottom and then its
// columns left to right) and pruned in that order. Scores are static: they are not recomputed after
// a crossing row or column is pruned. Overlap is counted: a unit adds only its weights that are not
// already zero (a column crossing two pruned rows adds rows − 2), and the prefix of the ranking
// whose total zeros are closest to the target is taken, so the achieved rate is exact to within half
// of one block-row or block-column.
//
// Partial blocks as for block-punched: when rows does not divide F (or cols does not divide C·K) the
// last block is smaller — feasible, with a note — and a block larger than the matrix is infeasible.

import type { PruningScheme } from './scheme';
import { blockFit, blockOf, columnOffsets, commonChecks, infeasible, layerSize, newMasks, prunePrefix, rankOrder, requireFeasible } from './rank';

export const blockBcr: PruningScheme = {
  id: 'block-bcr',
  summary: 'Removes whole rows and columns inside each block of the weight matrix (GRIM/RTMobile BCR).',
  feasible(layer, spec) {
    const common = commonChecks(layer, spec);
    if (common) return common;
    const block = blockOf(spec);
    if (typeof block === 'string') return infeasible(block);
    return blockFit(layer, block, 'columns', ['row', 'row'], ['column', 'column']);
  },
  mask(layer, weights, spec) {
    requireFeasible(blockBcr, layer, spec);
    const [br, bc] = blockOf(spec) as readonly [number, number];
    const masks = newMasks(layer, weights);
    // Units in parallel typed arrays: the matrix, block-row or block-column, its row f (column j),
    // and the columns (rows) lo…hi−1 it spans inside its block.
    let units = 0;
    for (const m of layer.matrices) {
      const cols = m.channels * m.kernel;
      units += Math.ceil(m.rows / br) * cols + Math.ceil(cols / bc) * m.rows;
    }
    const matrixOf = new Uint32Array(units), isRow = new Uint8Array(units), index = new Uint32Array(units), lo = new Uint32Array(units), hi = new Uint32Array(units);
    const scores = new Float64Array(units);
    const offsets = layer.matrices.map(columnOffsets);
    let u = 0;
    const unit = (mi: number, row: number, i: number, from: number, to: number, score: number) => {
      matrixOf[u] = mi;
      isRow[u] = row;
      index[u] = i;
      lo[u] = from;
      hi[u] = to;
      scores[u++] = score;
    };
    layer.matrices.forEach((m, mi) => {
      const w = weights[m.tensor], cols = offsets[mi];
      const value = (f: number, j: number) => w[m.offset + f * m.rowStride + cols[j]];
      for (let f0 = 0; f0 < m.rows; f0 += br) {
        const f1 = Math.min(m.rows, f0 + br);
        for (let j0 = 0; j0 < cols.length; j0 += bc) {
          const j1 = Math.min(cols.length, j0 + bc);
          for (let f = f0; f < f1; f++) {
            let sum = 0;
            for (let j = j0; j < j1; j++) sum += value(f, j) ** 2;
            unit(mi, 1, f, j0, j1, Math.sqrt(sum / (j1 - j0)));
          }
          for (let j = j0; j < j1; j++) {
            let sum = 0;
            for (let f = f0; f < f1; f++) sum += value(f, j) ** 2;
            unit(mi, 0, j, f0, f1, Math.sqrt(sum / (f1 - f0)));
          }
        }
      }
    });
    /** Calls visit(mask, flat index) for every weight of unit g. */
    const each = (g: number, visit: (mask: Uint8Array, i: number) => void) => {
      const m = layer.matrices[matrixOf[g]], cols = offsets[matrixOf[g]], mask = masks[m.tensor];
      for (let x = lo[g]; x < hi[g]; x++) {
        visit(mask, isRow[g] ? m.offset + index[g] * m.rowStride + cols[x] : m.offset + x * m.rowStride + cols[index[g]]);
      }
    };
    prunePrefix(
      rankOrder(scores),
      spec.rate * layerSize(layer),
      (g) => {
        let kept = 0;
        each(g, (mask, i) => (kept += mask[i]));
        return kept;
      },
      (g) => each(g, (mask, i) => (mask[i] = 0)),
    );
    return masks;
  },
};
