// Test helpers: a layer's geometry straight from an op, its weight shape and attributes (through the
// engine's weightMatrices, which weight-matrix.test.ts checks by hand), and a seeded PRNG.

import { mulberry32 } from '../../support/prng';
import type { Node, Tensor } from '../../../src/core/onnx/model';
import type { LayerGeometry } from '../../../src/core/schemes/scheme';
import { weightMatrices } from '../../../src/core/schemes/weight-matrix';

export interface GeometryOptions {
  readonly group?: number;
  readonly transB?: 0 | 1;
  /** LSTM/GRU/RNN: R's shape [dirs, gates·H, H]. */
  readonly recurrent?: readonly number[];
}

export function geometry(op: string, weightShape: readonly number[], opts: GeometryOptions = {}): LayerGeometry {
  const node: Node = {
    name: '', opType: op, domain: '', inputs: [], outputs: [],
    attributes: opts.transB === undefined ? [] : [{ name: 'transB', type: 2, i: opts.transB }],
  };
  const recurrentTensor: Tensor | undefined = opts.recurrent ? { name: 'R', dataType: 1, dims: opts.recurrent, storage: { kind: 'empty' } } : undefined;
  const group = opts.group ?? 1;
  const layer = { op: op as 'Conv', weightShape, group, node, recurrentTensor };
  return { op, kernelShape: op === 'Conv' || op === 'ConvTranspose' ? weightShape.slice(2) : [], group, matrices: weightMatrices(layer) };
}

/** Elements of a shape. */
export function count(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** mulberry32 (test/support/prng.ts): a small seeded PRNG, uniform in [0, 1). */
export const prng = mulberry32;

/** Random weights in (−1, 1) for a shape. */
export function randomWeights(rand: () => number, shape: readonly number[]): Float32Array {
  return Float32Array.from({ length: count(shape) }, () => rand() * 2 - 1);
}

/** Transposes a row-major [rows][cols] array to [cols][rows] (Gemm transB=1 ↔ transB=0 storage). */
export function transpose<T extends Float32Array | Uint8Array>(a: T, rows: number, cols: number): T {
  const out = new (a.constructor as { new (n: number): T })(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}

/** Indices where the mask is 0. */
export function zerosOf(mask: Uint8Array): number[] {
  return [...mask.keys()].filter((i) => mask[i] === 0);
}
