// Pattern + connectivity pruning (DOMAIN.md §3.4, PatDNN). Only for Conv with a 3×3 kernel and
// group 1. Every kernel W[f, c, :, :] keeps 4 of its 9 weights in one shape of a small library of
// 9-bit masks (bit k = kernel position k = kh·3 + kw, exactly 4 bits set):
//   - the library is spec.library when given; otherwise the spec.patterns (default 6) most frequent
//     top-4-magnitude masks of this layer's kernels (choosePatternLibrary; the mapper calls it with
//     the whole model's 3×3 layers and writes the result into the plan);
//   - each kernel takes the library pattern that keeps the most energy, argmax_P ||W[f,c] ⊙ P||²
//     (a tie → the earlier library entry);
//   - connectivity pruning then removes whole kernels, lowest L2 norm of the weights their pattern
//     keeps first (a tie → the lower kernel index f·C + c), until the rate is reached, exact to one
//     kernel (4 weights).
// Rate floor: the patterns alone zero 5/9 of the layer and connectivity pruning only adds, so the
// kept fraction is (4/9)(1 − q) and a rate below 5/9 is infeasible (said so, not silently raised).

import type { PruningScheme, SchemeSpec } from './scheme';
import { commonChecks, fmt, groupCount, infeasible, isPositiveInt, layerSize, lowestEqual, newMasks, requireFeasible } from './rank';

const FLOOR = 5 / 9;
const DEFAULT_PATTERNS = 6;
/** Number of distinct 4-of-9 masks: C(9, 4). */
const SHAPES = 126;

export const pattern: PruningScheme = {
  id: 'pattern',
  summary: 'Keeps 4 of 9 weights of each 3×3 kernel in a few shared shapes, then removes whole kernels.',
  feasible(layer, spec) {
    const common = commonChecks(layer, spec);
    if (common) return common;
    if (layer.op !== 'Conv') return infeasible(`pattern pruning applies to Conv layers only; this is a ${layer.op}`);
    const k = layer.kernelShape;
    if (k.length !== 2 || k[0] !== 3 || k[1] !== 3) {
      return infeasible(`pattern pruning needs a 3×3 kernel and group 1; this layer is ${k.join('×') || 'kernel-less'}`);
    }
    if (layer.group !== 1) {
      const depthwise = layer.matrices.every((m) => m.channels === 1);
      return infeasible(`pattern pruning needs a 3×3 kernel and group 1; this layer is ${depthwise ? 'depthwise' : `grouped (${layer.group} groups)`}`);
    }
    const params = libraryProblem(spec);
    if (params) return infeasible(params);
    if (spec.rate < FLOOR - 1e-9) {
      return infeasible(`pattern pruning removes at least 5/9 of a 3×3 layer; rate ${fmt(spec.rate)} is below that`);
    }
    return { ok: true };
  },
  mask(layer, weights, spec) {
    requireFeasible(pattern, layer, spec);
    const masks = newMasks(layer, weights);
    // Conv, group 1, 3×3: one matrix whose kernels are the tensor's consecutive runs of 9.
    const m = layer.matrices[0];
    const w = weights[0];
    const library = spec.library ?? choosePatternLibrary([w.subarray(m.offset, m.offset + layerSize(layer))], spec.patterns ?? DEFAULT_PATTERNS);
    const kernels = m.rows * m.channels;
    const chosen = new Uint16Array(kernels);
    const kept = new Float64Array(kernels);
    for (let i = 0; i < kernels; i++) {
      const base = m.offset + i * 9;
      let best = -1, bestEnergy = -Infinity;
      for (let p = 0; p < library.length; p++) {
        let e = 0;
        for (let k = 0; k < 9; k++) if (library[p] & (1 << k)) e += w[base + k] ** 2;
        if (e > bestEnergy || best < 0) {
          best = p;
          bestEnergy = e;
        }
      }
      chosen[i] = library[best];
      kept[i] = Math.sqrt(bestEnergy);
    }
    // Patterns zero 5 weights per kernel; each removed kernel adds its 4 kept ones.
    const extra = spec.rate * layerSize(layer) - 5 * kernels;
    const removed = lowestEqual(kept, groupCount(extra, 4, kernels));
    const mask = masks[0];
    for (let i = 0; i < kernels; i++) {
      const base = m.offset + i * 9;
      for (let k = 0; k < 9; k++) mask[base + k] = !removed[i] && chosen[i] & (1 << k) ? 1 : 0;
    }
    return masks;
  },
};

function libraryProblem(spec: SchemeSpec): string | undefined {
  if (spec.library !== undefined) {
    const lib = spec.library;
    if (!Array.isArray(lib) || lib.length === 0) return 'pattern "library" must be a non-empty list of 9-bit masks';
    for (const p of lib) {
      if (!Number.isInteger(p) || p < 0 || p >= 512 || bitCount(p) !== 4) {
        return `pattern library entry ${String(p)} is not a 9-bit mask with exactly 4 bits set`;
      }
    }
  }
  if (spec.patterns !== undefined && (!isPositiveInt(spec.patterns) || spec.patterns > SHAPES)) {
    return `pattern "patterns" must be an integer from 1 to ${SHAPES}; it is ${String(spec.patterns)}`;
  }
  return undefined;
}

function bitCount(x: number): number {
  let n = 0;
  for (let v = x; v; v &= v - 1) n++;
  return n;
}

/** The 4 positions of largest |w| in the 3×3 kernel at `base` as a 9-bit mask; a tie → the lower position, NaN ranks lowest. */
export function topFourMask(w: ArrayLike<number>, base: number): number {
  const mag = (k: number) => {
    const a = Math.abs(w[base + k]);
    return Number.isNaN(a) ? -1 : a;
  };
  const positions = [0, 1, 2, 3, 4, 5, 6, 7, 8].sort((a, b) => mag(b) - mag(a) || a - b);
  return positions.slice(0, 4).reduce((mask, k) => mask | (1 << k), 0);
}

/**
 * The pattern library for a set of 3×3 layers: the `count` masks that are most often some kernel's
 * top-4-magnitude mask, over every kernel of every given layer (each a 3×3 Conv weight in its own
 * flat layout, i.e. consecutive runs of 9); a tie in frequency → the smaller mask value. Fewer than
 * `count` masks when the layers show fewer distinct shapes.
 */
export function choosePatternLibrary(kernelSets: readonly Float32Array[], count: number): number[] {
  const freq = new Map<number, number>();
  for (const w of kernelSets) {
    for (let base = 0; base + 9 <= w.length; base += 9) {
      const mask = topFourMask(w, base);
      freq.set(mask, (freq.get(mask) ?? 0) + 1);
    }
  }
  return [...freq.entries()]
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .slice(0, Math.max(0, count))
    .map(([mask]) => mask);
}
