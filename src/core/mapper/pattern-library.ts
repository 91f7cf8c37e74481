// The model-wide pattern library for the mapper's pattern layers: choosePatternLibrary (the
// pattern scheme's own rule: the most frequent top-4-magnitude shapes) over the kernels of every
// 3×3 layer the plan prunes with patterns. Counting every kernel of a large model is slow (ResNet-50
// has 1.26M 3×3 kernels), so at most `budget` kernels are counted: one per stratum of
// ceil(total / budget) consecutive kernels (all layers' kernels in layer order), at a fixed
// pseudo-random offset inside the stratum — deterministic, spread over every layer in proportion
// to its size, and never aligned with the channel count the way every-k-th sampling can be. When
// the model has at most `budget` kernels, every kernel is counted and the result is exactly
// choosePatternLibrary over the whole layers.

import type { Layer } from '../layers';
import { DataType } from '../onnx/dtypes';
import type { TensorReader } from '../onnx/tensor-data';
import { choosePatternLibrary } from '../schemes/pattern';

export interface PatternSample {
  readonly library: number[];
  /** Kernels counted, and kernels in the layers. */
  readonly counted: number;
  readonly total: number;
}

/** 3×3 Conv layers (group 1): weight [F][C][3][3]. */
export function patternLibraryOf(layers: readonly Layer[], tensors: TensorReader, count: number, budget: number): PatternSample {
  const sizes = layers.map((l) => l.weightShape[0] * l.weightShape[1]);
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total === 0) return { library: [], counted: 0, total };
  const stride = Math.max(1, Math.ceil(total / Math.max(1, budget)));
  const picks: number[] = [];
  for (let s = 0; s * stride < total; s++) {
    const j = s * stride + (stride > 1 ? hash(s) % stride : 0);
    if (j < total) picks.push(j);
  }
  const sample = new Float32Array(picks.length * 9);
  const sampleBytes = new Uint8Array(sample.buffer);
  let p = 0, start = 0, counted = 0;
  for (let i = 0; i < layers.length && p < picks.length; i++) {
    const end = start + sizes[i];
    if (picks[p] < end) {
      // A weight that cannot be read as numbers (e.g. a sparse Constant) is left out of the count.
      let source: Uint8Array | Float32Array | undefined;
      try {
        source = kernelSource(layers[i], tensors);
      } catch {
        source = undefined;
      }
      for (; p < picks.length && picks[p] < end; p++) {
        if (!source) continue;
        const kernel = picks[p] - start;
        if (source instanceof Uint8Array) sampleBytes.set(source.subarray(kernel * 36, kernel * 36 + 36), counted * 36);
        else sample.set(source.subarray(kernel * 9, kernel * 9 + 9), counted * 9);
        counted++;
      }
    }
    start = end;
  }
  return { library: choosePatternLibrary([sample.subarray(0, counted * 9)], count), counted, total };
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The layer's weight values: float32 raw bytes as they are (on a little-endian host they are the
 * values' own memory layout, so a kernel is copied as 36 bytes), else converted to float32.
 */
function kernelSource(layer: Layer, tensors: TensorReader): Uint8Array | Float32Array {
  const t = layer.weightTensor;
  if (t.dataType === DataType.FLOAT && littleEndian) {
    const raw = tensors.raw(t);
    if (raw.byteLength >= t.dims.reduce((a, b) => a * b, 1) * 4) return raw;
  }
  return tensors.float32(t);
}

/** A fixed 32-bit integer hash (Knuth's multiplicative constant, then xorshift). */
function hash(s: number): number {
  let x = Math.imul(s + 1, 0x9e3779b1) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, 0x85ebca6b) >>> 0;
  x ^= x >>> 13;
  return x >>> 0;
}
