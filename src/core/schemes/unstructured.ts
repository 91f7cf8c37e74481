// Unstructured (magnitude) pruning (DOMAIN.md §3.1): a group is one weight, scored by |w|; the
// lowest are zeroed until the rate is reached, exact to one weight. Works on every layer kind.
// Weights are numbered in GEMM-view order (matrix, f, c·K + k) for ties, so a matrix stored
// transposed (Gemm without transB, MatMul, ConvTranspose) gets the same logical mask.

import type { PruningScheme } from './scheme';
import { commonChecks, groupCount, layerSize, lowestEqual, newMasks, requireFeasible } from './rank';
import { at } from './weight-matrix';

export const unstructured: PruningScheme = {
  id: 'unstructured',
  summary: 'Removes individual weights with the smallest magnitudes, anywhere in the layer.',
  feasible(layer, spec) {
    return commonChecks(layer, spec) ?? { ok: true };
  },
  mask(layer, weights, spec) {
    requireFeasible(unstructured, layer, spec);
    const masks = newMasks(layer, weights);
    const total = layerSize(layer);
    // |w| is exact in float32, so float32 scores keep the ranking while halving the memory.
    const scores = new Float32Array(total);
    let i = 0;
    for (const m of layer.matrices) {
      const w = weights[m.tensor];
      for (let f = 0; f < m.rows; f++) for (let c = 0; c < m.channels; c++) for (let k = 0; k < m.kernel; k++) scores[i++] = Math.abs(w[at(m, f, c, k)]);
    }
    const pruned = lowestEqual(scores, groupCount(spec.rate * total, 1, total));
    i = 0;
    for (const m of layer.matrices) {
      const mask = masks[m.tensor];
      for (let f = 0; f < m.rows; f++) for (let c = 0; c < m.channels; c++) for (let k = 0; k < m.kernel; k++) if (pruned[i++]) mask[at(m, f, c, k)] = 0;
    }
    return masks;
  },
};
