// The GEMM view of every layer kind, by hand: element (f, c, k) ↔ the flat index of the ONNX tensor.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { loadModelFromBytes } from '../../../src/core/onnx/load';
import { findLayers } from '../../../src/core/layers';
import { at, geometryOf } from '../../../src/core/schemes/weight-matrix';
import { attr, filledTensor, graph, modelBytes, node, valueInfo } from '../../support/build-model';
import { geometry } from './geometry';

const dims = (g: ReturnType<typeof geometry>) => g.matrices.map((m) => [m.tensor, m.rows, m.channels, m.kernel]);

test('Conv W[F][C][Kh][Kw]: one matrix F × C·K; (f, c, k) at f·C·K + c·K + k', () => {
  const g = geometry('Conv', [4, 2, 3, 3]);
  assert.deepEqual(dims(g), [[0, 4, 2, 9]]);
  assert.equal(at(g.matrices[0], 2, 1, 5), 2 * 18 + 1 * 9 + 5); // 50
  assert.equal(at(g.matrices[0], 3, 1, 8), 71); // the last element
});

test('grouped Conv: one matrix per group of F/g filters × C/g channels, in the same flat layout', () => {
  const g = geometry('Conv', [4, 2, 3, 3], { group: 2 }); // C = 4, 2 groups
  assert.deepEqual(dims(g), [[0, 2, 2, 9], [0, 2, 2, 9]]);
  // Group 2, its filter 1 (= filter 3 of the tensor), its channel 0, k 3: 3·18 + 0·9 + 3.
  assert.equal(at(g.matrices[1], 1, 0, 3), 57);
  assert.equal(at(g.matrices[0], 1, 1, 8), 35); // last of group 1
  assert.equal(at(g.matrices[1], 0, 0, 0), 36); // first of group 2
});

test('ConvTranspose W[C][F/g][k…]: rows are output channels, the tensor is walked channel-major', () => {
  const g = geometry('ConvTranspose', [4, 3, 2, 2], { group: 2 }); // C = 4 (2 per group), F/g = 3, K = 4
  assert.deepEqual(dims(g), [[0, 3, 2, 4], [0, 3, 2, 4]]);
  // Group 2, output f 1, its input channel 1 (tensor channel 3), k 2: tensor [3][1][2] = 3·12 + 1·4 + 2.
  assert.equal(at(g.matrices[1], 1, 1, 2), 42);
  assert.equal(at(g.matrices[0], 2, 0, 3), 0 * 12 + 2 * 4 + 3); // 11
});

test('Gemm: transB=1 stores W[F][C], transB=0 (default) stores W[C][F]', () => {
  const t1 = geometry('Gemm', [3, 5], { transB: 1 });
  const t0 = geometry('Gemm', [5, 3], { transB: 0 });
  const none = geometry('Gemm', [5, 3]);
  assert.deepEqual(dims(t1), [[0, 3, 5, 1]]);
  assert.deepEqual(dims(t0), [[0, 3, 5, 1]]);
  assert.deepEqual(none.matrices, t0.matrices);
  assert.equal(at(t1.matrices[0], 1, 3, 0), 1 * 5 + 3); // 8
  assert.equal(at(t0.matrices[0], 1, 3, 0), 3 * 3 + 1); // 10
});

test('MatMul W[…][C][F]: one [C][F] matrix per leading index', () => {
  const g = geometry('MatMul', [2, 5, 3]);
  assert.deepEqual(dims(g), [[0, 3, 5, 1], [0, 3, 5, 1]]);
  assert.equal(at(g.matrices[1], 1, 3, 0), 15 + 3 * 3 + 1); // 25
  assert.deepEqual(dims(geometry('MatMul', [5, 3])), [[0, 3, 5, 1]]);
});

test('LSTM: W[dirs][gates·H][input] and R[dirs][gates·H][H], one matrix per direction each', () => {
  const g = geometry('LSTM', [2, 8, 3], { recurrent: [2, 8, 2] }); // H = 2
  assert.deepEqual(dims(g), [[0, 8, 3, 1], [0, 8, 3, 1], [1, 8, 2, 1], [1, 8, 2, 1]]);
  assert.deepEqual(g.matrices.map((m) => m.label), ['direction 1, W', 'direction 2, W', 'direction 1, R', 'direction 2, R']);
  assert.equal(at(g.matrices[1], 5, 2, 0), 24 + 5 * 3 + 2); // 41 in W
  assert.equal(at(g.matrices[3], 5, 1, 0), 16 + 5 * 2 + 1); // 27 in R
});

test('geometryOf a decoded model matches the by-hand geometry (Conv grouped, Gemm transB=0, GRU)', () => {
  const { model, tensors } = loadModelFromBytes('/virtual/m.onnx', modelBytes(graph({
    node: [
      node('Conv', ['x', 'w'], ['h'], [attr.int('group', 2)], 'conv'),
      node('Flatten', ['h'], ['f']),
      node('Gemm', ['f', 'B'], ['y'], [], 'fc'),
      node('GRU', ['s', 'W', 'R'], ['Y'], [attr.int('hidden_size', 2)], 'gru'),
    ],
    initializer: [filledTensor('w', [4, 2, 3, 3]), filledTensor('B', [4, 6]), filledTensor('W', [1, 6, 3]), filledTensor('R', [1, 6, 2])],
    input: [valueInfo('x', 1, [1, 4, 3, 3]), valueInfo('s', 1, [5, 1, 3])],
  })));
  const [conv, fc, gru] = findLayers(model, tensors).map(geometryOf);
  assert.deepEqual(conv, geometry('Conv', [4, 2, 3, 3], { group: 2 }));
  assert.deepEqual(fc.matrices, geometry('Gemm', [4, 6], { transB: 0 }).matrices);
  assert.deepEqual(gru.matrices, geometry('GRU', [1, 6, 3], { recurrent: [1, 6, 2] }).matrices);
  assert.equal(at(fc.matrices[0], 5, 3, 0), 3 * 6 + 5); // W[C=4][F=6]: (f 5, c 3) at 23
});
