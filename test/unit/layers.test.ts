// Prunable layers and their metrics on small graphs, with params and MACs computed by hand from
// the definitions in docs/cli.md.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { loadModelFromBytes } from '../../src/core/onnx/load';
import { findLayers } from '../../src/core/layers';
import { attr, filledTensor, floatTensor, graph, modelBytes, node, valueInfo } from '../support/build-model';

function layersOf(g: Parameters<typeof graph>[0]) {
  const { model, tensors } = loadModelFromBytes('/virtual/m.onnx', modelBytes(graph(g)));
  return findLayers(model, tensors);
}

test('grouped and depthwise Conv: MACs = output elements × (C/g)·Kh·Kw; params = weight + bias', () => {
  const [grouped, depthwise] = layersOf({
    node: [
      node('Conv', ['x', 'w', 'b'], ['h'], [attr.int('group', 2), attr.ints('pads', [1, 1, 1, 1])], 'grouped'),
      node('Conv', ['h', 'dw'], ['y'], [attr.int('group', 16), attr.ints('pads', [1, 1, 1, 1])], 'depthwise'),
    ],
    initializer: [filledTensor('w', [16, 4, 3, 3]), filledTensor('b', [16]), filledTensor('dw', [16, 1, 3, 3])],
    input: [valueInfo('x', 1, ['N', 8, 10, 10])],
  });
  assert.equal(grouped.id, 'grouped');
  assert.deepEqual([grouped.group, grouped.kernel, grouped.outputShape], [2, [3, 3], ['N', 16, 10, 10]]);
  assert.equal(grouped.macs, 16 * 10 * 10 * (4 * 3 * 3)); // 57,600 (symbolic N counts as 1)
  assert.equal(grouped.params, 16 * 4 * 9 + 16);
  assert.equal(depthwise.macs, 16 * 10 * 10 * 9);
  assert.equal(depthwise.params, 16 * 9);
});

test('ConvTranspose: MACs = input elements × (F/g)·Kh·Kw', () => {
  const [l] = layersOf({
    node: [node('ConvTranspose', ['x', 'w'], ['y'], [attr.int('group', 2), attr.ints('strides', [2, 2])], 'up')],
    initializer: [filledTensor('w', [4, 2, 3, 3])],
    input: [valueInfo('x', 1, [1, 4, 5, 5])],
  });
  assert.equal(l.macs, 4 * 5 * 5 * (2 * 9));
  assert.deepEqual(l.outputShape, [1, 4, 11, 11]); // 2·4 + 3
});

test('Gemm (transB) and MatMul: MACs = output elements × K', () => {
  const [gemm, matmul] = layersOf({
    node: [node('Gemm', ['x', 'B', 'C'], ['h'], [attr.int('transB', 1)], 'fc'), node('Reshape', ['h', 's'], ['h3']), node('MatMul', ['h3', 'M'], ['y'], [], 'proj')],
    initializer: [filledTensor('B', [10, 16]), filledTensor('C', [10]), filledTensor('M', [5, 3]), { name: 's', dims: [3], dataType: 7, int64Data: [4, 2, 5] }],
    input: [valueInfo('x', 1, [4, 16])],
  });
  assert.deepEqual([gemm.macs, gemm.params, gemm.outputShape], [4 * 10 * 16, 160 + 10, [4, 10]]);
  assert.deepEqual([matmul.macs, matmul.params, matmul.outputShape], [4 * 2 * 3 * 5, 15, [4, 2, 3]]);
});

test('LSTM: MACs = seq × batch × gates·H × (input + H) per direction; params = W + R + B', () => {
  const [l] = layersOf({
    node: [node('LSTM', ['x', 'W', 'R', 'B'], ['Y'], [attr.int('hidden_size', 20), attr.string('direction', 'bidirectional')], 'rnn')],
    initializer: [filledTensor('W', [2, 80, 10]), filledTensor('R', [2, 80, 20]), filledTensor('B', [2, 160])],
    input: [valueInfo('x', 1, [5, 'batch', 10])],
  });
  assert.equal(l.macs, 5 * 1 * 80 * (10 + 20) * 2);
  assert.equal(l.params, 1600 + 3200 + 320);
});

test('weights behind Identity and Constant nodes count; run-time weights and other domains do not', () => {
  const layers = layersOf({
    node: [
      node('Identity', ['w'], ['w1']),
      node('Identity', ['w1'], ['w2']),
      node('Conv', ['x', 'w2'], ['a']),
      node('Constant', [], ['cw'], [attr.tensor('value', floatTensor('', [2, 2, 1, 1], [1, 2, 3, 4]))]),
      node('Conv', ['a', 'cw'], ['b']),
      node('MatMul', ['b', 'b'], ['c']),
      { ...node('Conv', ['x', 'w'], ['d']), domain: 'com.example' },
      node('Conv', ['a', 'cw'], ['e']),
    ],
    initializer: [filledTensor('w', [2, 3, 1, 1])],
    input: [valueInfo('x', 1, [1, 3, 4, 4])],
  });
  // Unnamed nodes take the weight's name as written; a repeated id gets #2.
  assert.deepEqual(layers.map((l) => l.id), ['w2', 'cw', 'cw#2']);
  assert.deepEqual(layers.map((l) => l.weightTensor.name), ['w', 'cw', 'cw']);
  assert.deepEqual(layers[1].weightShape, [2, 2, 1, 1]);
});

test('layers inside subgraphs follow the node that holds them', () => {
  const branch = (name: string) => graph({ name, node: [node('Conv', ['x', 'w'], [`${name}_y`], [], `${name}_conv`)], output: [valueInfo(`${name}_y`, 1, [1, 2, 4, 4])] });
  const layers = layersOf({
    node: [
      node('Conv', ['x', 'w'], ['first'], [], 'before'),
      node('If', ['cond'], ['y'], [attr.graph('then_branch', branch('then')), attr.graph('else_branch', branch('else'))], 'if'),
      node('Conv', ['x', 'w'], ['last'], [], 'after'),
    ],
    initializer: [filledTensor('w', [2, 3, 1, 1])],
    input: [valueInfo('x', 1, [1, 3, 4, 4]), valueInfo('cond', 9, [])],
  });
  assert.deepEqual(layers.map((l) => l.id), ['before', 'then_conv', 'else_conv', 'after']);
  assert.deepEqual(layers[1].graphPath, [{ node: 1, attribute: 'then_branch', index: 0 }]);
  assert.equal(layers[1].macs, 2 * 4 * 4 * 3, 'the outer initializer and input shape are visible inside the branch');
});
