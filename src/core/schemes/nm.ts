// N:M sparsity (DOMAIN.md §3.7, docs/plan.md): along the input channels — for every row f and
// kernel position k of a GEMM-view matrix, the channels c = j·m … j·m + m − 1 form a group that
// keeps its n largest |w| (a tie → the lower channel). This is the layout sparse tensor cores run
// (NVIDIA's ASP prunes Conv weights [F][C][kh][kw] along C, the innermost reduction axis of an
// NHWC implicit GEMM); for Gemm, MatMul, RNNs and 1×1 Conv (K = 1) a group is m consecutive inputs
// of one output, i.e. m consecutive GEMM columns. A group never mixes kernel positions.
// The rate is therefore exactly 1 − n/m: a spec whose rate differs (beyond 1e-9) is infeasible
// rather than silently changed. C must be a multiple of m in every matrix; a ragged last group is
// infeasible with the reason (hardware N:M formats have no partial groups).

import type { PruningScheme } from './scheme';
import { commonChecks, dimWords, fmt, infeasible, isPositiveInt, newMasks, requireFeasible } from './rank';

export const nm: PruningScheme = {
  id: 'nm',
  summary: 'Keeps the n largest of every m consecutive input channels (e.g. 2:4), at each output and kernel position.',
  feasible(layer, spec) {
    const common = commonChecks(layer, spec);
    if (common) return common;
    const { n, m } = spec;
    if (!isPositiveInt(n) || !isPositiveInt(m) || n >= m) {
      return infeasible(`nm needs integers n and m with 1 ≤ n < m (e.g. n 2, m 4); got n ${String(n)}, m ${String(m)}`);
    }
    const rate = 1 - n / m;
    if (Math.abs(spec.rate - rate) > 1e-9) {
      return infeasible(`${n}:${m} sparsity prunes exactly ${fmt(rate)} of the weights; rate ${fmt(spec.rate)} does not match`);
    }
    for (const mat of layer.matrices) {
      if (mat.channels % m) return infeasible(`${n}:${m} sparsity needs the input channels to be a multiple of ${m}; this layer has ${dimWords(layer, mat, 'channels')}`);
    }
    return { ok: true };
  },
  mask(layer, weights, spec) {
    requireFeasible(nm, layer, spec);
    const n = spec.n as number, m = spec.m as number;
    const masks = newMasks(layer, weights);
    const mag = new Float64Array(m);
    const taken = new Uint8Array(m);
    for (const mat of layer.matrices) {
      const w = weights[mat.tensor], mask = masks[mat.tensor];
      for (let f = 0; f < mat.rows; f++) {
        for (let c0 = 0; c0 < mat.channels; c0 += m) {
          for (let k = 0; k < mat.kernel; k++) {
            // Group: channels c0 … c0 + m − 1 at (f, k); element i at base + i·channelStride.
            const base = mat.offset + f * mat.rowStride + c0 * mat.channelStride + k;
            for (let i = 0; i < m; i++) {
              const a = Math.abs(w[base + i * mat.channelStride]);
              mag[i] = Number.isNaN(a) ? -1 : a;
            }
            taken.fill(0);
            // Prune the m − n smallest; among equal magnitudes the higher channel goes first, which
            // is "keep the n largest, a tie → the lower channel". NaN counts as smallest.
            for (let p = n; p < m; p++) {
              let victim = -1;
              for (let i = 0; i < m; i++) if (!taken[i] && (victim < 0 || mag[i] <= mag[victim])) victim = i;
              taken[victim] = 1;
              mask[base + victim * mat.channelStride] = 0;
            }
          }
        }
      }
    }
    return masks;
  },
};
