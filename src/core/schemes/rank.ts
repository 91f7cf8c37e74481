// What every scheme shares (DOMAIN.md §3): the common feasibility checks, the masks' starting point,
// and the one selection rule — score groups of weights, zero the lowest-scoring groups until the
// layer's rate is reached, with the number of groups chosen so the achieved number of zeros is the
// closest possible to rate × weights (so it is exact to within half of one group; a tie between two
// counts goes to the smaller one).
//
// Determinism: scores are computed in float64 in GEMM-view order, and ties in score break by the
// lower group index, where groups are numbered in GEMM-view order — matrix, then row f, then column
// c·K + k (each scheme's header says how its groups are numbered). For Conv, Gemm with transB and
// RNNs that is the tensor's own flat order; for layouts stored transposed (Gemm without transB,
// MatMul, ConvTranspose) it is the order of the logical matrix, so the same logical matrix gets the
// same mask however it is stored. A NaN score ranks lowest: a NaN weight is pruned first.

import type { Feasibility, LayerGeometry, PruningScheme, SchemeSpec } from './scheme';
import { at, type WeightMatrix } from './weight-matrix';

export function infeasible(reason: string): Feasibility {
  return { ok: false, reason };
}

/** A number as people write it: 0.30000000000000004 → "0.3". */
export function fmt(x: number): string {
  return Number.isFinite(x) ? String(Number(x.toPrecision(6))) : String(x);
}

export function isPositiveInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x > 0;
}

/** Number of weights in a matrix (F · C · K). */
export function sizeOf(m: WeightMatrix): number {
  return m.rows * m.channels * m.kernel;
}

/** All the layer's prunable weights: the sum over its matrices. */
export function layerSize(layer: LayerGeometry): number {
  return layer.matrices.reduce((n, m) => n + sizeOf(m), 0);
}

/** Checks every scheme makes first: the rate is in [0, 1) and the layer has weights. */
export function commonChecks(layer: LayerGeometry, spec: SchemeSpec): Feasibility | undefined {
  const rate = spec.rate;
  if (typeof rate !== 'number') return infeasible('the rate is missing: give the fraction of weights to prune, in [0, 1)');
  if (!(rate >= 0 && rate < 1)) return infeasible(`rate ${fmt(rate)} is outside [0, 1)`);
  if (layerSize(layer) === 0) return infeasible('this layer has no weights to prune');
  return undefined;
}

/** spec.block as two positive integers, or the reason it is not. */
export function blockOf(spec: SchemeSpec): readonly [number, number] | string {
  const b = spec.block;
  if (!Array.isArray(b) || b.length !== 2 || !isPositiveInt(b[0]) || !isPositiveInt(b[1])) {
    return `${spec.scheme} needs "block": two positive integers such as [8, 4]`;
  }
  return [b[0], b[1]];
}

/** How a dimension of the GEMM view is called for this layer, for messages: "8 filters per group". */
export function dimWords(layer: LayerGeometry, m: WeightMatrix, dim: 'rows' | 'channels' | 'columns'): string {
  const conv = layer.op === 'Conv' || layer.op === 'ConvTranspose';
  const perGroup = conv && layer.group > 1 ? ' per group' : '';
  const distinct = new Set(layer.matrices.map((x) => `${x.rows}/${x.channels}/${x.kernel}`)).size > 1;
  const of = distinct ? ` (${m.label})` : '';
  if (dim === 'rows') {
    const noun = conv ? 'filters' : layer.op === 'Gemm' || layer.op === 'MatMul' ? 'outputs' : 'gate rows';
    return `${m.rows} ${noun}${perGroup}${of}`;
  }
  if (dim === 'channels') return `${m.channels} ${conv ? 'input channels' : 'inputs'}${perGroup}${of}`;
  return m.kernel > 1
    ? `${m.channels * m.kernel} weight columns (${m.channels} input channels × ${m.kernel} kernel positions)${perGroup}${of}`
    : `${m.channels} ${conv ? 'input channels' : 'inputs'}${perGroup}${of}`;
}

/** Masks that keep everything, one per weight tensor; throws when the weights do not fit the layer. */
export function newMasks(layer: LayerGeometry, weights: readonly Float32Array[]): Uint8Array[] {
  for (const m of layer.matrices) {
    const w = weights[m.tensor];
    const last = sizeOf(m) === 0 ? 0 : at(m, m.rows - 1, m.channels - 1, m.kernel - 1);
    if (!w || (sizeOf(m) > 0 && last >= w.length)) {
      throw new Error(`weights for ${m.label} are missing or shorter than the layer's shape`);
    }
  }
  return weights.map((w) => new Uint8Array(w.length).fill(1));
}

/** Throws with the reason when the spec is not feasible for the layer (mask() on a bad spec). */
export function requireFeasible(scheme: PruningScheme, layer: LayerGeometry, spec: SchemeSpec): void {
  const f = scheme.feasible(layer, spec);
  if (!f.ok) throw new Error(`${scheme.id} cannot prune this layer: ${f.reason}`);
}

/** The number of equal-sized groups to prune: closest to target/size, a tie going to fewer. */
export function groupCount(target: number, size: number, groups: number): number {
  if (size <= 0 || target <= 0) return 0;
  const exact = target / size;
  const lower = Math.floor(exact + 1e-9);
  const k = exact - lower > 0.5 + 1e-9 ? lower + 1 : lower;
  return Math.max(0, Math.min(groups, k));
}

function rankable(s: number): number {
  return Number.isNaN(s) ? -Infinity : s;
}

/**
 * Flags (1 = prune) for the `count` lowest scores, ties → lower index. For many equal-sized groups
 * (one per weight): a quickselect finds the count-th lowest score in linear time (a typed-array
 * sort of millions of weights takes seconds), then one pass picks the groups in index order.
 */
export function lowestEqual(scores: Float32Array | Float64Array, count: number): Uint8Array {
  const n = scores.length;
  const flags = new Uint8Array(n);
  if (count <= 0) return flags;
  if (count >= n) return flags.fill(1);
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = rankable(scores[i]);
  const threshold = kthSmallest(keys.slice(), count - 1);
  let below = 0;
  for (let i = 0; i < n; i++) below += keys[i] < threshold ? 1 : 0;
  let ties = count - below;
  for (let i = 0; i < n; i++) {
    const s = keys[i];
    if (s < threshold) flags[i] = 1;
    else if (s === threshold && ties > 0) {
      flags[i] = 1;
      ties--;
    }
  }
  return flags;
}

/** The k-th smallest value (0-based) of `a` (no NaN), reordering `a`: quickselect, median-of-three pivots. */
export function kthSmallest(a: Float32Array | Float64Array, k: number): number {
  let lo = 0, hi = a.length - 1;
  while (hi > lo) {
    const x = a[lo], y = a[(lo + hi) >>> 1], z = a[hi];
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    // Now a[lo…j] ≤ pivot, a[i…hi] ≥ pivot, and anything between equals the pivot.
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

/** Group indices from the lowest score to the highest, ties → lower index. */
export function rankOrder(scores: ArrayLike<number>): Uint32Array {
  // A comparator sort of ~10^6 units costs seconds. Instead, sort (high 32 bits of the key's
  // order-preserving bit pattern, index) pairs packed in 64-bit integers with the native sort, then
  // settle the rare runs whose high bits tie by the full key. Equal keys stay in index order.
  const n = scores.length;
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = rankable(scores[i]) + 0; // + 0 turns -0 into +0: equal scores tie
  const keyWords = new Uint32Array(keys.buffer); // per key: [low word, high word] (little-endian)
  const packed = new BigUint64Array(n);
  const packedWords = new Uint32Array(packed.buffer);
  for (let i = 0; i < n; i++) {
    const hi = keyWords[2 * i + 1];
    // IEEE-754 order as unsigned order: flip every bit of negatives, only the sign bit of the rest.
    packedWords[2 * i + 1] = hi & 0x80000000 ? ~hi : hi | 0x80000000;
    packedWords[2 * i] = i;
  }
  packed.sort();
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = packedWords[2 * i];
  for (let start = 0, i = 1; i <= n; i++) {
    if (i < n && packedWords[2 * i + 1] === packedWords[2 * start + 1]) continue;
    if (i - start > 1) order.subarray(start, i).sort((a, b) => keys[a] - keys[b] || a - b);
    start = i;
  }
  return order;
}

/**
 * Zeroes groups in `order` until `target` zeros: `cost(g)` is how many new zeros pruning g adds
 * (it may depend on what was pruned before it, as overlapping BCR rows and columns do), `apply(g)`
 * prunes it. Stops at the prefix whose total is closest to the target (a tie → the shorter prefix),
 * so the result is within half of the straddling group. Returns the zeros added.
 */
export function prunePrefix(order: ArrayLike<number>, target: number, cost: (g: number) => number, apply: (g: number) => void): number {
  let zeros = 0;
  for (let i = 0; i < order.length; i++) {
    const g = order[i];
    const c = cost(g);
    if (zeros + c <= target + 1e-9) {
      apply(g);
      zeros += c;
      continue;
    }
    if (zeros + c - target < target - zeros - 1e-9) {
      apply(g);
      zeros += c;
    }
    break;
  }
  return zeros;
}

/**
 * Flags (1 = prune) for the groups that prunePrefix takes in rank order towards `target` zeros, each
 * group g adding sizes[g]. When all groups are the same size (block schemes whose blocks divide the
 * layer) that is just the k lowest scores for the k prunePrefix settles on, which a linear-time
 * selection finds without sorting all the groups.
 */
export function pruneLowest(scores: Float64Array, sizes: Uint32Array, target: number): Uint8Array {
  const size = sizes[0];
  let uniform = true;
  for (let g = 0; g < sizes.length && uniform; g++) uniform = sizes[g] === size;
  if (uniform) {
    // prunePrefix's rule with a constant cost: as many as fit, plus the straddling one if closer.
    let count = 0;
    while (count < scores.length && count * size + size <= target + 1e-9) count++;
    if (count < scores.length && count * size + size - target < target - count * size - 1e-9) count++;
    return lowestEqual(scores, count);
  }
  const flags = new Uint8Array(scores.length);
  prunePrefix(rankOrder(scores), target, (g) => sizes[g], (g) => (flags[g] = 1));
  return flags;
}

/** Offset of every GEMM-view column j = c·K + k from its row's first element: c·channelStride + k. */
export function columnOffsets(m: WeightMatrix): Int32Array {
  const out = new Int32Array(m.channels * m.kernel);
  for (let c = 0, j = 0; c < m.channels; c++) for (let k = 0; k < m.kernel; k++) out[j++] = c * m.channelStride + k;
  return out;
}

/** Sets the mask of every weight of (matrix m, rows f0…f1−1, channels c0…c1−1, kernel positions k0…k1−1) to 0. */
export function zeroRange(masks: Uint8Array[], m: WeightMatrix, f0: number, f1: number, c0: number, c1: number, k0: number, k1: number): void {
  const mask = masks[m.tensor];
  for (let f = f0; f < f1; f++) {
    for (let c = c0; c < c1; c++) {
      const base = m.offset + f * m.rowStride + c * m.channelStride; // kernel positions are contiguous
      for (let k = base + k0; k < base + k1; k++) mask[k] = 0;
    }
  }
}

/**
 * Whether a [rows, cols] block fits every matrix of the layer, where the second dimension is the
 * matrix's channels (block-punched) or its C·K columns (block-bcr). Infeasible when the block is
 * larger than a dimension; otherwise feasible, with a note naming any partial last block.
 */
export function blockFit(
  layer: LayerGeometry,
  block: readonly [number, number],
  second: 'channels' | 'columns',
  rowWords: readonly [block: string, unit: string],
  colWords: readonly [block: string, unit: string],
): Feasibility {
  const [br, bcol] = block;
  const size = (m: WeightMatrix) => (second === 'channels' ? m.channels : m.channels * m.kernel);
  for (const m of layer.matrices) {
    if (br > m.rows) return infeasible(`block ${br}×${bcol} is larger than this layer's ${dimWords(layer, m, 'rows')}`);
    if (bcol > size(m)) return infeasible(`block ${br}×${bcol} is larger than this layer's ${dimWords(layer, m, second)}`);
  }
  const notes = new Set<string>();
  const labelled = new Set(layer.matrices.map((m) => `${m.rows}/${size(m)}`)).size > 1;
  for (const m of layer.matrices) {
    const of = labelled ? ` of ${m.label}` : '';
    const count = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
    if (m.rows % br) notes.add(`last ${rowWords[0]} block${of} has ${count(m.rows % br, rowWords[1])}`);
    if (size(m) % bcol) notes.add(`last ${colWords[0]} block${of} has ${count(size(m) % bcol, colWords[1])}`);
  }
  return notes.size ? { ok: true, note: [...notes].join('; ') } : { ok: true };
}
