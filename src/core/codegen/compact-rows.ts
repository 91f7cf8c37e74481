// What the two block-format Conv kernels (pixel and filter vectors) store of a layer, and its
// compact rows. Filter pruning stores only kept filters: `filterMap` gives the output filter of each stored row,
// and removed filters' outputs are their bias, activated. Channel pruning stores only kept channels:
// `channelMap` gives the input channel of each stored one (conv-planes.ts fills only those).

import type { BlockFormat } from './block-punched-format';
import type { PlaneLayout } from './conv-planes';
import { scalarActivation, type Activation } from './activation';
import type { WeightFile } from './weight-file';

export interface CompactMaps {
  /** Stored filter row → output filter (length = the format's filters); others are bias-only. */
  readonly filterMap?: Int32Array;
  /** Stored channel → input channel (length = the format's channels). */
  readonly channelMap?: Int32Array;
}

/** Output filter of every stored row slot, padded to whole block rows (−1: padding). */
export function rowSlotFilters(fmt: BlockFormat, maps: CompactMaps): Int32Array {
  return Int32Array.from({ length: fmt.blockRows * fmt.bf }, (_, r) => (r < fmt.filters ? (maps.filterMap ? maps.filterMap[r] : r) : -1));
}

/** C statements writing the outputs of filters a compact layer does not store (Q pixels each). */
export function removedFiltersFill(filters: number, maps: CompactMaps, bias: Float32Array | undefined, activation: Activation, Q: number, store: WeightFile): string[] {
  if (!maps.filterMap) return [];
  const kept = new Set(maps.filterMap);
  const gone = Array.from({ length: filters }, (_, f) => f).filter((f) => !kept.has(f));
  if (!gone.length) return [];
  const goneAt = store.addInts(Int32Array.from(gone));
  const bAll = bias ? store.addFloats(bias) : -1;
  return [`  for (int i = 0; i < ${gone.length}; i++) { const int f = WI[${goneAt} + i]; const float v = ${bAll >= 0 ? `WF[${bAll} + f]` : '0.0f'}; const float r = ${scalarActivation(activation, 'v')}; for (int p = 0; p < ${Q}; p++) out[f * ${Q} + p] = r; }`];
}

/** Offsets in the weight file of a block-format layer's arrays (fmAt and biasAt are −1 when absent). */
export interface StoredBlockLayer {
  /** Per unit: its offset into the planes (channel block start + phase plane + kernel position's shift). */
  readonly offAt: number;
  readonly rowAt: number;
  readonly valAt: number;
  /** Output filter per row slot, when the layer has a filter map. */
  readonly fmAt: number;
  /** Bias per row slot, padded to whole block rows (accumulators of padded rows may read it). */
  readonly biasAt: number;
}

/** Adds a block-format layer's units, weights, row map and bias to the weight file. */
export function storeBlockLayer(fmt: BlockFormat, L: PlaneLayout, bias: Float32Array | undefined, maps: CompactMaps, store: WeightFile): StoredBlockLayer {
  const offsets = Int32Array.from(fmt.unitChannel, (c, u) => c * L.CS + L.offset(fmt.unitKernel[u]));
  const filterOf = rowSlotFilters(fmt, maps);
  return {
    offAt: store.addInts(offsets),
    rowAt: store.addInts(fmt.rowStart),
    valAt: store.addFloats(fmt.values),
    fmAt: maps.filterMap ? store.addInts(filterOf) : -1,
    biasAt: bias ? store.addFloats(Float32Array.from(filterOf, (f) => (f >= 0 ? bias[f] : 0))) : -1,
  };
}
