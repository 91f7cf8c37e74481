// The pruned-model writer on small hand-built models: every storage form a weight can have (raw_data
// of each float type, float_data / double_data packed and loose, external data, Constant values,
// Identity chains), the byte-level promise (only masked elements change, to +0.0), the refusals
// (varint forms, output = input, existing output, shared weights with different masks) and
// cancellation (no output, no temporaries).

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import { ModelError } from '../../src/core/errors';
import { findLayers, type Layer } from '../../src/core/layers';
import { constantNodeTensor } from '../../src/core/onnx/graph-view';
import { loadModel, type LoadedModel } from '../../src/core/onnx/load';
import { buildMasks, prepareMasks, type MaskSet } from '../../src/core/prune/masks';
import { defaultOutputPath } from '../../src/core/prune/output';
import { writePrunedModel } from '../../src/core/prune/write';
import { TensorLocator } from '../../src/core/prune/locate';
import { attr, graph, modelBytes, node, valueInfo } from '../support/build-model';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunemap-prune-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
let counter = 0;
function freshDir(): string {
  const d = path.join(tmp, `case${++counter}`);
  fs.mkdirSync(d);
  return d;
}

const sha = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const values = (n: number, offset = 0) => Array.from({ length: n }, (_, i) => Math.sin(i + 1 + offset) * 2);

/** A Gemm (transB) layer 4×6 on input x [2,6], weight `w` as given. */
function gemmModel(w: onnx.ITensorProto, extra: Partial<onnx.IGraphProto> = {}): Uint8Array {
  return modelBytes(graph({
    node: [node('Gemm', ['x', 'w'], ['y'], [attr.int('transB', 1)], 'fc'), ...(extra.node ?? [])],
    initializer: [w, ...(extra.initializer ?? [])],
    input: [valueInfo('x', 1, [2, 6])],
    output: [valueInfo('y', 1, [2, 4])],
  }));
}

function save(dir: string, name: string, bytes: Uint8Array): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, bytes);
  return p;
}

/** Masks that prune every element whose index is in `pruned`. */
function maskSet(layer: Layer, pruned: number[][]): MaskSet {
  const tensors = layer.recurrentTensor ? [layer.weightTensor, layer.recurrentTensor] : [layer.weightTensor];
  const masks = tensors.map((t, i) => {
    const m = new Uint8Array(t.dims.reduce((a, b) => a * b, 1)).fill(1);
    for (const e of pruned[i] ?? []) m[e] = 0;
    return m;
  });
  return new Map([[layer.id, { layer, masks }]]);
}

function open(file: string): { loaded: LoadedModel; layers: Layer[] } {
  const loaded = loadModel(file);
  return { loaded, layers: findLayers(loaded.model, loaded.tensors) };
}

/** Byte offsets where two equal-length files differ. */
function differing(a: string, b: string): number[] {
  const [x, y] = [fs.readFileSync(a), fs.readFileSync(b)];
  assert.equal(x.length, y.length, 'the output has the size of the input');
  const out: number[] = [];
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) out.push(i);
  return out;
}

function noTemporaries(dir: string): void {
  const left = fs.readdirSync(dir, { recursive: true }).map(String).filter((f) => f.includes('prunemap-tmp'));
  assert.deepEqual(left, [], 'no temporary files are left behind');
}

async function pruneAndRead(file: string, pruned: number[][], out = file.replace(/\.onnx$/, '.out.onnx')) {
  const { loaded, layers } = open(file);
  try {
    const report = await writePrunedModel(loaded, maskSet(layers[0], pruned), out);
    const after = open(out);
    try {
      return { report, out, weights: Array.from(after.loaded.tensors.float32(after.layers[0].weightTensor)), before: Array.from(loaded.tensors.float32(layers[0].weightTensor)) };
    } finally {
      after.loaded.close();
    }
  } finally {
    loaded.close();
  }
}

/** The masked elements are zero, the others unchanged. */
function assertApplied(before: number[], after: number[], pruned: number[]): void {
  const set = new Set(pruned);
  before.forEach((v, i) => assert.equal(after[i], set.has(i) ? 0 : v, `element ${i}`));
}

for (const [name, dataType, size, encode] of [
  ['FLOAT', 1, 4, (v: number[]) => new Uint8Array(new Float32Array(v).buffer)],
  ['DOUBLE', 11, 8, (v: number[]) => new Uint8Array(new Float64Array(v).buffer)],
  ['FLOAT16', 10, 2, (v: number[]) => new Uint8Array(new Uint16Array(v.map(toHalf)).buffer)],
  ['BFLOAT16', 16, 2, (v: number[]) => new Uint8Array(new Uint16Array(v.map((x) => new Uint32Array(new Float32Array([x]).buffer)[0] >>> 16)).buffer)],
] as const) {
  test(`raw_data ${name}: element i is zeroed at offset + ${size}·i, nothing else changes`, async () => {
    const dir = freshDir();
    const file = save(dir, 'm.onnx', gemmModel({ name: 'w', dims: [4, 6], dataType, rawData: encode(values(24)) }));
    const before = sha(file);
    const pruned = [0, 5, 7, 23];
    const r = await pruneAndRead(file, [pruned]);
    assertApplied(r.before, r.weights, pruned);
    const { loaded } = open(file);
    const range = (loaded.model.graph.initializers[0].storage as { range: { offset: number } }).range;
    loaded.close();
    const expected = pruned.flatMap((e) => Array.from({ length: size }, (_, b) => range.offset + e * size + b));
    assert.deepEqual(differing(file, r.out), expected.filter((o) => fs.readFileSync(file)[o] !== 0));
    assert.equal(sha(file), before, 'the input is unchanged');
    assert.deepEqual([r.report.layers[0].weights, r.report.layers[0].pruned, r.report.layers[0].kept, r.report.layers[0].zeros], [24, 4, 20, 4]);
    noTemporaries(dir);
  });
}

test('float_data (packed fixed32) and double_data are patched in place', async () => {
  for (const t of [{ name: 'w', dims: [4, 6], dataType: 1, floatData: values(24) }, { name: 'w', dims: [4, 6], dataType: 11, doubleData: values(24) }]) {
    const dir = freshDir();
    const file = save(dir, 'm.onnx', gemmModel(t));
    const { loaded } = open(file);
    assert.equal(loaded.model.graph.initializers[0].storage.kind, 'typed');
    loaded.close();
    const r = await pruneAndRead(file, [[1, 2, 3, 20]]);
    assertApplied(r.before, r.weights, [1, 2, 3, 20]);
    assert.ok(differing(file, r.out).length > 0);
  }
});

test('float_data written one element per key (unpacked) is found by walking the file', async () => {
  const dir = freshDir();
  // GraphProto bytes from onnx-proto, plus an initializer encoded by hand with loose fixed32 floats.
  const g = onnx.GraphProto.encode(graph({
    node: [node('Gemm', ['x', 'w'], ['y'], [attr.int('transB', 1)], 'fc')],
    input: [valueInfo('x', 1, [2, 6])], output: [valueInfo('y', 1, [2, 4])],
  })).finish();
  const t: number[] = [0x08, 4, 0x08, 6, 0x10, 1]; // dims 4, 6 (unpacked), data_type FLOAT
  for (const v of values(24)) t.push(0x25, ...new Uint8Array(new Float32Array([v]).buffer));
  t.push(0x42, 1, 'w'.charCodeAt(0));
  const graphBytes = Buffer.concat([Buffer.from(g), Buffer.from([0x2a, ...varint(t.length), ...t])]);
  const m = onnx.ModelProto.encode({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }] }).finish();
  const file = save(dir, 'm.onnx', Buffer.concat([Buffer.from(m), Buffer.from([0x3a, ...varint(graphBytes.length)]), graphBytes]));
  const r = await pruneAndRead(file, [[0, 9, 23]]);
  assertApplied(r.before, r.weights, [0, 9, 23]);
  assert.equal(differing(file, r.out).length, 3 * 4);
});

test('weights behind Identity chains and in Constant nodes are patched where they live', async () => {
  const dir = freshDir();
  const file = save(dir, 'm.onnx', modelBytes(graph({
    node: [
      node('Identity', ['w0'], ['w1']), node('Identity', ['w1'], ['w2']),
      node('Gemm', ['x', 'w2'], ['h'], [attr.int('transB', 1)], 'fc1'),
      node('Constant', [], ['c'], [attr.tensor('value', { dims: [3, 4], dataType: 1, rawData: new Uint8Array(new Float32Array(values(12, 5)).buffer) })]),
      node('Gemm', ['h', 'c'], ['y'], [attr.int('transB', 1)], 'fc2'),
    ],
    initializer: [{ name: 'w0', dims: [4, 6], dataType: 1, rawData: new Uint8Array(new Float32Array(values(24)).buffer) }],
    input: [valueInfo('x', 1, [2, 6])], output: [valueInfo('y', 1, [2, 3])],
  })));
  const { loaded, layers } = open(file);
  const masks: MaskSet = new Map([...maskSet(layers[0], [[2, 4]]), ...maskSet(layers[1], [[0, 11]])]);
  const report = await writePrunedModel(loaded, masks, path.join(dir, 'out.onnx'));
  loaded.close();
  const after = open(path.join(dir, 'out.onnx'));
  assert.deepEqual([after.loaded.tensors.float32(after.layers[0].weightTensor)[2], after.loaded.tensors.float32(after.layers[1].weightTensor)[11]], [0, 0]);
  after.loaded.close();
  assert.equal(differing(file, path.join(dir, 'out.onnx')).length, 4 * 4);
  assert.deepEqual(report.layers.map((l) => l.id), ['fc1', 'fc2']);
});

test('Constant value_floats (packed fixed32) is patchable; FLOAT16 in int32_data (varints) is refused', async () => {
  const dir = freshDir();
  const file = save(dir, 'm.onnx', modelBytes(graph({
    node: [node('Constant', [], ['c'], [attr.floats('value_floats', values(8))]), node('Identity', ['c'], ['y'])],
    output: [valueInfo('y', 1, [8])],
  })));
  const loaded = loadModel(file);
  const tensor = constantNodeTensor(loaded.model.graph.nodes[0])!;
  assert.equal(tensor.storage.kind, 'inline');
  const layer = { id: 'c', op: 'MatMul', weightTensor: tensor } as unknown as Layer;
  await writePrunedModel(loaded, maskSet(layer, [[1, 6]]), path.join(dir, 'out.onnx'));
  loaded.close();
  const out = loadModel(path.join(dir, 'out.onnx'));
  assert.deepEqual(Array.from(out.tensors.float32(constantNodeTensor(out.model.graph.nodes[0])!)), values(8).map((v, i) => (i === 1 || i === 6 ? 0 : Math.fround(v))));
  out.close();

  const f16 = save(dir, 'h.onnx', gemmModel({ name: 'w', dims: [4, 6], dataType: 10, int32Data: values(24).map(toHalf) }));
  const h = open(f16);
  assert.throws(() => new TensorLocator(h.loaded.model).locate(h.layers[0].weightTensor, 'fc'), (e: Error) => e instanceof ModelError && /FLOAT16 stored in int32_data \(varints\)/.test(e.message) && /raw_data/.test(e.message));
  await assert.rejects(writePrunedModel(h.loaded, maskSet(h.layers[0], [[0]]), path.join(dir, 'h.out.onnx')), /varints/);
  h.loaded.close();
  assert.ok(!fs.existsSync(path.join(dir, 'h.out.onnx')));
});

test('LSTM: W and R are both patched', async () => {
  const dir = freshDir();
  const file = save(dir, 'm.onnx', modelBytes(graph({
    node: [node('LSTM', ['x', 'W', 'R'], ['Y'], [attr.int('hidden_size', 2)], 'rnn')],
    initializer: [
      { name: 'W', dims: [1, 8, 3], dataType: 1, rawData: new Uint8Array(new Float32Array(values(24)).buffer) },
      { name: 'R', dims: [1, 8, 2], dataType: 1, rawData: new Uint8Array(new Float32Array(values(16, 3)).buffer) },
    ],
    input: [valueInfo('x', 1, [5, 1, 3])], output: [valueInfo('Y', 1, [5, 1, 1, 2])],
  })));
  const { loaded, layers } = open(file);
  const report = await writePrunedModel(loaded, maskSet(layers[0], [[0, 1], [15]]), path.join(dir, 'out.onnx'));
  loaded.close();
  assert.deepEqual([report.layers[0].weights, report.layers[0].pruned], [40, 3]);
  assert.equal(differing(file, path.join(dir, 'out.onnx')).length, 12);
});

test('external data: copied next to the output under the same location and patched there; never over the input', async () => {
  const dir = freshDir();
  const data = Buffer.concat([Buffer.alloc(16, 7), Buffer.from(new Float32Array(values(24)).buffer)]);
  fs.mkdirSync(path.join(dir, 'weights'));
  fs.writeFileSync(path.join(dir, 'weights', 'm.bin'), data);
  const file = save(dir, 'm.onnx', gemmModel({
    name: 'w', dims: [4, 6], dataType: 1, dataLocation: 1,
    externalData: [{ key: 'location', value: 'weights/m.bin' }, { key: 'offset', value: '16' }, { key: 'length', value: '96' }],
  }));
  const { loaded, layers } = open(file);
  const masks = maskSet(layers[0], [[3, 4]]);
  assert.equal(defaultOutputPath(loaded.model), path.join(dir, 'm.pruned', 'm.onnx'));
  // Into the model's own folder: the data file would be the input's.
  await assert.rejects(writePrunedModel(loaded, masks, path.join(dir, 'other.onnx')), /would overwrite the input's copy/);
  const out = defaultOutputPath(loaded.model);
  const report = await writePrunedModel(loaded, masks, out);
  loaded.close();
  assert.deepEqual(report.dataFiles, [path.join(dir, 'm.pruned', 'weights', 'm.bin')]);
  assert.deepEqual(fs.readFileSync(out), fs.readFileSync(file), 'the model file itself is a plain copy');
  assert.deepEqual(differing(path.join(dir, 'weights', 'm.bin'), report.dataFiles[0]), [...range(16 + 12, 16 + 20)].filter((o) => data[o] !== 0));
  assert.deepEqual(fs.readFileSync(path.join(dir, 'weights', 'm.bin')), data, 'the input data file is unchanged');
  const after = open(out);
  assert.deepEqual(Array.from(after.loaded.tensors.float32(after.layers[0].weightTensor)).slice(2, 6), [Math.fround(values(24)[2]), 0, 0, Math.fround(values(24)[5])]);
  after.loaded.close();
  noTemporaries(dir);

  // Nothing pruned in the data file: an output in the same folder shares it; one elsewhere gets a copy.
  const again = open(file);
  await assert.rejects(writePrunedModel(again.loaded, masks, out), /already exists/);
  fs.writeFileSync(out + '.moved', fs.readFileSync(out));
  fs.unlinkSync(out);
  await assert.rejects(writePrunedModel(again.loaded, masks, out), /the output's external data file .*m\.bin already exists\. Pass --force/);
  await writePrunedModel(again.loaded, masks, out, { force: true });
  const shared = await writePrunedModel(again.loaded, new Map(), path.join(dir, 'same-folder.onnx'));
  assert.deepEqual(shared.dataFiles, [path.join(dir, 'weights', 'm.bin')]);
  const copied = await writePrunedModel(again.loaded, new Map(), path.join(dir, 'elsewhere', 'm.onnx'));
  again.loaded.close();
  assert.deepEqual(copied.dataFiles, [path.join(dir, 'elsewhere', 'weights', 'm.bin')]);
  assert.deepEqual(fs.readFileSync(copied.dataFiles[0]), data);
  noTemporaries(dir);
});

test('output paths: never the input (also through a symlink or a hard link); an existing output needs force', async () => {
  const dir = freshDir();
  const file = save(dir, 'm.onnx', gemmModel({ name: 'w', dims: [4, 6], dataType: 1, rawData: new Uint8Array(new Float32Array(values(24)).buffer) }));
  fs.symlinkSync(file, path.join(dir, 'link.onnx'));
  fs.linkSync(file, path.join(dir, 'hard.onnx'));
  fs.mkdirSync(path.join(dir, 'sub'));
  const before = sha(file);
  const { loaded, layers } = open(file);
  const masks = maskSet(layers[0], [[0]]);
  for (const [out, message] of [
    [file, /the output is the input model/], [path.join(dir, '.', 'm.onnx'), /is the input/], [path.join(dir, 'link.onnx'), /is the input/],
    [path.join(dir, 'hard.onnx'), /is the input/], [path.join(dir, 'sub'), /is a folder/], [path.join(dir, 'sub') + '/', /is a folder/],
  ] as const) {
    await assert.rejects(writePrunedModel(loaded, masks, out, { force: true }), (e: Error) => e instanceof ModelError && message.test(e.message), out);
  }
  assert.equal(sha(file), before);
  const out = path.join(dir, 'out.onnx');
  await writePrunedModel(loaded, masks, out);
  await assert.rejects(writePrunedModel(loaded, masks, out), /already exists\. Pass --force/);
  fs.writeFileSync(out, 'old');
  await writePrunedModel(loaded, masks, out, { force: true });
  assert.equal(fs.statSync(out).size, fs.statSync(file).size);
  // A folder that does not exist yet is created.
  await writePrunedModel(loaded, masks, path.join(dir, 'new', 'deeper', 'out.onnx'));
  loaded.close();
  assert.equal(sha(file), before);
  noTemporaries(dir);
});

test('cancelled: no output, no temporaries, no folders it created; an aborted signal stops before anything', async () => {
  const dir = freshDir();
  const file = save(dir, 'm.onnx', modelBytes(graph({
    node: [node('Gemm', ['x', 'a'], ['h'], [attr.int('transB', 1)], 'fc1'), node('Gemm', ['h', 'b'], ['y'], [attr.int('transB', 1)], 'fc2')],
    initializer: [
      { name: 'a', dims: [4, 6], dataType: 1, rawData: new Uint8Array(new Float32Array(values(24)).buffer) },
      { name: 'b', dims: [3, 4], dataType: 1, rawData: new Uint8Array(new Float32Array(values(12)).buffer) },
    ],
    input: [valueInfo('x', 1, [2, 6])], output: [valueInfo('y', 1, [2, 3])],
  })));
  const { loaded, layers } = open(file);
  const masks: MaskSet = new Map([...maskSet(layers[0], [[0]]), ...maskSet(layers[1], [[1]])]);
  const controller = new AbortController();
  const out = path.join(dir, 'made', 'out.onnx');
  await assert.rejects(writePrunedModel(loaded, masks, out, { signal: controller.signal, onProgress: (done) => done === 1 && controller.abort() }), { name: 'AbortError' });
  assert.ok(!fs.existsSync(path.join(dir, 'made')), 'the output folder it made is gone');
  await assert.rejects(writePrunedModel(loaded, masks, path.join(dir, 'out.onnx'), { signal: AbortSignal.abort() }), { name: 'AbortError' });
  loaded.close();
  assert.deepEqual(fs.readdirSync(dir), ['m.onnx']);
});

test('a weight shared by two layers: identical masks patch it once; different masks, or a dense sharer, are refused', async () => {
  const dir = freshDir();
  const file = save(dir, 'm.onnx', modelBytes(graph({
    node: [node('Gemm', ['x', 'w'], ['h'], [attr.int('transB', 1)], 'fc1'), node('Identity', ['w'], ['w2']), node('Gemm', ['x', 'w2'], ['y'], [attr.int('transB', 1)], 'fc2')],
    initializer: [{ name: 'w', dims: [4, 6], dataType: 1, rawData: new Uint8Array(new Float32Array(values(24)).buffer) }],
    input: [valueInfo('x', 1, [2, 6])], output: [valueInfo('y', 1, [2, 4])],
  })));
  const { loaded, layers } = open(file);
  const same: MaskSet = new Map([...maskSet(layers[0], [[1, 2]]), ...maskSet(layers[1], [[1, 2]])]);
  const report = await writePrunedModel(loaded, same, path.join(dir, 'same.onnx'), { layers });
  assert.deepEqual(report.layers.map((l) => [l.id, l.pruned, l.zeros]), [['fc1', 2, 2], ['fc2', 2, 2]]);
  const different: MaskSet = new Map([...maskSet(layers[0], [[1, 2]]), ...maskSet(layers[1], [[3]])]);
  await assert.rejects(writePrunedModel(loaded, different, path.join(dir, 'diff.onnx')), /shared by layers "fc1" and "fc2".*different masks/);
  await assert.rejects(writePrunedModel(loaded, maskSet(layers[0], [[1]]), path.join(dir, 'dense.onnx'), { layers }), /layer "fc2", which the plan leaves dense, is also the weight of pruned layer "fc1"/);
  loaded.close();
  assert.deepEqual(fs.readdirSync(dir).sort(), ['m.onnx', 'same.onnx']);
});

test('buildMasks: unknown layer (closest id suggested), unknown scheme, infeasible scheme — before any weight is read', () => {
  const dir = freshDir();
  const file = save(dir, 'm.onnx', gemmModel({ name: 'w', dims: [4, 6], dataType: 1, rawData: new Uint8Array(new Float32Array(values(24)).buffer) }));
  const { loaded, layers } = open(file);
  const plan = (layersEntry: Record<string, unknown>) => ({ model: 'm.onnx', target: 'host-cpu', layers: layersEntry }) as never;
  assert.throws(() => buildMasks(loaded, layers, plan({ fcc: { scheme: 'unstructured', rate: 0.5 } }), 'p.json'), /p\.json: the model has no layer "fcc"\. Did you mean "fc"\?/);
  assert.throws(() => buildMasks(loaded, layers, plan({ fc: { scheme: 'magic', rate: 0.5 } }), 'p.json'), /layer "fc": unknown scheme "magic"\. Use one of dense, unstructured/);
  assert.throws(() => buildMasks(loaded, layers, plan({ fc: { scheme: 'block-punched', block: [8, 4], rate: 0.5 } }), 'p.json'), /layer "fc": block-punched \[8,4\] at rate 0\.5 is infeasible: block 8×4 is larger than/);
  assert.throws(() => buildMasks(loaded, layers, plan({ fc: { scheme: 'unstructured', rate: 1.5 } }), 'p.json'), /infeasible: rate 1\.5 is outside \[0, 1\)/);
  assert.equal(buildMasks(loaded, layers, plan({ fc: { scheme: 'dense', rate: 0 } })).size, 0);
  const masks = buildMasks(loaded, layers, plan({ fc: { scheme: 'unstructured', rate: 0.25 } }));
  assert.equal(masks.get('fc')!.masks[0].reduce((n, m) => n + (m === 0 ? 1 : 0), 0), 6);
  // The 6 smallest |w| of sin(i + 1)·2 are pruned.
  const w = values(24).map(Math.abs);
  const smallest = w.map((v, i) => [v, i]).sort((a, b) => a[0] - b[0]).slice(0, 6).map(([, i]) => i).sort((a, b) => a - b);
  assert.deepEqual([...masks.get('fc')!.masks[0].entries()].filter(([, m]) => m === 0).map(([i]) => i), smallest);
  loaded.close();
});

test('masks prepared on demand: same checks up front, computed only as the writer reaches each layer, same output as eager masks', async () => {
  const dir = freshDir();
  const file = save(dir, 'm.onnx', modelBytes(graph({
    node: [node('Gemm', ['x', 'w1'], ['h'], [attr.int('transB', 1)], 'fc1'), node('Gemm', ['h', 'w2'], ['y'], [attr.int('transB', 1)], 'fc2')],
    initializer: [
      { name: 'w1', dims: [6, 6], dataType: 1, rawData: new Uint8Array(new Float32Array(values(36)).buffer) },
      { name: 'w2', dims: [4, 6], dataType: 1, rawData: new Uint8Array(new Float32Array(values(24, 100)).buffer) },
    ],
    input: [valueInfo('x', 1, [2, 6])], output: [valueInfo('y', 1, [2, 4])],
  })));
  const { loaded, layers } = open(file);
  const plan = { model: 'm.onnx', target: 'host-cpu', layers: { fc1: { scheme: 'unstructured', rate: 0.5 }, fc2: { scheme: 'block-bcr', block: [2, 3], rate: 0.5 } } } as never;
  assert.throws(() => prepareMasks(loaded, layers, { ...(plan as object), layers: { fc3: { scheme: 'dense', rate: 0 } } } as never), /the model has no layer "fc3"/);
  // Weights are read only when a layer's masks are first needed: with the model closed, that fails.
  const early = prepareMasks(loaded, layers, plan);
  const eager = buildMasks(loaded, layers, plan);
  const lazy = prepareMasks(loaded, layers, plan);
  const eagerReport = await writePrunedModel(loaded, eager, path.join(dir, 'eager.onnx'), { layers });
  const lazyReport = await writePrunedModel(loaded, lazy, path.join(dir, 'lazy.onnx'), { layers });
  assert.equal(sha(path.join(dir, 'lazy.onnx')), sha(path.join(dir, 'eager.onnx')));
  assert.deepEqual(lazyReport.layers, eagerReport.layers);
  loaded.close();
  assert.throws(() => early.get('fc1')!.masks, /closed/);
});

function* range(from: number, to: number) {
  for (let i = from; i < to; i++) yield i;
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

/** float → IEEE half (round to nearest; the test values are well inside the normal range). */
function toHalf(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = ((u >>> 23) & 0xff) - 127 + 15;
  const mant = u & 0x7fffff;
  if (exp <= 0) return sign;
  return sign | (exp << 10) | Math.round(mant / 8192);
}
