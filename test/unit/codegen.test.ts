// Code generation on tiny hand-built models: the compiled C (real compiler) against a naive
// convolution written here, and against onnxruntime on the pruned model; the compact format,
// identifier sanitising with hostile names, and the one-line errors (compiler missing or failing,
// unsupported op or Conv form) with nothing half-written.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import { ModelError } from '../../src/core/errors';
import { findLayers } from '../../src/core/layers';
import { loadModel, loadModelFromBytes } from '../../src/core/onnx/load';
import { buildMasks } from '../../src/core/prune/masks';
import { writePrunedModel } from '../../src/core/prune/write';
import { blockPunchedFormat } from '../../src/core/codegen/block-punched-format';
import { compileRunner, compilerFromEnv } from '../../src/core/codegen/compile';
import { generateCode } from '../../src/core/codegen/generate';
import { convLayerKernel, type ConvVectors } from '../../src/core/codegen/layer-kernels';
import { NO_ACTIVATION } from '../../src/core/codegen/activation';
import { WeightFile } from '../../src/core/codegen/weight-file';
import { cIdentifier } from '../../src/core/codegen/identifiers';
import { writeOutputDir } from '../../src/core/codegen/output-dir';
import { compareOutputs, generatedInput, runCompiled, verifyAgainstOrt } from '../../src/core/codegen/verify';
import { attr, floatTensor, graph, modelBytes, node, valueInfo } from '../support/build-model';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunemap-codegen-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
let counter = 0;
const fresh = () => path.join(tmp, `case${++counter}`);
const values = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.sin(i * 1.7 + seed) * 0.5);

interface ConvCase {
  c: number; h: number; w: number; f: number; k: [number, number]; s: [number, number]; p: [number, number, number, number]; bias: boolean;
  /** Put a Relu before the Conv: the Conv then reads a generated buffer (1×1 kernels read it in place). */
  reluFirst?: boolean;
}

function convModel(k: ConvCase, extra: onnx.INodeProto[] = [], output = 'y'): Uint8Array {
  const [oh, ow] = convOut(k);
  const init = [floatTensor('w', [k.f, k.c, ...k.k], values(k.f * k.c * k.k[0] * k.k[1], 1))];
  if (k.bias) init.push(floatTensor('b', [k.f], values(k.f, 2)));
  return modelBytes(graph({
    node: [...(k.reluFirst ? [node('Relu', ['x'], ['xr'])] : []), node('Conv', [k.reluFirst ? 'xr' : 'x', 'w', ...(k.bias ? ['b'] : [])], ['y'], [attr.ints('kernel_shape', k.k), attr.ints('strides', k.s), attr.ints('pads', k.p)], 'conv */ "x"\n'), ...extra],
    initializer: init,
    input: [valueInfo('x', 1, [1, k.c, k.h, k.w])],
    output: [valueInfo(output, 1, output === 'y' ? [1, k.f, oh, ow] : undefined)],
  }));
}

function convOut(k: ConvCase): [number, number] {
  return [Math.floor((k.h + k.p[0] + k.p[2] - k.k[0]) / k.s[0]) + 1, Math.floor((k.w + k.p[1] + k.p[3] - k.k[1]) / k.s[1]) + 1];
}

/** The definition of Conv, one output at a time. */
function naiveConv(k: ConvCase, input: Float32Array, w: Float32Array, b: Float32Array | undefined): Float32Array {
  const x = k.reluFirst ? input.map((v) => Math.max(v, 0)) : input;
  const [oh, ow] = convOut(k);
  const y = new Float32Array(k.f * oh * ow);
  for (let f = 0; f < k.f; f++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) {
    let s = b ? b[f] : 0;
    for (let c = 0; c < k.c; c++) for (let a = 0; a < k.k[0]; a++) for (let d = 0; d < k.k[1]; d++) {
      const yy = i * k.s[0] + a - k.p[0], xx = j * k.s[1] + d - k.p[1];
      if (yy >= 0 && yy < k.h && xx >= 0 && xx < k.w) s += x[(c * k.h + yy) * k.w + xx] * w[((f * k.c + c) * k.k[0] + a) * k.k[1] + d];
    }
    y[(f * oh + i) * ow + j] = s;
  }
  return y;
}

/** Generates and compiles `bytes` with `plan` layers; returns the run output, the masked weights and the dir. */
function build(bytes: Uint8Array, plan: Record<string, unknown>, inputSize: number, convVectors: ConvVectors = 'auto') {
  const file = fresh() + '.onnx';
  fs.writeFileSync(file, bytes);
  const loaded = loadModel(file);
  const layers = findLayers(loaded.model, loaded.tensors);
  const masks = buildMasks(loaded, layers, { model: file, target: 'host-cpu', layers: plan } as never);
  const gen = generateCode(loaded, layers, masks, { convVectors });
  const dir = fresh();
  fs.mkdirSync(dir);
  for (const [n, c] of Object.entries(gen.files)) fs.writeFileSync(path.join(dir, n), c);
  compileRunner(dir, compilerFromEnv());
  const x = generatedInput(inputSize, 7);
  const out = runCompiled(dir, x, gen.outputShape.reduce((a, b) => a * b, 1));
  const w = Float32Array.from(loaded.tensors.float32(layers[0].weightTensor));
  const mask = masks.get(layers[0].id)?.masks[0];
  if (mask) w.forEach((_, i) => { if (!mask[i]) w[i] = 0; });
  return { loaded, layers, masks, gen, dir, x, out, w, file };
}

const cases: [string, ConvCase][] = [
  ['3×3 stride 1 pad 1', { c: 8, h: 9, w: 11, f: 16, k: [3, 3], s: [1, 1], p: [1, 1, 1, 1], bias: true }],
  ['3×3 stride 2 pad 1', { c: 8, h: 14, w: 13, f: 8, k: [3, 3], s: [2, 2], p: [1, 1, 1, 1], bias: true }],
  ['1×1 stride 2 (downsample)', { c: 12, h: 10, w: 10, f: 16, k: [1, 1], s: [2, 2], p: [0, 0, 0, 0], bias: false }],
  ['7×7 stride 2 pad 3, 3 channels', { c: 3, h: 20, w: 18, f: 8, k: [7, 7], s: [2, 2], p: [3, 3, 3, 3], bias: true }],
  ['5×3, asymmetric pads and strides', { c: 6, h: 12, w: 9, f: 10, k: [5, 3], s: [2, 1], p: [2, 0, 1, 2], bias: true }],
  ['1×1 stride 1 reading its input in place', { c: 16, h: 7, w: 5, f: 24, k: [1, 1], s: [1, 1], p: [0, 0, 0, 0], bias: true, reluFirst: true }],
  ['partial blocks (F 12, C 6)', { c: 6, h: 7, w: 7, f: 12, k: [3, 3], s: [1, 1], p: [1, 1, 1, 1], bias: true }],
];

// Both block kernels on every shape: pixel vectors (emit-conv.ts) and filter vectors (emit-conv-filters.ts).
for (const [name, k] of cases) {
  for (const vectors of ['pixels', 'filters'] as const) {
    test(`codegen Conv ${name}, ${vectors === 'pixels' ? 'pixel' : 'filter'} vectors: dense and block-punched (8,4) at 50% match the naive convolution`, () => {
      const dense = build(convModel(k), {}, k.c * k.h * k.w, vectors);
      const refDense = naiveConv(k, dense.x, dense.w, k.bias ? Float32Array.from(values(k.f, 2)) : undefined);
      assert.ok(compareOutputs(dense.out, refDense).maxAbsError < 1e-5);
      if (k.reluFirst) assert.match(dense.gen.files['prunemap_model.c'] as string, /the input is the plane/);
      assert.equal(/filter vectors, tiles of/.test(dense.gen.files['prunemap_model.c'] as string), vectors === 'filters');
      dense.loaded.close();
      if (k.c < 4) return; // (8,4) blocks need 4 channels
      const sparse = build(convModel(k), { [dense.layers[0].id]: { scheme: 'block-punched', block: [8, 4], rate: 0.5 } }, k.c * k.h * k.w, vectors);
      assert.ok(sparse.w.some((v) => v === 0) && sparse.w.some((v) => v !== 0));
      const ref = naiveConv(k, sparse.x, sparse.w, k.bias ? Float32Array.from(values(k.f, 2)) : undefined);
      const cmp = compareOutputs(sparse.out, ref);
      assert.ok(cmp.maxAbsError < 1e-5, `max abs error ${cmp.maxAbsError}`);
      assert.match(sparse.gen.layers[0].format ?? '', vectors === 'pixels' ? /block 8x4, pixel vectors/ : /block 8x4, filter vectors/);
      sparse.loaded.close();
    });
  }
}

test('codegen picks pixel vectors for one-channel units (block-bcr) and for maps over 56×56 from 64 channels, filter vectors otherwise when the work pays', () => {
  // Measured side by side (docs/codegen.md "Figures"): filter vectors lose on both.
  const form = (c: number, size: number, mask?: (i: number) => number, spec?: { scheme: 'block-bcr'; block: [number, number]; rate: number }) => {
    const g = { channels: c, height: size, width: size, filters: 16, kernel: [3, 3] as [number, number], strides: [1, 1] as [number, number], pads: [1, 1, 1, 1] as [number, number, number, number] };
    const n = 16 * c * 9;
    const w = Float32Array.from({ length: n }, (_, i) => Math.sin(i) + 1.5);
    const m = mask ? Uint8Array.from({ length: n }, (_, i) => mask(i)) : undefined;
    return convLayerKernel('k', g, w, m, spec, undefined, NO_ACTIVATION, new WeightFile(), 1, false).format;
  };
  // Dense 3×3 from 32 channels: 288 multiply-adds per position and block row → filter vectors at 28×28 and 112×112.
  assert.match(form(32, 28), /filter vectors/);
  assert.match(form(32, 112), /filter vectors/);
  // From 64 channels: filter vectors on 56×56, pixel vectors on 57×57 and larger.
  assert.match(form(64, 56), /filter vectors/);
  assert.match(form(64, 57), /pixel vectors/);
  // block-bcr (8, 4) keeping every other column: (8, 1) units, 144 multiply-adds per position → still pixel vectors.
  const columnKept = (i: number) => ((i % (32 * 9)) % 2 === 0 ? 1 : 0);
  assert.match(form(32, 28, columnKept, { scheme: 'block-bcr', block: [8, 4], rate: 0.5 }), /block 8x1, pixel vectors/);
});

test('codegen Conv with block rows of 16 filters (two vectors per tile), both kernel forms: block-punched (16,4) matches the naive convolution', () => {
  const k: ConvCase = { c: 8, h: 9, w: 7, f: 40, k: [3, 3], s: [1, 1], p: [1, 1, 1, 1], bias: true };
  const probe = loadModelFromBytes('m.onnx', convModel(k));
  const id = findLayers(probe.model, probe.tensors)[0].id;
  probe.close();
  for (const vectors of ['pixels', 'filters'] as const) {
    const b = build(convModel(k), { [id]: { scheme: 'block-punched', block: [16, 4], rate: 0.5 } }, k.c * k.h * k.w, vectors);
    assert.ok(b.w.some((v) => v === 0) && b.w.some((v) => v !== 0));
    const cmp = compareOutputs(b.out, naiveConv(k, b.x, b.w, Float32Array.from(values(k.f, 2))));
    assert.ok(cmp.maxAbsError < 1e-5, `${vectors}: max abs error ${cmp.maxAbsError}`);
    assert.match(b.gen.layers[0].format ?? '', vectors === 'pixels' ? /block 16x4, pixel vectors/ : /block 16x4, filter vectors/);
    b.loaded.close();
  }
});

test('codegen: a small CNN (Conv+Relu, MaxPool, Add, GlobalAveragePool, Flatten, Gemm, Softmax) matches onnxruntime on the pruned model', async () => {
  const k: ConvCase = { c: 4, h: 12, w: 12, f: 8, k: [3, 3], s: [1, 1], p: [1, 1, 1, 1], bias: true };
  const bytes = modelBytes(graph({
    node: [
      node('Conv', ['x', 'w', 'b'], ['c1'], [attr.ints('kernel_shape', [3, 3]), attr.ints('pads', [1, 1, 1, 1])], 'conv1'),
      node('Relu', ['c1'], ['r1']),
      node('MaxPool', ['r1'], ['p1'], [attr.ints('kernel_shape', [3, 3]), attr.ints('strides', [2, 2]), attr.ints('pads', [1, 1, 1, 1])]),
      node('Conv', ['p1', 'w2'], ['c2'], [attr.ints('kernel_shape', [3, 3]), attr.ints('pads', [1, 1, 1, 1])], 'conv2'),
      node('Add', ['c2', 'p1'], ['a']),
      node('Relu', ['a'], ['r2']),
      node('GlobalAveragePool', ['r2'], ['g']),
      node('Flatten', ['g'], ['fl']),
      node('Gemm', ['fl', 'fw', 'fb'], ['logits'], [attr.int('transB', 1)], 'fc'),
      node('Softmax', ['logits'], ['prob'], [attr.int('axis', 1)]),
    ],
    initializer: [floatTensor('w', [8, 4, 3, 3], values(288, 1)), floatTensor('b', [8], values(8, 2)), floatTensor('w2', [8, 8, 3, 3], values(576, 3)),
      floatTensor('fw', [5, 8], values(40, 4)), floatTensor('fb', [5], values(5, 5))],
    input: [valueInfo('x', 1, ['batch', 4, 12, 12])],
    output: [valueInfo('prob', 1, ['batch', 5])],
  }));
  const plan = { conv1: { scheme: 'block-punched', block: [8, 4], rate: 0.5 }, conv2: { scheme: 'block-punched', block: [8, 4], rate: 0.75 } };
  const b = build(bytes, plan, k.c * k.h * k.w);
  const pruned = fresh() + '.onnx';
  await writePrunedModel(b.loaded, b.masks, pruned, { layers: b.layers });
  const v = await verifyAgainstOrt(b.dir, pruned, b.gen.inputName, b.gen.inputShape, 5);
  assert.ok(v.ok, `max abs error ${v.maxAbsError}`);
  assert.ok(v.maxAbsError < 1e-6);
  b.loaded.close();
});

test('codegen format: kept units in order, values channel-major, padded, pruned weights zero', () => {
  // F 3 (one partial block row of bf 4), C 3 (blocks of 2: one full, one partial), K 2.
  const w = Float32Array.from({ length: 18 }, (_, i) => i + 1);
  const mask = new Uint8Array(18).fill(1);
  for (let f = 0; f < 3; f++) for (let c = 0; c < 2; c++) mask[(f * 3 + c) * 2 + 1] = 0; // prune unit (channels 0-1, k 1)
  const fmt = blockPunchedFormat(w, mask, 3, 3, 2, 4, 2);
  assert.deepEqual([...fmt.rowStart], [0, 3]);
  assert.deepEqual([...fmt.unitChannel], [0, 2, 2]);
  assert.deepEqual([...fmt.unitKernel], [0, 0, 1]);
  // unit 0: channel 0 → filters 0..2 at k 0 = w[0], w[6], w[12]; 4th filter padded with 0.
  assert.deepEqual([...fmt.values.subarray(0, 8)], [1, 7, 13, 0, 3, 9, 15, 0]);
  // unit 2 (channel 2, k 1): w[5], w[11], w[17]; channel 3 is padding.
  assert.deepEqual([...fmt.values.subarray(16, 24)], [6, 12, 18, 0, 0, 0, 0, 0]);
});

test('codegen identifiers: hostile names become plain, bounded, unique C identifiers', () => {
  const hostile = ['*/ system("rm -rf /"); /*', '"\\\n#include <x>', '', '../../etc', 'ünïcødé ✓', 'x'.repeat(5000), '__', '0abc', 'a b', 'a_b'];
  const ids = hostile.map((h, i) => cIdentifier('conv', i, h));
  for (const id of ids) {
    assert.match(id, /^[A-Za-z_][A-Za-z0-9_]*$/);
    assert.ok(id.length <= 60);
  }
  assert.equal(new Set(ids).size, ids.length);
  assert.equal(cIdentifier('conv', 3, '/layer1/layer1.0/conv1/Conv'), 'conv3_layer1_layer1_0_conv1_Conv');
});

test('codegen: the generated C never contains model-supplied names', () => {
  const k = cases[0][1];
  const file = fresh() + '.onnx';
  fs.writeFileSync(file, convModel(k));
  const loaded = loadModel(file);
  const gen = generateCode(loaded, findLayers(loaded.model, loaded.tensors), new Map());
  loaded.close();
  for (const [name, text] of Object.entries(gen.files)) if (typeof text === 'string') assert.ok(!text.includes('"x"') && !text.includes('conv */'), name);
});

test('codegen errors: missing and failing compilers are one line; nothing is left behind', async () => {
  const dir = fresh();
  const missing = { cc: path.join(tmp, 'no-such-cc'), flags: [] };
  await assert.rejects(
    writeOutputDir(dir, { 'main.c': 'int main(void){return 0;}', 'prunemap_model.c': '' }, false, (d) => compileRunner(d, missing)),
    (e: unknown) => e instanceof ModelError && /C compiler ".*no-such-cc" not found/.test(e.message) && !e.message.includes('\n'));
  await assert.rejects(
    writeOutputDir(dir, { 'main.c': 'int main(void) { return }', 'prunemap_model.c': '' }, false, (d) => compileRunner(d, compilerFromEnv({}))),
    (e: unknown) => e instanceof ModelError && /failed: .*error/.test(e.message) && !e.message.includes('\n'));
  assert.deepEqual(fs.readdirSync(tmp).filter((n) => n.includes(path.basename(dir))), []);
});

test('codegen errors: an unsupported op and a dilated Conv name the node', () => {
  const k = cases[0][1];
  const gen = (bytes: Uint8Array, plan: Record<string, unknown> = {}) => {
    const loaded = loadModelFromBytes('m.onnx', bytes);
    try {
      const layers = findLayers(loaded.model, loaded.tensors);
      return generateCode(loaded, layers, buildMasks(loaded, layers, { model: 'm.onnx', target: 'host-cpu', layers: plan } as never));
    } finally {
      loaded.close();
    }
  };
  assert.throws(() => gen(convModel(k, [node('Tanh', ['y'], ['t'], [], 'my tanh')], 't')), /op Tanh \(node "my tanh"\) is not supported by codegen/);
  const dilated = modelBytes(graph({
    node: [node('Conv', ['x', 'w'], ['y'], [attr.ints('dilations', [2, 2]), attr.ints('kernel_shape', [3, 3])], 'dconv')],
    initializer: [floatTensor('w', [4, 4, 3, 3], values(144, 1))],
    input: [valueInfo('x', 1, [1, 4, 8, 8])], output: [valueInfo('y', 1, [1, 4, 4, 4])],
  }));
  assert.throws(() => gen(dilated), /Conv node "dconv" is dilated/);
});

test('codegen Conv 1×1 writing its output in place: partial filter block, fused Relu, last tile shorter', () => {
  const k: ConvCase = { c: 8, h: 5, w: 7, f: 12, k: [1, 1], s: [1, 1], p: [0, 0, 0, 0], bias: true, reluFirst: true };
  const bytes = convModel(k, [node('Relu', ['y'], ['t'])], 't');
  const id = 'conv */ "x"\n';
  for (const plan of [{}, { [id]: { scheme: 'block-punched', block: [8, 4], rate: 0.5 } }]) {
    const b = build(bytes, plan, k.c * k.h * k.w);
    const source = b.gen.files['prunemap_model.c'] as string;
    assert.match(source, /Relu fused/);
    assert.ok(!source.includes('tmp[f *'), 'no copy-out epilogue');
    const ref = naiveConv(k, b.x, b.w, Float32Array.from(values(k.f, 2))).map((v) => Math.max(v, 0));
    assert.ok(ref.some((v) => v === 0) && ref.some((v) => v > 0));
    const cmp = compareOutputs(b.out, ref);
    assert.ok(cmp.maxAbsError < 1e-5, `max abs error ${cmp.maxAbsError}`);
    b.loaded.close();
  }
});
