// Decoding each storage form of ONNX tensors, Constant attribute forms, Identity chains, subgraphs,
// functions, newer data types and external data, with values stated by hand.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadModel, loadModelFromBytes } from '../../src/core/onnx/load';
import { walkGraphs, countNodes } from '../../src/core/onnx/graph-view';
import { ModelError } from '../../src/core/errors';
import { attr, floatTensor, graph, modelBytes, node, valueInfo } from '../support/build-model';

function load(bytes: Uint8Array) {
  return loadModelFromBytes('/virtual/model.onnx', bytes);
}

test('raw_data floats are read as little-endian float32, with the byte range of the payload', () => {
  const bytes = modelBytes(graph({ initializer: [floatTensor('w', [2, 2], [1.5, -2, 0.25, 8])] }));
  const { model, tensors } = load(bytes);
  const w = model.graph.initializers[0];
  assert.deepEqual([...tensors.float32(w)], [1.5, -2, 0.25, 8]);
  assert.equal(w.storage.kind, 'raw');
  if (w.storage.kind !== 'raw') return;
  assert.equal(w.storage.range.length, 16);
  // The recorded range holds exactly the payload: patching it in place changes the value.
  const patched = Uint8Array.from(bytes);
  new DataView(patched.buffer).setFloat32(w.storage.range.offset, 42, true);
  assert.equal(load(patched).tensors.float32(load(patched).model.graph.initializers[0])[0], 42);
});

test('typed fields: float_data, int32_data (INT8, UINT16, BOOL, FLOAT16 bits), int64_data, double_data, uint64_data', () => {
  const { model, tensors } = load(modelBytes(graph({
    initializer: [
      { name: 'f', dims: [3], dataType: 1, floatData: [1, -2.5, 3] },
      { name: 'i8', dims: [3], dataType: 3, int32Data: [-128, 0, 127] },
      { name: 'u16', dims: [2], dataType: 4, int32Data: [65535, 7] },
      { name: 'b', dims: [3], dataType: 9, int32Data: [1, 0, 1] },
      { name: 'h', dims: [3], dataType: 10, int32Data: [0x3c00, 0xc000, 0x3800] }, // 1, -2, 0.5 as IEEE half
      // 2^53+1 is exact only as a bigint.
      { name: 'i64', dims: [2], dataType: 7, int64Data: [-3, '9007199254740993' as unknown as number] },
      { name: 'd', dims: [2], dataType: 11, doubleData: [0.125, -1e10] },
      { name: 'u32', dims: [2], dataType: 12, uint64Data: [4294967295, 5] },
    ],
  })));
  const byName = new Map(model.graph.initializers.map((t) => [t.name, t]));
  const get = (n: string) => byName.get(n)!;
  assert.deepEqual([...tensors.float32(get('f'))], [1, -2.5, 3]);
  assert.deepEqual(tensors.int64(get('i8')), [-128, 0, 127]);
  assert.deepEqual(tensors.int64(get('u16')), [65535, 7]);
  assert.deepEqual(tensors.int64(get('b')), [1, 0, 1]);
  assert.deepEqual([...tensors.float32(get('h'))], [1, -2, 0.5]);
  assert.deepEqual(tensors.int64(get('i64')), [-3, 9007199254740993n]);
  assert.deepEqual([...tensors.float32(get('d'))], [0.125, -1e10]);
  assert.deepEqual(tensors.int64(get('u32')), [4294967295, 5]);
  assert.deepEqual(model.graph.initializers.map((t) => t.storage.kind), Array(8).fill('typed'));
});

test('newer data types (IR 9-11) keep their numbers and sizes: FLOAT8E4M3FN, INT4 packed', () => {
  const { model, tensors } = load(modelBytes(graph({
    initializer: [
      { name: 'f8', dims: [2], dataType: 17, rawData: Uint8Array.of(0x38, 0xb8) },
      { name: 'i4', dims: [3], dataType: 22, rawData: Uint8Array.of(0x21, 0x03) },
      { name: 'i4typed', dims: [3], dataType: 22, int32Data: [0x21, 0x03] },
      // FLOAT6E2M3 codes 4, 8, 44: one per int32, packed 6 bits each LSB-first → 0x04, 0xc2, 0x02.
      { name: 'f6typed', dims: [3], dataType: 27, int32Data: [4, 8, 44] },
    ],
  })));
  const [f8, i4, i4typed, f6typed] = model.graph.initializers;
  assert.deepEqual([...tensors.raw(f6typed)], [0x04, 0xc2, 0x02]);
  assert.equal(f8.dataType, 17);
  assert.deepEqual([...tensors.raw(f8)], [0x38, 0xb8]);
  assert.deepEqual([...tensors.raw(i4)], [0x21, 0x03]); // three 4-bit values in two bytes
  assert.deepEqual([...tensors.raw(i4typed)], [0x21, 0x03]);
});

test('Constant forms and Identity chains resolve to the tensor behind them', () => {
  const { model, tensors } = load(modelBytes(graph({
    node: [
      node('Constant', [], ['c_t'], [attr.tensor('value', floatTensor('', [2], [4, 5]))]),
      node('Constant', [], ['c_f'], [attr.float('value_float', 2.5)]),
      node('Constant', [], ['c_fs'], [attr.floats('value_floats', [1, 2, 3])]),
      node('Constant', [], ['c_i'], [attr.int('value_int', -7)]),
      node('Constant', [], ['c_is'], [attr.ints('value_ints', [3, 1, 4])]),
      node('Identity', ['w'], ['w1']),
      node('Identity', ['w1'], ['w2']),
      node('Identity', ['c_t'], ['c_t1']),
      node('Relu', ['x'], ['y']),
    ],
    initializer: [floatTensor('w', [1], [9])],
    input: [valueInfo('x', 1, [1])],
    output: [valueInfo('y', 1, [1])],
  })));
  const scope = walkGraphs(model).next().value!.scope;
  assert.deepEqual([...tensors.float32(scope.constant('c_t')!)], [4, 5]);
  assert.deepEqual([...tensors.float32(scope.constant('c_f')!)], [2.5]);
  assert.deepEqual(scope.constant('c_fs')!.dims, [3]);
  assert.deepEqual([...tensors.float32(scope.constant('c_fs')!)], [1, 2, 3]);
  assert.deepEqual(tensors.int64(scope.constant('c_i')!), [-7]);
  assert.deepEqual(tensors.int64(scope.constant('c_is')!), [3, 1, 4]);
  assert.equal(scope.constant('w2')!.name, 'w');
  assert.deepEqual([...tensors.float32(scope.constant('c_t1')!)], [4, 5]);
  assert.equal(scope.constant('y'), undefined, 'a computed value is not a constant');
  assert.equal(scope.constant('x'), undefined);
});

test('subgraphs are walked and counted; inner scopes see outer initializers unless an input shadows them', () => {
  const thenBranch = graph({ name: 'then', node: [node('Add', ['w', 'v'], ['o'])], initializer: [floatTensor('v', [1], [1])], output: [valueInfo('o', 1, [1])] });
  const elseBranch = graph({
    name: 'else',
    node: [node('If', ['cond'], ['o2'], [attr.graph('then_branch', graph({ name: 'deep', node: [node('Neg', ['w'], ['o3'])], output: [valueInfo('o3', 1, [1])] })),
      attr.graph('else_branch', graph({ name: 'deep2', node: [node('Abs', ['w'], ['o4'])], output: [valueInfo('o4', 1, [1])] }))])],
    input: [valueInfo('w', 1, [1])],
    output: [valueInfo('o2', 1, [1])],
  });
  const { model } = load(modelBytes(graph({
    node: [node('If', ['cond'], ['y'], [attr.graph('then_branch', thenBranch), attr.graph('else_branch', elseBranch)])],
    initializer: [floatTensor('w', [1], [3])],
    input: [valueInfo('cond', 9, [])],
    output: [valueInfo('y', 1, [1])],
  })));
  const contexts = [...walkGraphs(model)];
  assert.deepEqual(contexts.map((c) => c.graph.name), ['g', 'then', 'else', 'deep', 'deep2']);
  assert.deepEqual(contexts[3].path, [{ node: 0, attribute: 'else_branch', index: 0 }, { node: 0, attribute: 'then_branch', index: 0 }]);
  assert.deepEqual(countNodes(model), { nodes: 5, initializers: 2 });
  assert.equal(contexts[1].scope.constant('w')?.name, 'w', 'then-branch sees the outer initializer');
  assert.equal(contexts[2].scope.constant('w'), undefined, 'else-branch input w shadows it');
  assert.equal(contexts[3].scope.constant('w'), undefined, 'and so does everything nested inside it');
});

test('model-local functions are decoded with their nodes, attributes and opsets', () => {
  const { model } = load(modelBytes(graph({ node: [node('Square', ['x'], ['y'])] }), {
    functions: [{ name: 'Square', domain: 'local', input: ['a'], output: ['b'], attribute: ['alpha'], node: [node('Mul', ['a', 'a'], ['b'])], opsetImport: [{ domain: '', version: 17 }] }],
  }));
  assert.equal(model.functions.length, 1);
  const f = model.functions[0];
  assert.deepEqual([f.name, f.domain, f.inputs, f.outputs, f.attributeNames, f.nodes.map((n) => n.opType)], ['Square', 'local', ['a'], ['b'], ['alpha'], ['Mul']]);
});

test('symbolic dims keep their names; unknown dims are null', () => {
  const { model } = load(modelBytes(graph({ input: [valueInfo('x', 1, ['batch', 3, 224, 224]), { name: 'z', type: { tensorType: { elemType: 1, shape: { dim: [{}, { dimValue: 2 }] } } } }] })));
  const [x, z] = model.graph.inputs;
  assert.deepEqual(x.type, { kind: 'tensor', elemType: 1, shape: ['batch', 3, 224, 224] });
  assert.deepEqual(z.type, { kind: 'tensor', elemType: 1, shape: [null, 2] });
});

test('external data is read lazily from the model folder; escaping locations are refused', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prunemap-ext-'));
  const data = new Float32Array([10, 20, 30, 40]);
  fs.writeFileSync(path.join(dir, 'w.bin'), Buffer.concat([Buffer.alloc(8), Buffer.from(data.buffer)]));
  const ext = (location: string, offset = '8', length = '16') => modelBytes(graph({
    initializer: [{ name: 'w', dims: [4], dataType: 1, dataLocation: 1, externalData: [{ key: 'location', value: location }, { key: 'offset', value: offset }, { key: 'length', value: length }] }],
  }));
  const write = (name: string, bytes: Uint8Array) => { const p = path.join(dir, name); fs.writeFileSync(p, bytes); return p; };
  const ok = loadModel(write('ok.onnx', ext('w.bin')));
  const w = ok.model.graph.initializers[0];
  assert.equal(w.storage.kind, 'external');
  assert.deepEqual([...ok.tensors.float32(w)], [10, 20, 30, 40]);
  ok.close();
  const refused: [string, Uint8Array, RegExp][] = [
    ['dotdot.onnx', ext('../w.bin'), /leaves the model's folder/],
    ['abs.onnx', ext('/etc/passwd'), /absolute/],
    ['missing.onnx', ext('nope.bin'), /missing/],
    ['short.onnx', ext('w.bin', '8', '64'), /needs bytes 8\.\.72 but the data file has 24/],
    ['badoffset.onnx', ext('w.bin', '-1'), /not a byte count/],
  ];
  fs.symlinkSync('/etc/hostname', path.join(dir, 'link.bin'));
  refused.push(['link.onnx', ext('link.bin', '0', '1'), /outside the model's folder/]);
  for (const [name, bytes, message] of refused) {
    assert.throws(() => loadModel(write(name, bytes)), (err: unknown) => err instanceof ModelError && message.test(err.message) && err.message.includes('"w"'), name);
  }
  fs.rmSync(dir, { recursive: true });
});

test('unknown fields are skipped, whatever their wire type', () => {
  // ModelProto with unknown fields 99 (varint), 100 (bytes), 101 (fixed32), 102 (fixed64) before the graph.
  const g = modelBytes(graph({ node: [node('Relu', ['x'], ['y'])] }));
  const unknown = Uint8Array.of(0x98, 0x06, 0x96, 0x01, 0xa2, 0x06, 0x02, 0xaa, 0xbb, 0xad, 0x06, 1, 2, 3, 4, 0xb1, 0x06, 1, 2, 3, 4, 5, 6, 7, 8);
  const { model } = load(Uint8Array.from([...unknown, ...g]));
  assert.equal(model.graph.nodes[0].opType, 'Relu');
});
