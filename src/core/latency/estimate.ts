// The per-layer latency model (DOMAIN.md §6):
//   T = max(MACs_kept / (peak · eff), bytes / bandwidth) + overhead
// where eff = dense efficiency of the layer's class × the fraction of it the scheme keeps (a
// function of the block size for block schemes), and bytes = kept weights (float32) + the scheme's
// index overhead + input and output activations (float32). Per layer only: filter pruning makes the
// next layer's matching input channels dead, but that saving is not counted here (it belongs to the
// next layer's own plan entry). Symbolic and unknown dims count as 1, as Layer.macs does.
// docs/latency.md states every number and why.

import type { Layer } from '../layers';
import type { Shape } from '../onnx/shapes';
import type { SchemeSpec } from '../schemes/scheme';
import { weightMatrices, type WeightMatrix } from '../schemes/weight-matrix';
import type { BlockEfficiency, DeviceProfile, LayerClass } from './profiles';

/** What the model needs of a layer (a Layer has all of it). */
export type LatencyLayer = Pick<Layer, 'op' | 'weightShape' | 'group' | 'kernel' | 'node' | 'recurrentTensor' | 'inputShape' | 'outputShape' | 'macs'>;

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
  readonly notes: readonly string[];
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
  const efficiency = profile.dense[facts.cls].eff * keptEfficiency(profile, spec);

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
  const bytesMoved = FLOAT_BYTES * facts.weights * keep + index + inBytes + outBytes;

  // GMAC/s = 10^6 MACs per ms; GB/s = 10^6 bytes per ms.
  const computeMs = macsKept / (profile.peakGmacs * 1e6 * efficiency);
  const memoryMs = bytesMoved / (profile.bandwidthGBs * 1e6);
  const boundBy = memoryMs > computeMs ? 'memory' : 'compute';
  return { ms: Math.max(computeMs, memoryMs) + profile.overheadMs, boundBy, macsKept, bytesMoved, efficiency, notes };
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
