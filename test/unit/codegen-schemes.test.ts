// Code generation for every pruning scheme's compact format, grouped and depthwise Conv, sparse
// Gemm/MatMul and the elementwise ops of MobileNets: each small model is pruned by a plan, compiled
// with the real compiler and checked against onnxruntime running the pruned model (as `prunemap
// prune` writes it). With --threads > 1 the reordered kernels must give bit-identical results.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { onnx } from 'onnx-proto';
import { findLayers } from '../../src/core/layers';
import { loadModel } from '../../src/core/onnx/load';
import { buildMasks } from '../../src/core/prune/masks';
import { writePrunedModel } from '../../src/core/prune/write';
import { compileRunner, compilerFromEnv } from '../../src/core/codegen/compile';
import { generateCode } from '../../src/core/codegen/generate';
import type { ConvVectors } from '../../src/core/codegen/layer-kernels';
import { generatedInput, runCompiled, verifyAgainstOrt } from '../../src/core/codegen/verify';
import { attr, floatTensor, graph, modelBytes, node, valueInfo } from '../support/build-model';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunemap-codegen-schemes-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
let counter = 0;
const fresh = () => path.join(tmp, `case${++counter}`);
const values = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + seed) * 0.5 + Math.cos(i * 0.31 + seed * 3) * 0.25);

interface Conv {
  c: number; h: number; w: number; f: number; k: [number, number]; s: [number, number]; p: [number, number, number, number];
  group?: number;
  /** Op after the Conv (fused when it is a Relu or a constant Clip). */
  after?: 'Relu' | 'Clip';
  /** A Relu before the Conv, so it reads a generated buffer (1×1 kernels read it in place). */
  reluFirst?: boolean;
}

function convModel(k: Conv): Uint8Array {
  const g = k.group ?? 1;
  const nodes: onnx.INodeProto[] = [];
  if (k.reluFirst) nodes.push(node('Relu', ['x'], ['xr']));
  nodes.push(node('Conv', [k.reluFirst ? 'xr' : 'x', 'w', 'b'], ['y'], [attr.ints('kernel_shape', k.k), attr.ints('strides', k.s), attr.ints('pads', k.p), attr.int('group', g)], 'conv'));
  const init = [floatTensor('w', [k.f, k.c / g, ...k.k], values((k.f * k.c / g) * k.k[0] * k.k[1], 1)), floatTensor('b', [k.f], values(k.f, 2))];
  if (k.after === 'Relu') nodes.push(node('Relu', ['y'], ['z']));
  if (k.after === 'Clip') {
    nodes.push(node('Clip', ['y', 'lo', 'hi'], ['z']));
    init.push(floatTensor('lo', [], [0]), floatTensor('hi', [], [0.4]));
  }
  return modelBytes(graph({ node: nodes, initializer: init, input: [valueInfo('x', 1, [1, k.c, k.h, k.w])], output: [valueInfo(k.after ? 'z' : 'y', 1)] }));
}

interface Built { out: Float32Array; source: string; layers: { id: string; scheme: string; kept: number; format?: string }[] }

/** Generates, compiles and runs `bytes` pruned by `plan` (layer id → spec), and verifies it against onnxruntime on the pruned model. */
async function buildAndVerify(bytes: Uint8Array, plan: Record<string, unknown>, threads = 1, convVectors: ConvVectors = 'auto'): Promise<Built> {
  const file = fresh() + '.onnx';
  fs.writeFileSync(file, bytes);
  const loaded = loadModel(file);
  try {
    const layers = findLayers(loaded.model, loaded.tensors);
    const masks = buildMasks(loaded, layers, { model: file, target: 'host-cpu', layers: plan } as never);
    const gen = generateCode(loaded, layers, masks, { threads, convVectors });
    const dir = fresh();
    fs.mkdirSync(dir);
    for (const [n, c] of Object.entries(gen.files)) fs.writeFileSync(path.join(dir, n), c);
    compileRunner(dir, compilerFromEnv(), threads);
    const pruned = fresh() + '.onnx';
    await writePrunedModel(loaded, masks, pruned, { layers });
    const size = gen.outputShape.reduce((a, b) => a * b, 1);
    const v = await verifyAgainstOrt(dir, pruned, gen.inputName, gen.inputShape, size);
    assert.ok(v.ok, `max abs error ${v.maxAbsError} at output scale ${v.outputScale}`);
    assert.ok(v.outputScale > 0);
    const out = runCompiled(dir, generatedInput(gen.inputShape.reduce((a, b) => a * b, 1), 3), size);
    return { out, source: gen.files['prunemap_model.c'] as string, layers: gen.layers };
  } finally {
    loaded.close();
  }
}

const conv3: Conv = { c: 8, h: 11, w: 10, f: 12, k: [3, 3], s: [1, 1], p: [1, 1, 1, 1], after: 'Relu' };
const conv3s2: Conv = { c: 8, h: 13, w: 12, f: 10, k: [3, 3], s: [2, 2], p: [1, 1, 1, 1], after: 'Clip' };
const conv1: Conv = { c: 16, h: 7, w: 8, f: 20, k: [1, 1], s: [1, 1], p: [0, 0, 0, 0], reluFirst: true, after: 'Relu' };
const conv5x3: Conv = { c: 8, h: 12, w: 9, f: 9, k: [5, 3], s: [2, 1], p: [2, 0, 1, 2] };

const schemes: [string, Record<string, unknown>, RegExp][] = [
  ['unstructured', { scheme: 'unstructured', rate: 0.7 }, /row-sparse/],
  ['nm 2:4', { scheme: 'nm', n: 2, m: 4, rate: 0.5 }, /row-sparse/],
  ['block-bcr (4, 6)', { scheme: 'block-bcr', block: [4, 6], rate: 0.5 }, /block 4x1/],
  ['filter', { scheme: 'filter', rate: 0.5 }, /filters stored/],
  ['channel', { scheme: 'channel', rate: 0.5 }, /channels stored/],
  ['block-punched (4, 4)', { scheme: 'block-punched', block: [4, 4], rate: 0.5 }, /block 4x4/],
];

for (const [label, spec, format] of schemes) {
  for (const [shape, k] of [['3×3 + Relu', conv3], ['3×3 stride 2 + Clip', conv3s2], ['1×1 in place', conv1], ['5×3 asymmetric', conv5x3]] as const) {
    test(`codegen ${label}, ${shape}: matches onnxruntime on the pruned model; 3 threads give identical results`, async () => {
      const one = await buildAndVerify(convModel(k), { conv: spec });
      assert.match(one.source, format);
      assert.equal(one.layers[0].scheme, spec.scheme);
      assert.ok(one.layers[0].kept < 0.75 && one.layers[0].kept > 0.2, `kept ${one.layers[0].kept}`);
      if (k.after) assert.match(one.source, k.after === 'Relu' ? /Relu fused/ : /Clip 0\.\.0\.4/);
      const three = await buildAndVerify(convModel(k), { conv: spec }, 3);
      assert.deepEqual([...three.out], [...one.out]);
      // Compact dense layers have whole vectors of filters: the other block kernel must agree too.
      if (label === 'filter' || label === 'channel') {
        for (const vectors of ['pixels', 'filters'] as const) {
          const forced = await buildAndVerify(convModel(k), { conv: spec }, 1, vectors);
          assert.match(forced.layers[0].format ?? '', vectors === 'pixels' ? /pixel vectors/ : /filter vectors/);
        }
      }
    });
  }
}

test('codegen pattern: 3×3 kernels grouped by pattern with compile-time offsets; matches onnxruntime, 1 and 3 threads', async () => {
  for (const k of [conv3, conv3s2, { ...conv3, c: 5, f: 7, after: undefined }]) {
    const one = await buildAndVerify(convModel(k), { conv: { scheme: 'pattern', rate: 0.75, patterns: 4 } });
    assert.match(one.source, /pattern \(\d patterns\)/);
    assert.match(one.source, /\/\* pattern \d+ \*\//);
    const three = await buildAndVerify(convModel(k), { conv: { scheme: 'pattern', rate: 0.75, patterns: 4 } }, 3);
    assert.match(three.source, /3 thread bins/);
    assert.deepEqual([...three.out], [...one.out]);
  }
});

test('codegen on wide layers: super tiles keep runs of at least 96 positions per channel (not one tile); matches onnxruntime', async () => {
  // 768 channels: one super tile's input within 256 KB would be a single tile of 24 or 48
  // positions; codegen's floor makes it 96 (MIN_CHANNEL_RUN), i.e. 4 block tiles or 2 row tiles.
  const wide1x1: Conv = { c: 768, h: 12, w: 12, f: 16, k: [1, 1], s: [1, 1], p: [0, 0, 0, 0], reluFirst: true, after: 'Relu' };
  const wide3x3: Conv = { c: 704, h: 10, w: 10, f: 8, k: [3, 3], s: [1, 1], p: [1, 1, 1, 1] };
  for (const [k, spec, run] of [
    [wide1x1, { scheme: 'unstructured', rate: 0.9 }, /q < qs \+ 96 && q < 144; q \+= 48/],
    [wide3x3, { scheme: 'pattern', rate: 0.75, patterns: 4 }, /qs \+= 96\)/],
    [wide1x1, { scheme: 'block-punched', block: [8, 4], rate: 0.75 }, /q < qs \+ 96 && q < 144; q \+= 24/],
  ] as const) {
    const b = await buildAndVerify(convModel(k), { conv: spec }, 1, 'pixels');
    assert.match(b.source, run, `${spec.scheme}: super tiles of 96 positions`);
  }
});

test('codegen grouped Conv (group 2, 4): one kernel per group; dense, unstructured and block-punched match onnxruntime', async () => {
  for (const [group, spec] of [[2, undefined], [2, { scheme: 'unstructured', rate: 0.6 }], [4, { scheme: 'block-punched', block: [2, 2], rate: 0.5 }], [2, { scheme: 'filter', rate: 0.5 }]] as const) {
    const k: Conv = { c: 8, h: 9, w: 9, f: 8, k: [3, 3], s: [1, 1], p: [1, 1, 1, 1], group, after: 'Relu' };
    const b = await buildAndVerify(convModel(k), spec ? { conv: spec } : {});
    assert.match(b.source, new RegExp(`conv0_conv_g${group - 1}\\(in \\+ `));
  }
});

test('codegen depthwise Conv: 3×3 and 5×5, stride 1 and 2, multiplier 2, fused Clip, pruned weights; matches onnxruntime', async () => {
  const cases: [Conv, Record<string, unknown> | undefined][] = [
    [{ c: 6, h: 14, w: 13, f: 6, k: [3, 3], s: [1, 1], p: [1, 1, 1, 1], group: 6, after: 'Clip' }, undefined],
    [{ c: 6, h: 14, w: 13, f: 6, k: [3, 3], s: [2, 2], p: [1, 1, 1, 1], group: 6, after: 'Relu' }, { scheme: 'unstructured', rate: 0.5 }],
    [{ c: 4, h: 15, w: 16, f: 4, k: [5, 5], s: [2, 2], p: [2, 2, 2, 2], group: 4 }, { scheme: 'filter', rate: 0.5 }],
    [{ c: 4, h: 8, w: 8, f: 8, k: [5, 5], s: [1, 1], p: [2, 2, 2, 2], group: 4, reluFirst: true }, undefined],
  ];
  for (const [k, spec] of cases) {
    const one = await buildAndVerify(convModel(k), spec ? { conv: spec } : {});
    assert.match(one.source, /depthwise Conv/);
    const two = await buildAndVerify(convModel(k), spec ? { conv: spec } : {}, 2);
    assert.deepEqual([...two.out], [...one.out]);
  }
});

function gemmModel(op: 'Gemm' | 'MatMul', transB: boolean, n: number, kk: number, rows = 1): Uint8Array {
  const nodes = op === 'Gemm'
    ? [node('Gemm', ['x', 'w', 'b'], ['y'], [attr.int('transB', transB ? 1 : 0), attr.float('alpha', 0.75), attr.float('beta', 1.5)], 'fc')]
    : [node('MatMul', ['x', 'w'], ['y'], [], 'fc')];
  return modelBytes(graph({
    node: nodes,
    initializer: [floatTensor('w', transB ? [n, kk] : [kk, n], values(n * kk, 4)), floatTensor('b', [n], values(n, 5))],
    input: [valueInfo('x', 1, [rows, kk])],
    output: [valueInfo('y', 1, [rows, n])],
  }));
}

test('codegen sparse Gemm/MatMul: every scheme over the weight (transB, alpha, beta, MatMul rows) matches onnxruntime; threads identical', async () => {
  const specs = [undefined, { scheme: 'unstructured', rate: 0.8 }, { scheme: 'nm', n: 1, m: 4, rate: 0.75 }, { scheme: 'block-punched', block: [8, 4], rate: 0.5 },
    { scheme: 'block-bcr', block: [4, 8], rate: 0.5 }, { scheme: 'filter', rate: 0.5 }, { scheme: 'channel', rate: 0.5 }];
  for (const spec of specs) {
    for (const [op, transB, rows] of [['Gemm', true, 1], ['Gemm', false, 1], ['MatMul', false, 3]] as const) {
      const bytes = gemmModel(op, transB, 20, 36, rows);
      const one = await buildAndVerify(bytes, spec ? { fc: spec } : {});
      const two = await buildAndVerify(bytes, spec ? { fc: spec } : {}, 2);
      assert.deepEqual([...two.out], [...one.out]);
    }
  }
});

test('codegen MobileNetV3-style ops: squeeze-excite (GlobalAveragePool, 1×1 Convs, HardSigmoid, broadcast Mul), HardSwish, Add, Div match onnxruntime', async () => {
  const c = 8;
  const bytes = modelBytes(graph({
    node: [
      node('Conv', ['x', 'w1', 'b1'], ['c1'], [attr.ints('kernel_shape', [3, 3]), attr.ints('pads', [1, 1, 1, 1])], 'conv1'),
      node('HardSwish', ['c1'], ['h1']),
      node('GlobalAveragePool', ['h1'], ['g']),
      node('Conv', ['g', 'w2', 'b2'], ['s1'], [attr.ints('kernel_shape', [1, 1])], 'se1'),
      node('Relu', ['s1'], ['s2']),
      node('Conv', ['s2', 'w3', 'b3'], ['s3'], [attr.ints('kernel_shape', [1, 1])], 'se2'),
      node('HardSigmoid', ['s3'], ['s4'], [attr.float('alpha', 1 / 6), attr.float('beta', 0.5)]),
      node('Mul', ['s4', 'h1'], ['m']),
      node('Add', ['m', 'row'], ['a']),
      node('Div', ['a', 'two'], ['y']),
    ],
    initializer: [floatTensor('w1', [c, 4, 3, 3], values(c * 36, 1)), floatTensor('b1', [c], values(c, 2)), floatTensor('w2', [4, c, 1, 1], values(4 * c, 3)), floatTensor('b2', [4], values(4, 4)),
      floatTensor('w3', [c, 4, 1, 1], values(4 * c, 5)), floatTensor('b3', [c], values(c, 6)), floatTensor('row', [1, 1, 1, 9], values(9, 7)), floatTensor('two', [1], [2])],
    input: [valueInfo('x', 1, [1, 4, 7, 9])],
    output: [valueInfo('y', 1, [1, c, 7, 9])],
  }));
  const b = await buildAndVerify(bytes, { conv1: { scheme: 'unstructured', rate: 0.5 }, se1: { scheme: 'filter', rate: 0.5 } });
  assert.match(b.source, /for \(int i0 = 0; i0 < 1; i0\+\+\)/); // the broadcast loops
});

test('codegen refuses what it cannot do with one line naming the node', () => {
  const file = fresh() + '.onnx';
  fs.writeFileSync(file, modelBytes(graph({
    node: [node('Conv', ['x', 'w'], ['y'], [attr.ints('kernel_shape', [3, 3]), attr.ints('dilations', [2, 2])], 'dil')],
    initializer: [floatTensor('w', [4, 4, 3, 3], values(144, 1))],
    input: [valueInfo('x', 1, [1, 4, 9, 9])], output: [valueInfo('y', 1, [1, 4, 5, 5])],
  })));
  const loaded = loadModel(file);
  try {
    assert.throws(() => generateCode(loaded, findLayers(loaded.model, loaded.tensors), new Map()), (e: Error) => /Conv node "dil" is dilated/.test(e.message) && !e.message.includes('\n'));
  } finally {
    loaded.close();
  }
});
