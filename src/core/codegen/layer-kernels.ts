// Which compact format and kernel each pruning scheme gets (docs/codegen.md has the table):
//   dense, block-punched, block-bcr (block rows with kept columns: block-punched units of one
//   column, bc = 1), filter and channel (compact dense with maps) → the block kernel (emit-conv.ts);
//   unstructured, N:M → row-sparse (CSR) kernel; pattern → pattern kernel (CSR when a layer shows
//   more than MAX_PATTERNS kernel shapes). Gemm/MatMul weights get the same formats (emit-gemm.ts).
// Every format is built from the plan's masks, so the kernels compute exactly the pruned model.

import { blockPunchedFormat, keptFraction, type BlockFormat } from './block-punched-format';
import type { Activation } from './activation';
import type { ConvGeometry } from './conv-planes';
import type { CompactMaps } from './compact-rows';
import { emitConv, type ConvKernel } from './emit-conv';
import { emitConvByFilters, prefersFilterVectors } from './emit-conv-filters';
import { emitConvRows } from './emit-conv-rows';
import { emitGemm, type GemmKernel } from './emit-gemm';
import { kernelPatterns, MAX_PATTERNS, patternFormat, patternWork } from './pattern-format';
import { rowSparseFormat, rowWork } from './row-sparse-format';
import { balanceRows } from './thread-balance';
import type { WeightFile } from './weight-file';
import type { SchemeSpec } from '../schemes/scheme';

/** Schemes codegen has a format for. */
export const CODEGEN_SCHEMES = ['dense', 'block-punched', 'block-bcr', 'filter', 'channel', 'unstructured', 'nm', 'pattern'] as const;

/** Block for dense layers: 8 filters × 4 channels (fewer channels for thin inputs such as RGB). */
export const DENSE_BLOCK = (channels: number): [number, number] => [8, Math.min(4, channels)];

export interface LayerKernel {
  readonly kernel: ConvKernel;
  /** The format used, for reports: "block 8x4, filter vectors", "row-sparse", "pattern (6)", … */
  readonly format: string;
  readonly block?: readonly [number, number];
  /** Fraction of the layer's weights stored. */
  readonly kept: number;
}

export class UnsupportedScheme extends Error {}

function maskedFraction(mask: Uint8Array | undefined): number {
  if (!mask) return 1;
  let n = 0;
  for (let i = 0; i < mask.length; i++) n += mask[i];
  return n / mask.length;
}

/** Kept rows (any mask 1 in [rows][cols]) and kept columns. */
function keptRowsAndColumns(mask: Uint8Array, rows: number, cols: number, kernel: number): { rows: number[]; channels: number[] } {
  const rowKept = new Uint8Array(rows), chKept = new Uint8Array(cols / kernel);
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) if (mask[r * cols + j]) { rowKept[r] = 1; chKept[Math.floor(j / kernel)] = 1; }
  const idx = (a: Uint8Array) => [...a.keys()].filter((i) => a[i]);
  return { rows: idx(rowKept), channels: idx(chKept) };
}

/** w restricted to rows × channels (each channel = `kernel` consecutive columns). */
function compact(w: Float32Array, cols: number, kernel: number, rows: readonly number[], channels: readonly number[]): Float32Array {
  const out = new Float32Array(rows.length * channels.length * kernel);
  rows.forEach((r, i) => channels.forEach((c, j) => out.set(w.subarray(r * cols + c * kernel, r * cols + (c + 1) * kernel), (i * channels.length + j) * kernel)));
  return out;
}

/** Which block-format Conv kernel: `auto` picks by the layer (prefersFilterVectors); the others force one, for tests and benches. */
export type ConvVectors = 'auto' | 'pixels' | 'filters';

/** The block-format kernel: pixel vectors (emit-conv.ts) or filter vectors (emit-conv-filters.ts). */
function blockConvKernel(name: string, g: ConvGeometry, fmt: BlockFormat, bias: Float32Array | undefined, act: Activation, store: WeightFile, threads: number, inputSlack: boolean, vectors: ConvVectors, maps: CompactMaps = {}): { kernel: ConvKernel; vectors: string } {
  const byFilters = fmt.bf % 8 === 0 && fmt.bf <= 16 && (vectors === 'filters' || (vectors === 'auto' && prefersFilterVectors(g, fmt)));
  const emit = byFilters ? emitConvByFilters : emitConv;
  return { kernel: emit(name, g, fmt, bias, act, store, threads, inputSlack, maps), vectors: byFilters ? 'filter vectors' : 'pixel vectors' };
}

/** The kernel of one group-1 Conv (or one group of a grouped Conv). `w` is unmasked; `mask` [F][C][K]. */
export function convLayerKernel(name: string, g: ConvGeometry, w: Float32Array, mask: Uint8Array | undefined, spec: SchemeSpec | undefined, bias: Float32Array | undefined, act: Activation, store: WeightFile, threads: number, inputSlack: boolean, vectors: ConvVectors = 'auto'): LayerKernel {
  const F = g.filters, C = g.channels, K = g.kernel[0] * g.kernel[1];
  const scheme = mask ? spec?.scheme ?? 'dense' : 'dense';
  const masked = mask ? w.map((v, i) => (mask[i] ? v : 0)) : w;
  switch (scheme) {
    case 'dense': case 'block-punched': case 'block-bcr': {
      const block: [number, number] = scheme === 'block-punched' && spec?.block ? [spec.block[0], spec.block[1]]
        : scheme === 'block-bcr' && spec?.block ? [spec.block[0], 1] : DENSE_BLOCK(C);
      const fmt = blockPunchedFormat(w, mask, F, C, K, block[0], block[1]);
      const k = blockConvKernel(name, g, fmt, bias, act, store, threads, inputSlack, vectors);
      return { kernel: k.kernel, format: `block ${block[0]}x${block[1]}, ${k.vectors}`, block, kept: scheme === 'block-bcr' ? maskedFraction(mask) : keptFraction(fmt) };
    }
    case 'filter': case 'channel': {
      const kept = keptRowsAndColumns(mask!, F, C * K, K);
      const rows = scheme === 'filter' ? kept.rows : [...Array(F).keys()];
      const channels = scheme === 'channel' ? kept.channels : [...Array(C).keys()];
      const block = DENSE_BLOCK(Math.max(1, channels.length));
      const fmt = blockPunchedFormat(compact(masked, C * K, K, rows, channels), undefined, rows.length, channels.length, K, block[0], block[1]);
      const maps = { filterMap: scheme === 'filter' ? Int32Array.from(rows) : undefined, channelMap: scheme === 'channel' ? Int32Array.from(channels) : undefined };
      const k = blockConvKernel(name, g, fmt, bias, act, store, threads, inputSlack, vectors, maps);
      return { kernel: k.kernel, format: `compact dense ${rows.length}x${channels.length}, ${k.vectors}`, block, kept: maskedFraction(mask) };
    }
    case 'unstructured': case 'nm': case 'pattern': {
      const usePattern = scheme === 'pattern' && K === 9 && kernelPatterns(mask!, F, C).length <= MAX_PATTERNS;
      const schedule = balanceRows(usePattern ? patternWork(mask!, F, C) : rowWork(mask, F, C * K), threads);
      const binStart = threads > 1 ? schedule.binStart : Int32Array.of(0, F);
      const order = threads > 1 ? schedule.order : undefined;
      const kernel = usePattern
        ? emitConvRows(name, g, { kind: 'pattern', fmt: patternFormat(w, mask!, F, C, order) }, binStart, bias, act, store, inputSlack)
        : emitConvRows(name, g, { kind: 'csr', fmt: rowSparseFormat(w, mask, F, C * K, order) }, binStart, bias, act, store, inputSlack);
      return { kernel, format: usePattern ? 'pattern' : 'row-sparse', kept: maskedFraction(mask) };
    }
    default:
      throw new UnsupportedScheme(scheme);
  }
}

/** The kernel of a Gemm/MatMul: `wt` is the weight as [N][K] (alpha folded in), `mask` in the same layout. */
export function gemmLayerKernel(name: string, M: number, N: number, K: number, wt: Float32Array, mask: Uint8Array | undefined, spec: SchemeSpec | undefined, bias: Float32Array, store: WeightFile, threads: number): { kernel: GemmKernel; format: string; kept: number } {
  const scheme = mask ? spec?.scheme ?? 'dense' : 'dense';
  const masked = mask ? wt.map((v, i) => (mask[i] ? v : 0)) : wt;
  switch (scheme) {
    case 'dense':
      return { kernel: emitGemm(name, M, N, K, { kind: 'block', fmt: blockPunchedFormat(wt, undefined, N, K, 1, 8, K) }, bias, store, threads), format: 'dense', kept: 1 };
    case 'block-punched': case 'block-bcr': {
      const block: [number, number] = spec?.block ? [spec.block[0], scheme === 'block-bcr' ? 1 : spec.block[1]] : [8, 4];
      return { kernel: emitGemm(name, M, N, K, { kind: 'block', fmt: blockPunchedFormat(wt, mask, N, K, 1, block[0], block[1]) }, bias, store, threads), format: `block ${block[0]}x${block[1]}`, kept: maskedFraction(mask) };
    }
    case 'filter': case 'channel': {
      const kept = keptRowsAndColumns(mask!, N, K, 1);
      const rows = scheme === 'filter' ? kept.rows : [...Array(N).keys()];
      const cols = scheme === 'channel' ? kept.channels : [...Array(K).keys()];
      const fmt = blockPunchedFormat(compact(masked, K, 1, rows, cols), undefined, rows.length, cols.length, 1, 8, Math.max(1, cols.length));
      const f = { kind: 'block' as const, fmt, filterMap: scheme === 'filter' ? Int32Array.from(rows) : undefined, channelMap: scheme === 'channel' ? Int32Array.from(cols) : undefined };
      return { kernel: emitGemm(name, M, N, K, f, bias, store, threads), format: `compact dense ${rows.length}x${cols.length}`, kept: maskedFraction(mask) };
    }
    case 'unstructured': case 'nm': {
      const schedule = balanceRows(rowWork(mask, N, K), threads);
      const fmt = rowSparseFormat(wt, mask, N, K, threads > 1 ? schedule.order : undefined);
      return { kernel: emitGemm(name, M, N, K, { kind: 'csr', fmt, binStart: threads > 1 ? schedule.binStart : Int32Array.of(0, N) }, bias, store, threads), format: 'row-sparse', kept: maskedFraction(mask) };
    }
    default:
      throw new UnsupportedScheme(scheme);
  }
}
