// The per-layer latency model (DOMAIN.md §6):
//   T = max(c, m) + (1 − overlap) · min(c, m) + passes + overhead
//   c = MACs_kept / (peak · eff),  m = weight bytes / bandwidth + activation bytes / activation bandwidth
// (overlap is 1, i.e. the plain max, unless a measured profile fitted it)
// where eff = dense efficiency of the layer's class × the fraction of it the scheme keeps (a
// function of the block size for block schemes), and bytes = kept weights (float32) + the scheme's
// index overhead + input and output activations (float32). A measured profile may add the generated
// kernels' own costs (all optional, absent in the modelled profiles, which then get exactly the
// formula above): `planePass` (the phase-plane fill and copy-out, outside the max),
// `activationBandwidth` (activations from the caches) and `weightStream` (weights re-read once per
// super tile by the pixel-vector kernel, once by the filter-vector kernel) and `filterVectors` (the
// filter-vector kernel's compute speed relative to the pixel-vector one) and `inputReloads` (input
// vectors reloaded from L2 when a tile's input overflows L1); with them, c counts the
// output positions the kernels compute past the map (tile rounding, plane columns; computedPositions).
// Per layer only: filter pruning makes the next layer's matching input channels dead,
// but that saving is not counted here (it belongs to the next layer's own plan entry). Symbolic and
// unknown dims count as 1, as Layer.macs does. docs/latency.md states every number and why.

import type { Layer } from '../layers';
import type { Shape } from '../onnx/shapes';
import type { SchemeSpec } from '../schemes/scheme';
import { weightMatrices, type WeightMatrix } from '../schemes/weight-matrix';
import { pixelRegisterBlock, superTileSize } from '../codegen/emit-conv';
import { filterVectorsPay } from '../codegen/emit-conv-filters';
import { ROW_TILE } from '../codegen/emit-conv-rows';
import { DENSE_BLOCK } from '../codegen/layer-kernels';
import { DEPTHWISE_TILE } from '../codegen/emit-depthwise';
import type { BlockEfficiency, DeviceProfile, LayerClass } from './profiles';

/** What the model needs of a layer (a Layer has all of it). */
export type LatencyLayer = Pick<Layer, 'op' | 'weightShape' | 'group' | 'kernel' | 'strides' | 'node' | 'recurrentTensor' | 'inputShape' | 'outputShape' | 'macs'>;

export interface LayerEstimate {
  readonly ms: number;
  /** Which term of the max decided: the multiply-adds or the bytes. */
  readonly boundBy: 'compute' | 'memory';
  readonly macsKept: number;
  readonly bytesMoved: number;
  /** Fraction of peak used: dense efficiency of the class × the scheme's kept fraction. */
  readonly efficiency: number;
  readonly notes: readonly string[];
}

const FLOAT_BYTES = 4;
/** Floats of the generated kernels' vectors (codegen's v8f). */
const VECTOR_FLOATS = 8;
/** Default block when a block scheme's spec has none (the group's default, DOMAIN.md §3.5). */
const DEFAULT_BLOCK: readonly [number, number] = [8, 4];

/** The layer's kernel family, as the profiles' dense efficiency table names them. */
export function layerClassOf(layer: Pick<Layer, 'op' | 'weightShape' | 'group' | 'kernel'>): LayerClass {
  switch (layer.op) {
    case 'LSTM':
    case 'GRU':
    case 'RNN':
      return 'rnn';
    case 'Gemm':
    case 'MatMul':
      return 'gemm';
    default: {
      // Conv W[F][C/g][k…] and ConvTranspose W[C][F/g][k…]: depthwise when every group has one
      // input and one output channel, i.e. weightShape[1] = 1 and weightShape[0] = group.
      const [a, b] = layer.weightShape;
      if (layer.group > 1 && b === 1 && a === layer.group) return 'depthwise';
      if (layer.kernel.length > 0 && layer.kernel.every((k) => k === 1)) return 'conv1x1';
      if (layer.kernel.length === 2 && layer.kernel[0] === 3 && layer.kernel[1] === 3) return 'conv3x3';
      return 'conv';
    }
  }
}

/** Fraction of dense efficiency a scheme keeps on this profile (1 for dense). */
export function keptEfficiency(profile: DeviceProfile, spec: SchemeSpec | 'dense'): number {
  if (spec === 'dense' || spec.scheme === 'dense') return 1;
  switch (spec.scheme) {
    case 'block-punched':
    case 'block-bcr':
      return blockEfficiency(profile.sparse[spec.scheme], spec.block ?? DEFAULT_BLOCK);
    default:
      return profile.sparse[spec.scheme].keep;
  }
}

/** floor + (max − floor) · min(1, log2(bf·bc) / log2(saturateAt)). */
export function blockEfficiency(e: BlockEfficiency, block: readonly [number, number]): number {
  const size = Math.max(1, block[0] * block[1]);
  const t = Math.log2(size) / Math.log2(e.saturateAt);
  return t >= 1 ? e.max : e.floor + (e.max - e.floor) * t;
}

/** What the estimate needs of a layer that does not depend on the scheme, computed once per layer. */
interface LayerFacts {
  readonly matrices: readonly WeightMatrix[];
  readonly weights: number;
  readonly cls: LayerClass;
  readonly inElements: number;
  readonly outElements: number;
  /** A 2-D Conv with static shapes: what the kernel terms need (undefined otherwise). */
  readonly planes?: ConvPlanes;
  readonly notes: readonly string[];
}

/** The phase-plane geometry of a generated 2-D Conv kernel (codegen/conv-planes.ts), from the layer's shapes. */
export interface ConvPlanes {
  readonly channels: number;
  readonly filters: number;
  /** Output pixels OH·OW. */
  readonly outPixels: number;
  /** Floats of the planes filled per input channel; 0 when the kernel reads its input in place (1×1, stride 1, unpadded). */
  readonly planeFloatsPerChannel: number;
  /** The results are copied out of padded rows (WQ > OW). */
  readonly copyOut: boolean;
  /** Times the pixel-vector block kernel streams the weights: once per super tile of output tiles (emit-conv.ts). */
  readonly weightPasses: number;
  /** Channels per group × kernel positions: a dense block row's units × bc, per output position. */
  readonly rowWork: number;
  /** Plane positions a pixel-vector kernel sweeps, OH·WQ (columns past OW included), before rounding up to its tile. */
  readonly planePositions: number;
  /** Positions the filter-vector kernel computes: (OH − 1)·WQ + OW. */
  readonly filterPositions: number;
  /** Plane floats one channel's taps reach past a tile's own positions, in one phase plane: ⌈(KH − 1)/SH⌉·WQ + ⌈(KW − 1)/SW⌉. */
  readonly tapSpan: number;
  /** Phase planes per channel: min(SH, KH)·min(SW, KW). */
  readonly phases: number;
}

const factsCache = new WeakMap<LatencyLayer, LayerFacts>();

function factsOf(layer: LatencyLayer): LayerFacts {
  let facts = factsCache.get(layer);
  if (!facts) {
    const notes: string[] = [];
    const matrices = weightMatrices(layer);
    facts = {
      matrices,
      weights: matrices.reduce((n, m) => n + m.rows * m.channels * m.kernel, 0),
      cls: layerClassOf(layer),
      inElements: elementsOf(layer.inputShape, 'input', notes),
      outElements: elementsOf(layer.outputShape, 'output', notes),
      planes: convPlanesOf(layer),
      notes,
    };
    factsCache.set(layer, facts);
  }
  return facts;
}

/** Estimated time of one layer under a scheme (or dense) on a device. */
export function estimateLayer(layer: LatencyLayer, spec: SchemeSpec | 'dense', profile: DeviceProfile): LayerEstimate {
  const facts = factsOf(layer);
  const notes = [...facts.notes];
  const s = spec === 'dense' || spec.scheme === 'dense' ? undefined : spec;
  const rate = s ? s.rate : 0;
  const keep = 1 - rate;

  const macsKept = layer.macs * keep;
  // codegen's filter-vector form of the block kernel (measured profiles may rate its speed apart).
  const onFilterVectors = !!facts.planes && byFilterVectors(facts.planes, s);
  const efficiency = profile.dense[facts.cls].eff * keptEfficiency(profile, spec) * (onFilterVectors ? profile.filterVectors?.speedup ?? 1 : 1);

  const index = s ? indexBytes(s, facts.matrices) : 0;
  let inBytes = FLOAT_BYTES * facts.inElements;
  let outBytes = FLOAT_BYTES * facts.outElements;
  if (s?.scheme === 'filter') {
    outBytes *= keep;
    notes.push("filter pruning: this layer writes fewer channels; the next layer's dead input channels are not counted here");
  } else if (s?.scheme === 'channel') {
    inBytes *= keep;
    notes.push('channel pruning: this layer reads fewer input channels; the producer still computes them');
  }
  const weightBytes = FLOAT_BYTES * facts.weights * keep + index;
  const bytesMoved = weightBytes + inBytes + outBytes;

  // GMAC/s = 10^6 MACs per ms; GB/s = 10^6 bytes per ms.
  // Positions computed past the map (tile rounding, plane columns), for measured profiles with kernel terms.
  const waste = facts.planes && profile.planePass ? computedPositions(facts.planes, facts.cls, s, onFilterVectors) / facts.planes.outPixels : 1;
  const computeMs = (macsKept * waste) / (profile.peakGmacs * 1e6 * efficiency);
  // Filter vectors read the weights once and store results transposed, one scalar each: charged as a copy-out.
  const planes = facts.planes && onFilterVectors ? { ...facts.planes, weightPasses: 1, copyOut: true } : facts.planes;
  // Weights: once at DRAM bandwidth, or once per super tile at `weightStream` when the profile has it.
  const weightMs = profile.weightStream && planes ? (weightBytes * planes.weightPasses) / (profile.weightStream.gbs * 1e6) : weightBytes / (profile.bandwidthGBs * 1e6);
  const memoryMs = weightMs + (inBytes + outBytes) / ((profile.activationBandwidth?.gbs ?? profile.bandwidthGBs) * 1e6);
  const boundBy = memoryMs > computeMs ? 'memory' : 'compute';
  // The part of the smaller term that does not overlap the larger one (none unless the profile says).
  const exposed = (1 - (profile.overlap ?? 1)) * Math.min(computeMs, memoryMs);
  const passMs = planePassMs(profile, planes, s) + inputReloadMs(profile, facts, s, macsKept * waste, onFilterVectors);
  return { ms: Math.max(computeMs, memoryMs) + exposed + passMs + profile.overheadMs, boundBy, macsKept, bytesMoved, efficiency, notes };
}

/**
 * Time the pixel-form kernels spend reloading input vectors from L2 (profiles with `inputReloads`):
 * every kept multiply-add of a tile reads an input vector shared by FS filters (the block kernel's
 * register block) or by one (row kernels: unstructured, N:M, pattern), and when the tile's input,
 * every channel, overflows L1 the fraction 1 − L1 / input of those loads misses it.
 */
function inputReloadMs(profile: DeviceProfile, facts: LayerFacts, s: SchemeSpec | undefined, macsComputed: number, onFilterVectors: boolean): number {
  const r = profile.inputReloads, planes = facts.planes;
  if (!r || !planes || onFilterVectors || facts.cls === 'depthwise') return 0;
  const byRows = !!s && ROW_SCHEMES.has(s.scheme);
  const block = pixelRegisterBlock(blockRowFilters(s) || 8);
  const tile = byRows ? ROW_TILE : block.tile;
  const sharedBy = byRows ? 1 : block.FS;
  const channels = planes.channels * (s?.scheme === 'channel' ? 1 - s.rate : 1);
  const inputBytes = FLOAT_BYTES * channels * planes.phases * (tile + planes.tapSpan);
  const miss = Math.max(0, 1 - r.l1Bytes / inputBytes);
  const loads = macsComputed / (VECTOR_FLOATS * sharedBy);
  return (loads * VECTOR_FLOATS * FLOAT_BYTES * miss) / (r.gbs * 1e6);
}

/** Schemes codegen runs on its row kernels (emit-conv-rows.ts): one filter at a time. */
const ROW_SCHEMES = new Set(['unstructured', 'nm', 'pattern']);

/**
 * The reorganisation passes' time when the profile has `planePass`: the phase-plane fill (every
 * input channel read, 1 of them per channel-pruned kept fraction, into planes of the padded input)
 * and, when plane rows are wider than output rows, the copy of results out of them; both bytes at
 * `planePass.gbs`. These passes do not overlap the arithmetic: they run before and after it.
 */
export function planePassMs(profile: DeviceProfile, planes: ConvPlanes | undefined, s: SchemeSpec | undefined): number {
  if (!profile.planePass || !planes) return 0;
  const keep = s ? 1 - s.rate : 1;
  const channels = planes.channels * (s?.scheme === 'channel' ? keep : 1);
  const filters = s?.scheme === 'filter' ? keep : 1; // copy-out of kept filters only (fraction of outPixels·F)
  const planeBytes = FLOAT_BYTES * channels * planes.planeFloatsPerChannel;
  const copyBytes = planes.copyOut ? FLOAT_BYTES * planes.filters * filters * planes.outPixels : 0;
  return (planeBytes + copyBytes) / (profile.planePass.gbs * 1e6);
}

/** The phase planes a generated Conv kernel fills (codegen/conv-planes.ts), from the layer's static shapes. */
function convPlanesOf(layer: LatencyLayer): ConvPlanes | undefined {
  if (layer.op !== 'Conv' || layer.kernel.length !== 2 || layer.strides.length !== 2) return undefined;
  const i = layer.inputShape, o = layer.outputShape;
  if (!i || !o || i.length !== 4 || o.length !== 4) return undefined;
  const [C, H, W] = [i[1], i[2], i[3]], [F, OH, OW] = [o[1], o[2], o[3]];
  if (![C, H, W, F, OH, OW].every((d) => typeof d === 'number' && d > 0)) return undefined;
  const [KH, KW] = layer.kernel, [SH, SW] = layer.strides;
  // Plane rows: the padded extent over the stride, (OW − 1)·SW + KW padded columns → WQ = OW − 1 + ⌈KW/SW⌉.
  const WQ = (OW as number) - 1 + Math.ceil(KW / SW), HQ = (OH as number) - 1 + Math.ceil(KH / SH);
  const direct = KH === 1 && KW === 1 && SH === 1 && SW === 1 && OH === H && OW === W;
  return {
    channels: C as number,
    filters: F as number,
    outPixels: (OH as number) * (OW as number),
    planeFloatsPerChannel: direct ? 0 : Math.min(SH, KH) * Math.min(SW, KW) * HQ * WQ,
    copyOut: WQ > (OW as number),
    weightPasses: weightPasses(C as number, (OH as number) * WQ),
    planePositions: (OH as number) * WQ,
    filterPositions: ((OH as number) - 1) * WQ + (OW as number),
    rowWork: layer.weightShape[1] * KH * KW,
    tapSpan: Math.ceil((KH - 1) / SH) * WQ + Math.ceil((KW - 1) / SW),
    phases: Math.min(SH, KH) * Math.min(SW, KW),
  };
}

/**
 * Whether codegen gives the layer its filter-vector block kernel (codegen/emit-conv-filters.ts: the
 * weights read once, results stored straight to the output): block formats whose block rows are 8
 * or 16 filters (dense, filter and channel pruning use 8), by the kernel's own rule.
 */
function byFilterVectors(planes: ConvPlanes, s: SchemeSpec | undefined): boolean {
  const rows = blockRowFilters(s);
  if (rows !== 8 && rows !== 16) return false;
  // Kept units per block row: every unit for filter pruning (the compact layer keeps all channels).
  const keep = s && s.scheme !== 'filter' ? 1 - s.rate : 1;
  // Channels per unit (layer-kernels.ts): block-bcr runs on (br, 1) units, dense and compact layers on
  // DENSE_BLOCK; channel pruning stores the kept channels.
  const channels = planes.channels * (s?.scheme === 'channel' ? keep : 1);
  const unitChannels = s?.scheme === 'block-bcr' ? 1 : s?.scheme === 'block-punched' ? (s.block ?? DEFAULT_BLOCK)[1] : DENSE_BLOCK(channels)[1];
  return filterVectorsPay(planes.outPixels, planes.rowWork * keep, unitChannels, channels);
}

/** Filters per block row of the block-format kernel codegen emits for the scheme (0: not a block format). */
function blockRowFilters(s: SchemeSpec | undefined): number {
  const scheme = s?.scheme ?? 'dense';
  if (scheme === 'block-punched' || scheme === 'block-bcr') return (s!.block ?? DEFAULT_BLOCK)[0];
  return ['dense', 'filter', 'channel'].includes(scheme) ? 8 : 0;
}

/**
 * Output positions the generated kernel computes (measured profiles only, with the other kernel
 * terms): pixel-vector kernels sweep whole tiles of plane positions (columns past OW included) —
 * the block kernel 24 (48 or 64 for block rows of 2 or an odd number of filters), the row-sparse
 * and pattern kernels 48, depthwise 32 — and the filter-vector
 * kernel every plane position up to the last output. Small maps waste most: 7×7 on tiles of 48
 * computes 96.
 */
function computedPositions(planes: ConvPlanes, cls: LayerClass, s: SchemeSpec | undefined, onFilterVectors: boolean): number {
  if (onFilterVectors) return planes.filterPositions;
  const rows = blockRowFilters(s);
  const tile = cls === 'depthwise' ? DEPTHWISE_TILE : rows ? pixelRegisterBlock(rows).tile : ROW_TILE;
  return Math.ceil(planes.planePositions / tile) * tile;
}

/**
 * Super tiles of the pixel-vector block kernel (emit-conv.ts): tiles of TILE output positions grouped
 * by codegen's superTileSize (one group's input within L2, runs of at least 96 floats per channel);
 * every block row's weights are read once per super tile. TILE: codegen's tile for block rows of 8
 * (24 positions).
 */
function weightPasses(channels: number, rowPixels: number): number {
  const TILE = pixelRegisterBlock(8).tile;
  const tiles = Math.ceil(rowPixels / TILE);
  return Math.ceil(tiles / superTileSize(channels, TILE, tiles));
}

/**
 * Bytes of the sparse format's indexes beyond the kept float32 values (docs/latency.md):
 *   unstructured (CSR): 4 per kept weight + 4 per row; nm: log2(m) bits per kept weight;
 *   pattern (FKW-like): 3 per kept kernel (int16 channel index + uint8 pattern id) + 4 per filter;
 *   block-punched: 2 per kept unit + 4 per block row; block-bcr: per block 4 + (rows + cols) bits;
 *   filter, channel: none (the matrix is just smaller).
 */
export function indexBytes(spec: SchemeSpec, matrices: readonly WeightMatrix[]): number {
  const keep = 1 - spec.rate;
  let bytes = 0;
  for (const m of matrices) {
    const weights = m.rows * m.channels * m.kernel;
    switch (spec.scheme) {
      case 'unstructured':
        bytes += 4 * weights * keep + 4 * m.rows;
        break;
      case 'nm':
        bytes += (Math.ceil(Math.log2(Math.max(2, spec.m ?? 4))) / 8) * weights * keep;
        break;
      case 'pattern': {
        // kept = (4/9)(1 − q) of the weights: (1 − q) of the kernels survive connectivity pruning.
        const keptKernels = m.rows * m.channels * Math.min(1, (9 / 4) * keep);
        bytes += 3 * keptKernels + 4 * m.rows;
        break;
      }
      case 'block-punched': {
        const [bf, bc] = spec.block ?? DEFAULT_BLOCK;
        const rowBlocks = Math.ceil(m.rows / bf);
        const units = rowBlocks * Math.ceil(m.channels / bc) * m.kernel;
        bytes += 2 * units * keep + 4 * rowBlocks;
        break;
      }
      case 'block-bcr': {
        const [br, bc] = spec.block ?? DEFAULT_BLOCK;
        const blocks = Math.ceil(m.rows / br) * Math.ceil((m.channels * m.kernel) / bc);
        bytes += blocks * (4 + (br + bc) / 8);
        break;
      }
      default:
        break;
    }
  }
  return bytes;
}

/** Elements of a shape with symbolic and unknown dims as 1 (noted); an unknown shape counts as 1. */
function elementsOf(shape: Shape | null, what: string, notes: string[]): number {
  if (!shape) {
    notes.push(`${what} shape unknown: counted as 1 element`);
    return 1;
  }
  let n = 1;
  const symbolic: string[] = [];
  for (const d of shape) {
    if (typeof d === 'number') n *= d;
    else symbolic.push(typeof d === 'string' ? d : '?');
  }
  if (symbolic.length) notes.push(`${what} dims ${symbolic.join(', ')} counted as 1`);
  return n;
}
