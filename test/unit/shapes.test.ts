// Shape inference for the ops between a model's inputs and its layers, with hand-computed shapes.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { loadModelFromBytes } from '../../src/core/onnx/load';
import { walkGraphs } from '../../src/core/onnx/graph-view';
import { ShapeTable } from '../../src/core/onnx/shapes';
import { attr, filledTensor, graph, modelBytes, node, valueInfo, type Dims } from '../support/build-model';
import type { onnx } from 'onnx-proto';

const int64 = (name: string, values: (number | string)[]): onnx.ITensorProto => ({ name, dims: [values.length], dataType: 7, int64Data: values as number[] });
const float = (name: string, values: number[]): onnx.ITensorProto => ({ name, dims: [values.length], dataType: 1, floatData: values });

/** Shape of `y` for one node applied to input `x` of the given shape. */
function inferred(x: Dims, n: onnx.INodeProto, initializer: onnx.ITensorProto[] = [], extraInputs: onnx.IValueInfoProto[] = []) {
  const { model, tensors } = loadModelFromBytes('/virtual/m.onnx', modelBytes(graph({
    node: [n], initializer, input: [valueInfo('x', 1, x), ...extraInputs], output: [{ name: 'y' }],
  })));
  const ctx = walkGraphs(model).next().value!;
  return new ShapeTable(ctx.scope, tensors).get('y');
}

test('Conv: pads, strides, dilations, auto_pad, symbolic batch', () => {
  const w = [filledTensor('w', [8, 3, 3, 3])];
  assert.deepEqual(inferred(['N', 3, 32, 32], node('Conv', ['x', 'w'], ['y'], [attr.ints('pads', [1, 1, 1, 1]), attr.ints('strides', [2, 2])]), w), ['N', 8, 16, 16]);
  assert.deepEqual(inferred([1, 3, 32, 32], node('Conv', ['x', 'w'], ['y'], [attr.ints('dilations', [2, 2])]), w), [1, 8, 28, 28]); // 32 - 5 + 1
  assert.deepEqual(inferred([1, 3, 15, 15], node('Conv', ['x', 'w'], ['y'], [attr.string('auto_pad', 'SAME_UPPER'), attr.ints('strides', [2, 2])]), w), [1, 8, 8, 8]);
  assert.deepEqual(inferred([1, 3, 15, 15], node('Conv', ['x', 'w'], ['y'], [attr.string('auto_pad', 'VALID'), attr.ints('strides', [2, 2])]), w), [1, 8, 7, 7]); // (15-3)/2+1
});

test('ConvTranspose: groups, stride, pads, output_padding', () => {
  // 2·(5−1) + 1 + (3−1)·1 + 1 − 1 − 1 = 10; F = 2 per group × 2 groups.
  const n = node('ConvTranspose', ['x', 'w'], ['y'], [attr.int('group', 2), attr.ints('strides', [2, 2]), attr.ints('pads', [1, 1, 1, 1]), attr.ints('output_padding', [1, 1])]);
  assert.deepEqual(inferred([1, 4, 5, 5], n, [filledTensor('w', [4, 2, 3, 3])]), [1, 4, 10, 10]);
});

test('pooling: floor and ceil modes, global pooling', () => {
  const pool = (ceil: number) => node('MaxPool', ['x'], ['y'], [attr.ints('kernel_shape', [3, 3]), attr.ints('strides', [2, 2]), attr.int('ceil_mode', ceil)]);
  assert.deepEqual(inferred([1, 2, 6, 6], pool(0)), [1, 2, 2, 2]); // floor(3/2)+1
  assert.deepEqual(inferred([1, 2, 6, 6], pool(1)), [1, 2, 3, 3]); // ceil(3/2)+1
  assert.deepEqual(inferred(['N', 7, 6, 5], node('GlobalAveragePool', ['x'], ['y'])), ['N', 7, 1, 1]);
});

test('Gemm with transB, MatMul with batch dims, broadcasting', () => {
  assert.deepEqual(inferred([4, 16], node('Gemm', ['x', 'b'], ['y'], [attr.int('transB', 1)]), [filledTensor('b', [10, 16])]), [4, 10]);
  assert.deepEqual(inferred(['B', 7, 16], node('MatMul', ['x', 'b'], ['y']), [filledTensor('b', [16, 10])]), ['B', 7, 10]);
  assert.deepEqual(inferred(['B', 1, 4], node('Add', ['x', 'c'], ['y']), [filledTensor('c', [3, 1])]), ['B', 3, 4]);
  assert.deepEqual(inferred([null as unknown as number, 4], node('Mul', ['x', 'c'], ['y']), [filledTensor('c', [1])])?.map(String), ['null', '4'], 'an unknown dim stays unknown');
});

test('Flatten, Reshape with 0 and -1, Transpose, Concat', () => {
  assert.deepEqual(inferred([2, 8, 4, 4], node('Flatten', ['x'], ['y'])), [2, 128]);
  assert.deepEqual(inferred(['N', 8, 4, 4], node('Reshape', ['x', 's'], ['y']), [int64('s', [0, -1])]), ['N', 128]);
  assert.deepEqual(inferred([1, 3, 8, 6], node('Transpose', ['x'], ['y'], [attr.ints('perm', [0, 2, 3, 1])])), [1, 8, 6, 3]);
  assert.deepEqual(inferred([1, 3, 8, 8], node('Concat', ['x', 'z'], ['y'], [attr.int('axis', 1)]), [filledTensor('z', [1, 5, 8, 8])]), [1, 8, 8, 8]);
});

test('Reshape through Shape → Gather → Unsqueeze → Concat keeps the symbolic batch', () => {
  const { model, tensors } = loadModelFromBytes('/virtual/m.onnx', modelBytes(graph({
    node: [
      node('Shape', ['x'], ['s']),
      node('Gather', ['s', 'zero'], ['n'], [attr.int('axis', 0)]),
      node('Unsqueeze', ['n', 'axes'], ['n1']),
      node('Concat', ['n1', 'minus1'], ['target'], [attr.int('axis', 0)]),
      node('Reshape', ['x', 'target'], ['y']),
    ],
    initializer: [{ name: 'zero', dims: [], dataType: 7, int64Data: [0] }, int64('axes', [0]), int64('minus1', [-1])],
    input: [valueInfo('x', 1, ['batch', 8, 4, 4])],
  }), {}, 13));
  const ctx = walkGraphs(model).next().value!;
  assert.deepEqual(new ShapeTable(ctx.scope, tensors).get('y'), ['batch', 128]);
});

test('Resize by scales, Pad, Slice with steps, Split', () => {
  assert.deepEqual(inferred([1, 3, 8, 8], node('Resize', ['x', '', 'scales'], ['y']), [float('scales', [1, 1, 2, 2])]), [1, 3, 16, 16]);
  assert.deepEqual(inferred([1, 3, 8, 8], node('Pad', ['x', 'pads'], ['y']), [int64('pads', [0, 0, 1, 2, 0, 0, 1, 2])]), [1, 3, 10, 12]);
  // starts 1, ends INT64_MAX, step 2 over 9 → indexes 1,3,5,7.
  const slice = node('Slice', ['x', 'st', 'en', 'ax', 'sp'], ['y']);
  assert.deepEqual(inferred([1, 3, 9, 9], slice, [int64('st', [1]), int64('en', ['9223372036854775807']), int64('ax', [2]), int64('sp', [2])]), [1, 3, 4, 9]);
  const { model, tensors } = loadModelFromBytes('/virtual/m.onnx', modelBytes(graph({
    node: [node('Split', ['x'], ['a', 'b'], [attr.int('axis', 1)])], input: [valueInfo('x', 1, [1, 6, 4])],
  })));
  const table = new ShapeTable(walkGraphs(model).next().value!.scope, tensors);
  assert.deepEqual([table.get('a'), table.get('b')], [[1, 3, 4], [1, 3, 4]]);
});

test('LSTM outputs: Y [seq, dirs, batch, hidden] and states [dirs, batch, hidden]', () => {
  const { model, tensors } = loadModelFromBytes('/virtual/m.onnx', modelBytes(graph({
    node: [node('LSTM', ['x', 'W', 'R'], ['Y', 'Yh'], [attr.int('hidden_size', 20), attr.string('direction', 'bidirectional')])],
    initializer: [filledTensor('W', [2, 80, 10]), filledTensor('R', [2, 80, 20])],
    input: [valueInfo('x', 1, [5, 'batch', 10])],
  })));
  const table = new ShapeTable(walkGraphs(model).next().value!.scope, tensors);
  assert.deepEqual(table.get('Y'), [5, 2, 'batch', 20]);
  assert.deepEqual(table.get('Yh'), [2, 'batch', 20]);
});

test('a shape declared in value_info wins over inference', () => {
  const { model, tensors } = loadModelFromBytes('/virtual/m.onnx', modelBytes(graph({
    node: [node('Relu', ['x'], ['y'])], input: [valueInfo('x', 1, [1, 2])], valueInfo: [valueInfo('y', 1, ['declared', 2])],
  })));
  assert.deepEqual(new ShapeTable(walkGraphs(model).next().value!.scope, tensors).get('y'), ['declared', 2]);
});
