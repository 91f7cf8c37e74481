// Channel pruning (DOMAIN.md §3.3): a group is one input channel c of a GEMM-view matrix — every
// weight that reads it, W[:, c, :] — scored by its L2 norm. Channels of all the layer's matrices
// compete together (each group of a grouped Conv has its own channels; W and R of an RNN both
// take part); groups are numbered matrix by matrix, channel by channel, for ties. Exact to one
// channel.

import type { PruningScheme } from './scheme';
import { commonChecks, layerSize, newMasks, prunePrefix, rankOrder, requireFeasible, zeroRange } from './rank';
import { at, type WeightMatrix } from './weight-matrix';

export const channel: PruningScheme = {
  id: 'channel',
  summary: 'Removes whole input channels (every weight reading one) with the smallest L2 norms.',
  feasible(layer, spec) {
    return commonChecks(layer, spec) ?? { ok: true };
  },
  mask(layer, weights, spec) {
    requireFeasible(channel, layer, spec);
    const masks = newMasks(layer, weights);
    const groups: { m: WeightMatrix; c: number }[] = [];
    const scores: number[] = [];
    for (const m of layer.matrices) {
      const w = weights[m.tensor];
      for (let c = 0; c < m.channels; c++) {
        let sum = 0;
        for (let f = 0; f < m.rows; f++) for (let k = 0; k < m.kernel; k++) sum += w[at(m, f, c, k)] ** 2;
        groups.push({ m, c });
        scores.push(Math.sqrt(sum));
      }
    }
    prunePrefix(
      rankOrder(scores),
      spec.rate * layerSize(layer),
      (g) => groups[g].m.rows * groups[g].m.kernel,
      (g) => zeroRange(masks, groups[g].m, 0, groups[g].m.rows, groups[g].c, groups[g].c + 1, 0, groups[g].m.kernel),
    );
    return masks;
  },
};
