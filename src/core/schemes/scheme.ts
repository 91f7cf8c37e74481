// What every pruning scheme provides (DOMAIN.md §3): a feasibility check with a reason, and
// deterministic mask generation at a rate, exact to one pruning group. Masks are in the layout of
// the layer's ONNX weight tensors: 1 keeps a weight, 0 prunes it.

import type { WeightMatrix } from './weight-matrix';

export type SchemeId = 'dense' | 'unstructured' | 'filter' | 'channel' | 'pattern' | 'block-punched' | 'block-bcr' | 'nm';

/** A layer's scheme and its parameters, as a plan file states them. */
export interface SchemeSpec {
  readonly scheme: SchemeId;
  /** Fraction of the layer's weights set to zero, in [0, 1). */
  readonly rate: number;
  /** block-punched: [filters, channels]; block-bcr: [rows, cols] of the GEMM view. */
  readonly block?: readonly [number, number];
  /** nm: keep n of every m consecutive input weights. */
  readonly n?: number;
  readonly m?: number;
  /** pattern: size of the pattern library, and the library itself (9-bit masks, bit k = position k of the 3×3 kernel). */
  readonly patterns?: number;
  readonly library?: readonly number[];
}

/** Only the scheme's fields of a plan entry (no reason or latency), copied; dense has rate 0. */
export function specOf(e: SchemeSpec): SchemeSpec {
  const spec: { -readonly [K in keyof SchemeSpec]: SchemeSpec[K] } = { scheme: e.scheme, rate: e.scheme === 'dense' ? 0 : e.rate };
  if (e.block) spec.block = [e.block[0], e.block[1]];
  if (e.n !== undefined) spec.n = e.n;
  if (e.m !== undefined) spec.m = e.m;
  if (e.patterns !== undefined) spec.patterns = e.patterns;
  if (e.library) spec.library = [...e.library];
  return spec;
}

/** What a scheme needs to know about a layer to judge it (no weights). */
export interface LayerGeometry {
  readonly op: string;
  readonly kernelShape: readonly number[];
  readonly group: number;
  /** The layer's GEMM-view matrices (see weight-matrix.ts). */
  readonly matrices: readonly WeightMatrix[];
}

export type Feasibility = { readonly ok: true; readonly note?: string } | { readonly ok: false; readonly reason: string };

export interface PruningScheme {
  readonly id: SchemeId;
  /** One line for people: what the scheme removes. */
  readonly summary: string;
  feasible(layer: LayerGeometry, spec: SchemeSpec): Feasibility;
  /**
   * Masks for the layer's weight tensors (index 0: W, 1: R of RNNs), given their values as
   * float32 in the tensors' own flat layout. Deterministic: ties break by lower index.
   */
  mask(layer: LayerGeometry, weights: readonly Float32Array[], spec: SchemeSpec): Uint8Array[];
}
