// Filter pruning (DOMAIN.md §3.2): a group is one row f of a GEMM-view matrix — one output channel,
// all its input channels and kernel positions — scored by its L2 norm. Rows of all the layer's
// matrices compete together (every group of a grouped Conv, W and R of an RNN); groups are numbered
// matrix by matrix, row by row, for ties. Exact to one row.

import type { PruningScheme } from './scheme';
import { commonChecks, newMasks, prunePrefix, rankOrder, requireFeasible, layerSize, zeroRange } from './rank';
import { at, type WeightMatrix } from './weight-matrix';

export const filter: PruningScheme = {
  id: 'filter',
  summary: 'Removes whole filters (output channels) with the smallest L2 norms.',
  feasible(layer, spec) {
    return commonChecks(layer, spec) ?? { ok: true };
  },
  mask(layer, weights, spec) {
    requireFeasible(filter, layer, spec);
    const masks = newMasks(layer, weights);
    const rows: { m: WeightMatrix; f: number }[] = [];
    const scores: number[] = [];
    for (const m of layer.matrices) {
      const w = weights[m.tensor];
      for (let f = 0; f < m.rows; f++) {
        let sum = 0;
        for (let c = 0; c < m.channels; c++) for (let k = 0; k < m.kernel; k++) sum += w[at(m, f, c, k)] ** 2;
        rows.push({ m, f });
        scores.push(Math.sqrt(sum));
      }
    }
    prunePrefix(
      rankOrder(scores),
      spec.rate * layerSize(layer),
      (g) => rows[g].m.channels * rows[g].m.kernel,
      (g) => zeroRange(masks, rows[g].m, rows[g].f, rows[g].f + 1, 0, rows[g].m.channels, 0, rows[g].m.kernel),
    );
    return masks;
  },
};
