// The textual syntax printer (src/core/onnx/text.ts) on small hand-built models, with the expected
// text stated in full. The expected texts were checked against onnx 1.23.1's own printer
// (onnx.printer.to_text) on the same models; where this printer departs from it on purpose, the
// test says so. test/corpus/text-roundtrip.test.ts checks the real parser reads the text back.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { BufferSource } from '../../src/core/onnx/byte-source';
import { walkGraphs } from '../../src/core/onnx/graph-view';
import { loadModelFromBytes } from '../../src/core/onnx/load';
import {
  AttrType, type Attribute, type Graph, type Model, type Node, type Tensor, type TypeInfo, type ValueInfo,
} from '../../src/core/onnx/model';
import { TensorReader } from '../../src/core/onnx/tensor-data';
import { formatFloat32, formatFloat64, lineOfNode, printId, printModel, quoteString } from '../../src/core/onnx/text';
import { floatTensor, graph as protoGraph, modelBytes, node as protoNode, valueInfo as protoValueInfo } from '../support/build-model';

// ---------------------------------------------------------------- builders

const FLOAT = 1, INT64 = 7, STRING = 8, BOOL = 9;

function tensorType(elemType: number, shape?: (number | string | null)[]): TypeInfo {
  return { kind: 'tensor', elemType, shape };
}

function vi(name: string, type?: TypeInfo): ValueInfo {
  return { name, type };
}

function mkGraph(g: Partial<Graph>): Graph {
  return { name: 'g', nodes: [], initializers: [], sparseInitializers: [], inputs: [], outputs: [], valueInfo: [], ...g };
}

function mkNode(opType: string, inputs: string[], outputs: string[], attributes: Attribute[] = [], extra: Partial<Node> = {}): Node {
  return { name: '', opType, domain: '', inputs, outputs, attributes, ...extra };
}

function mkModel(graph: Graph, extra: Partial<Model> = {}): Model {
  return {
    path: '/virtual/model.onnx', fileSize: 0, irVersion: 8, opsets: [{ domain: '', version: 17 }], producerName: 'unit',
    producerVersion: '', domain: '', modelVersion: 0, docString: '', metadata: [], graph, functions: [], ...extra,
  };
}

const enc = (s: string) => new TextEncoder().encode(s);

/** Values held by the tensor itself (no file): FLOAT as float_data, integers as int64_data. */
function inlineTensor(name: string, dataType: number, dims: number[], values: (number | bigint)[]): Tensor {
  return { name, dataType, dims, storage: { kind: 'inline', values } };
}

const noFile = () => new TensorReader(new BufferSource('/virtual/model.onnx', new Uint8Array(0)));

const header = (ir = 8, opsets = '["" : 17]') => `<\n   ir_version: ${ir},\n   opset_import: ${opsets},\n   producer_name: "unit"\n>\n`;

// ---------------------------------------------------------------- nodes and attributes

test('a node with every attribute kind', () => {
  const body = mkGraph({
    name: 'body', inputs: [vi('a', tensorType(FLOAT, [1]))], outputs: [vi('b', tensorType(FLOAT, [1]))],
    nodes: [mkNode('Neg', ['a'], ['b'])],
  });
  const attrs: Attribute[] = [
    { name: 'f', type: AttrType.FLOAT, f: 0.5 },
    { name: 'fs', type: AttrType.FLOATS, floats: [1, Math.fround(0.1), -Infinity, NaN] },
    { name: 'g', type: AttrType.GRAPH, g: body },
    { name: 'gs', type: AttrType.GRAPHS, graphs: [body, body] },
    { name: 'i', type: AttrType.INT, i: -3 },
    { name: 'is', type: AttrType.INTS, ints: [1, -9223372036854775808n, 9223372036854775807n] },
    { name: 'r', type: AttrType.FLOAT, refAttrName: 'alpha' },
    { name: 's', type: AttrType.STRING, s: enc('say "hi" \\ ü') },
    { name: 'sp', type: AttrType.SPARSE_TENSOR },
    { name: 'ss', type: AttrType.STRINGS, strings: [enc('a'), enc('')] },
    { name: 't', type: AttrType.TENSOR, t: inlineTensor('tv', FLOAT, [2], [1.5, -2]) },
    { name: 'tp', type: AttrType.TYPE_PROTO, tp: tensorType(FLOAT, ['N', 3]) },
    { name: 'tps', type: AttrType.TYPE_PROTOS, typeProtos: [{ kind: 'sequence', elem: tensorType(INT64) }, { kind: 'map', keyType: STRING, value: tensorType(FLOAT, []) }] },
    { name: 'ts', type: AttrType.TENSORS, tensors: [inlineTensor('', INT64, [], [7])] },
  ];
  const model = mkModel(mkGraph({
    name: 'kinds', inputs: [vi('x', tensorType(FLOAT, [1]))], outputs: [vi('y', tensorType(FLOAT, [1]))],
    nodes: [mkNode('Custom', ['x', ''], ['y'], attrs, { name: 'all_kinds', domain: 'com.example' })],
  }), { opsets: [{ domain: '', version: 17 }, { domain: 'com.example', version: 1 }] });
  const { text, lines } = printModel(model, { tensors: noFile() });
  // As onnx.printer.to_text, except `sp: sparse_tensor = ...` (it prints nothing after "=").
  assert.equal(text, header(8, '["" : 17, "com.example" : 1]') + [
    'kinds (float[1] x) => (float[1] y) {',
    '   [all_kinds] y = com.example.Custom (x, "") <f: float = 0.5, fs: floats = [1, 0.1, -inf, nan], g: graph = body (float[1] a) => (float[1] b) {',
    '      b = Neg (a)',
    '   }, gs: graphs = [body (float[1] a) => (float[1] b) {',
    '      b = Neg (a)',
    '   }, body (float[1] a) => (float[1] b) {',
    '      b = Neg (a)',
    '   }], i: int = -3, is: ints = [1, -9223372036854775808, 9223372036854775807], r: float = @alpha, s: string = "say \\"hi\\" \\\\ ü", '
      + 'sp: sparse_tensor = ..., ss: strings = ["a", ""], t: tensor = float[2] tv {1.5,-2}, tp: type_proto = float[N,3], '
      + 'tps: type_protos = [seq(int64[]), map(string, float)], ts: tensors = [int64 {7}]>',
    '}',
  ].join('\n'));
  assert.deepEqual(lines.map((l) => [l.line, l.graphPath.map((s) => `${s.node}.${s.attribute}[${s.index}]`).join('/'), l.nodeIndex]), [
    [6, '', 0], [7, '0.g[0]', 0], [9, '0.gs[0]', 0], [11, '0.gs[1]', 0],
  ]);
});

test('attributes go before the inputs unless one holds a graph; node names, domains and overloads', () => {
  const model = mkModel(mkGraph({
    nodes: [
      mkNode('Conv', ['x', 'w'], ['c'], [
        { name: 'group', type: AttrType.INT, i: 1 }, { name: 'kernel_shape', type: AttrType.INTS, ints: [3, 3] },
      ], { name: 'conv1' }),
      mkNode('Relu', ['c'], ['r'], [], { name: '/layer1/Relu' }),
      mkNode('MyOp', ['r'], ['o1', 'o2'], [], { domain: 'ai.onnx.ml', overload: 'v2' }),
      mkNode('NoOutputs', [], []),
    ],
  }));
  assert.equal(printModel(model).text, header() + [
    'g () => () {',
    '   [conv1] c = Conv <group: int = 1, kernel_shape: ints = [3, 3]> (x, w)',
    '   ["/layer1/Relu"] r = Relu (c)',
    '   o1, o2 = ai.onnx.ml.MyOp:v2 (r)',
    '    = NoOutputs ()',
    '}',
  ].join('\n'));
});

test('a huge int64 attribute is printed exactly', () => {
  const model = mkModel(mkGraph({
    nodes: [mkNode('Slice', ['x', 's', 'e'], ['y'], [
      { name: 'end', type: AttrType.INT, i: 9223372036854775807n },
      { name: 'start', type: AttrType.INT, i: -9223372036854775808n },
      { name: 'step', type: AttrType.INTS, ints: [9007199254740993n, -1] },
    ])],
  }));
  assert.match(printModel(model).text,
    /\n {3}y = Slice <end: int = 9223372036854775807, start: int = -9223372036854775808, step: ints = \[9007199254740993, -1\]> \(x, s, e\)\n/);
});

// ---------------------------------------------------------------- nested graphs and the line map

function ifModel(): Model {
  const thenBranch = mkGraph({
    name: 'then_body', outputs: [vi('t', tensorType(FLOAT, [2]))],
    initializers: [inlineTensor('c', FLOAT, [1], [2])],
    nodes: [mkNode('Add', ['x', 'c'], ['t'], [], { name: 'then_add' })],
  });
  const innerElse = mkGraph({ name: 'inner_else', outputs: [vi('u', tensorType(FLOAT, [2]))], nodes: [mkNode('Neg', ['x'], ['u'])] });
  const innerThen = mkGraph({ name: 'inner_then', outputs: [vi('u', tensorType(FLOAT, [2]))], nodes: [mkNode('Abs', ['x'], ['u'])] });
  const elseBranch = mkGraph({
    name: 'else_body', outputs: [vi('e2', tensorType(FLOAT, [2]))],
    nodes: [
      mkNode('If', ['cond'], ['e'], [
        { name: 'else_branch', type: AttrType.GRAPH, g: innerElse }, { name: 'then_branch', type: AttrType.GRAPH, g: innerThen },
      ], { name: 'inner_if' }),
      mkNode('Identity', ['e'], ['e2']),
    ],
  });
  return mkModel(mkGraph({
    name: 'main', inputs: [vi('x', tensorType(FLOAT, [2])), vi('cond', tensorType(BOOL, []))], outputs: [vi('z', tensorType(FLOAT, [2]))],
    nodes: [
      mkNode('Relu', ['x'], ['r']),
      mkNode('If', ['cond'], ['y'], [
        { name: 'else_branch', type: AttrType.GRAPH, g: elseBranch }, { name: 'then_branch', type: AttrType.GRAPH, g: thenBranch },
      ], { name: 'outer_if' }),
      mkNode('Add', ['y', 'r'], ['z']),
    ],
  }));
}

test('a nested If: subgraphs inline and indented, one line per node, and the line map', () => {
  const model = ifModel();
  const { text, lines } = printModel(model, { full: true, tensors: noFile() });
  const expected = header() + [
    'main (float[2] x, bool cond) => (float[2] z) {', //                                   line 5
    '   r = Relu (x)',
    '   [outer_if] y = If (cond) <else_branch: graph = else_body () => (float[2] e2) {',
    '      [inner_if] e = If (cond) <else_branch: graph = inner_else () => (float[2] u) {',
    '         u = Neg (x)',
    '      }, then_branch: graph = inner_then () => (float[2] u) {', //                    line 10
    '         u = Abs (x)',
    '      }>',
    '      e2 = Identity (e)',
    '   }, then_branch: graph = then_body () => (float[2] t) ',
    '      <float[1] c =  {2}>', //                                                        line 15
    '{',
    '      [then_add] t = Add (x, c)',
    '   }>',
    '   z = Add (y, r)',
    '}',
  ].join('\n');
  assert.equal(text, expected);
  const textLines = text.split('\n');
  const step = (node: number, attribute: string) => ({ node, attribute, index: 0 });
  assert.deepEqual(lines, [
    { line: 6, graphPath: [], nodeIndex: 0, nodeName: '', outputs: ['r'] },
    { line: 7, graphPath: [], nodeIndex: 1, nodeName: 'outer_if', outputs: ['y'] },
    { line: 8, graphPath: [step(1, 'else_branch')], nodeIndex: 0, nodeName: 'inner_if', outputs: ['e'] },
    { line: 9, graphPath: [step(1, 'else_branch'), step(0, 'else_branch')], nodeIndex: 0, nodeName: '', outputs: ['u'] },
    { line: 11, graphPath: [step(1, 'else_branch'), step(0, 'then_branch')], nodeIndex: 0, nodeName: '', outputs: ['u'] },
    { line: 13, graphPath: [step(1, 'else_branch')], nodeIndex: 1, nodeName: '', outputs: ['e2'] },
    { line: 17, graphPath: [step(1, 'then_branch')], nodeIndex: 0, nodeName: 'then_add', outputs: ['t'] },
    { line: 19, graphPath: [], nodeIndex: 2, nodeName: '', outputs: ['z'] },
  ]);
  // Every graph that walkGraphs visits maps each of its nodes to a line showing that node.
  let mapped = 0;
  for (const ctx of walkGraphs(model)) {
    ctx.graph.nodes.forEach((n, i) => {
      const line = lineOfNode(lines, ctx.path, i);
      assert.ok(line >= 0, `node ${i} of ${ctx.graph.name} has a line`);
      assert.ok(textLines[line].includes(`= ${n.opType} `), `line ${line} shows ${n.opType}: ${textLines[line]}`);
      mapped++;
    });
  }
  assert.equal(mapped, lines.length);
  assert.equal(lineOfNode(lines, [], 3), -1);
  assert.equal(lineOfNode(lines, [{ node: 1, attribute: 'no_such', index: 0 }], 0), -1);
});

test('model-local functions: header, attributes with defaults, value_info, and their nodes in the line map', () => {
  const flatten = mkNode('Flatten', ['a'], ['b'], [{ name: 'axis', type: AttrType.INT, refAttrName: 'axis' }]);
  const model = mkModel(mkGraph({ nodes: [mkNode('MyFn', ['x'], ['y'], [{ name: 'axis', type: AttrType.INT, i: 1 }], { domain: 'local' })] }), {
    opsets: [{ domain: '', version: 17 }, { domain: 'local', version: 1 }],
    functions: [{
      name: 'MyFn', domain: 'local', inputs: ['a'], outputs: ['c'], attributeNames: ['axis'],
      attributeDefaults: [{ name: 'alpha', type: AttrType.FLOAT, f: 0.25 }],
      nodes: [flatten, mkNode('LeakyRelu', ['b'], ['c'], [{ name: 'alpha', type: AttrType.FLOAT, refAttrName: 'alpha' }])],
      opsets: [{ domain: '', version: 17 }, { domain: 'x', version: 2 }], valueInfo: [vi('b', tensorType(FLOAT, ['N', null]))],
    }],
  });
  const { text, lines } = printModel(model);
  // onnx.printer.to_text writes `MyFn <axis>(a) => (c)`: it drops attribute defaults and value_info.
  assert.equal(text, header(8, '["" : 17, "local" : 1]') + [
    'g () => () {',
    '   y = local.MyFn <axis: int = 1> (x)',
    '}',
    '<',
    '  domain: "local",',
    '  opset_import: ["" : 17,"x" : 2]',
    '>',
    'MyFn <axis,alpha: float = 0.25>(a) => (c) <float[N,?] b>',
    '{',
    '   b = Flatten <axis: int = @axis> (a)',
    '   c = LeakyRelu <alpha: float = @alpha> (b)',
    '}',
  ].join('\n'));
  assert.equal(lineOfNode(lines, [], 0), 6);
  assert.equal(lineOfNode(lines, [], 0, 0), 14);
  assert.equal(lineOfNode(lines, [], 1, 0), 15);
  assert.equal(lines[1].functionIndex, 0);
});

// ---------------------------------------------------------------- types, names, strings

test('symbolic, unknown and quoted dims; scalars, unknown rank; sequence, map, optional, sparse types', () => {
  const model = mkModel(mkGraph({
    inputs: [
      vi('x', tensorType(FLOAT, ['batch', null, 3])), vi('s', tensorType(INT64, [])), vi('u', tensorType(FLOAT)),
      vi('q', tensorType(FLOAT, ['N-1', 'batch size', 0])), vi('untyped'),
    ],
    outputs: [vi('sq', { kind: 'sequence', elem: tensorType(FLOAT, ['N']) }), vi('o', { kind: 'optional', elem: tensorType(INT64, []) })],
    valueInfo: [vi('m', { kind: 'map', keyType: STRING, value: tensorType(FLOAT, [1]) }), vi('sp', { kind: 'sparse_tensor', elemType: FLOAT, shape: [3, 'M'] })],
  }));
  assert.equal(printModel(model).text, header() + [
    'g (float[batch,?,3] x, int64 s, float[] u, float["N-1","batch size",0] q,  untyped) => (seq(float[N]) sq, optional(int64) o) ',
    '   <map(string, float[1]) m, sparse_tensor(float[3,M]) sp>',
    '{',
    '}',
  ].join('\n'));
});

test('names that are not identifiers are quoted and escaped; model strings never break a line', () => {
  assert.equal(printId('conv1_weight'), 'conv1_weight');
  assert.equal(printId('_x9'), '_x9');
  for (const [name, quoted] of [
    ['conv1.weight', '"conv1.weight"'], ['/layer1/Relu_output_0', '"/layer1/Relu_output_0"'], ['1', '"1"'], ['', '""'],
    ['a b', '"a b"'], ['say "hi"', '"say \\"hi\\""'], ['back\\slash', '"back\\\\slash"'], ['ü', '"ü"'],
  ]) assert.equal(printId(name), quoted);
  // The ONNX parser has no escapes but \\ and \": line breaks and other control characters are
  // written as visible escapes (they read back as the letter, not the control character).
  assert.equal(quoteString('a\nb\r\u2028c\u0000d\u001be\u202ef\tg'), '"a\\nb\\r\\u2028c\\x00d\\x1be\\u202ef\tg"');
  // Where no type comes first, a name spelled like a type is quoted, or the parser reads a type.
  const untyped = mkModel(mkGraph({ inputs: [vi('float'), vi('seq'), vi('x')] }));
  assert.equal(printModel(untyped).text.split('\n')[5], 'g ( "float",  "seq",  x) => () {');

  const evil = 'x"]\n}\n<evil> = Hack ("';
  const model = mkModel(mkGraph({
    name: evil, inputs: [vi(evil, tensorType(FLOAT, [evil]))], outputs: [vi('y', tensorType(FLOAT, [1]))],
    nodes: [mkNode(`Op\n{`, [evil], ['y'], [
      { name: 'mode\nx', type: AttrType.STRING, s: enc('line1\nline2') },
      { name: 'bytes', type: AttrType.STRINGS, strings: [Uint8Array.of(0x61, 0xff, 0x0a, 0x22, 0x5c)] },
    ], { name: evil, domain: 'my domain' })],
  }), { docString: 'doc\nstring', producerName: 'p\r\n' });
  const { text, lines } = printModel(model);
  assert.equal(text, [
    '<',
    '   ir_version: 8,',
    '   opset_import: ["" : 17],',
    '   producer_name: "p\\r\\n",',
    '   doc_string: "doc\\nstring"',
    '>',
    '"x\\"]\\n}\\n<evil> = Hack (\\"" (float["x\\"]\\n}\\n<evil> = Hack (\\""] "x\\"]\\n}\\n<evil> = Hack (\\"") => (float[1] y) {',
    '   ["x\\"]\\n}\\n<evil> = Hack (\\""] y = "my domain"."Op\\n{" <"mode\\nx": string = "line1\\nline2", bytes: strings = ["a\\xff\\x0a\\"\\\\"]> ("x\\"]\\n}\\n<evil> = Hack (\\"")',
    '}',
  ].join('\n'));
  assert.equal(lines[0].line, 7);
});

test('with `full`, names the parser cannot read inside attributes are made readable', () => {
  const sub = (name: string, out: string) => mkGraph({ name, outputs: [vi(out, tensorType(FLOAT, [1]))], nodes: [mkNode('Neg', ['x'], [out])] });
  const model = mkModel(mkGraph({
    nodes: [
      mkNode('Constant', [], ['c'], [{ name: 'value', type: AttrType.TENSOR, t: inlineTensor('batch_norm_0.b_0', FLOAT, [1], [0.5]) }]),
      mkNode('If', ['cond'], ['y'], [
        { name: 'else_branch', type: AttrType.GRAPH, g: sub('', 'a') }, { name: 'then_branch', type: AttrType.GRAPH, g: sub('then branch/0', 'b') },
      ]),
      mkNode('If', ['cond'], ['z'], [
        { name: 'else_branch', type: AttrType.GRAPH, g: sub('nan_body', 'a') }, { name: 'then_branch', type: AttrType.GRAPH, g: sub('float', 'b') },
      ]),
    ],
  }));
  const shown = printModel(model, { tensors: noFile() }).text.split('\n').slice(6);
  // As onnx.printer.to_text writes them; its parser reads none of these names there.
  assert.deepEqual(shown.filter((l) => l.includes('=')), [
    '   c = Constant <value: tensor = float[1] "batch_norm_0.b_0" {0.5}> ()',
    '   y = If (cond) <else_branch: graph = "" () => (float[1] a) {',
    '      a = Neg (x)',
    '   }, then_branch: graph = "then branch/0" () => (float[1] b) {',
    '      b = Neg (x)',
    '   z = If (cond) <else_branch: graph = nan_body () => (float[1] a) {',
    '      a = Neg (x)',
    '   }, then_branch: graph = float () => (float[1] b) {',
    '      b = Neg (x)',
  ]);
  const full = printModel(model, { full: true, tensors: noFile() }).text.split('\n').slice(6);
  assert.deepEqual(full.filter((l) => l.includes('=')), [
    '   c = Constant <value: tensor = float[1] {0.5}> ()',
    '   y = If (cond) <else_branch: graph = _ () => (float[1] a) {',
    '      a = Neg (x)',
    '   }, then_branch: graph = then_branch_0 () => (float[1] b) {',
    '      b = Neg (x)',
    '   z = If (cond) <else_branch: graph = _nan_body () => (float[1] a) {',
    '      a = Neg (x)',
    '   }, then_branch: graph = _float () => (float[1] b) {',
    '      b = Neg (x)',
  ]);
});

// ---------------------------------------------------------------- initializers and values

function initializerModel(): ReturnType<typeof loadModelFromBytes> {
  const bytes = modelBytes(protoGraph({
    input: [protoValueInfo('x', FLOAT, ['N', 3])],
    output: [protoValueInfo('y', FLOAT, ['N', 3])],
    initializer: [
      floatTensor('conv1.weight', [2, 3], [0.1, -0.5, 1e-7, 3.4028234663852886e38, 123456789, -0]),
      { name: 'shape', dims: [2], dataType: INT64, int64Data: [1, -1] },
      { name: 'big', dims: [1], dataType: INT64, rawData: Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f) },
      { name: 'flags', dims: [3], dataType: BOOL, int32Data: [1, 0, 1] },
      { name: 'half', dims: [2], dataType: 10, int32Data: [0x3c00, 0x7e00] },
      { name: 'names', dims: [2], dataType: STRING, stringData: [enc('a"b'), enc('ü')] },
      { name: 'eps', dims: [], dataType: 11, doubleData: [1e-5] },
    ],
    valueInfo: [protoValueInfo('t', FLOAT, ['N', 3])],
    node: [protoNode('Mul', ['x', 'conv1.weight'], ['t']), protoNode('Identity', ['t'], ['y'], [], 'last')],
  }));
  return loadModelFromBytes('/virtual/model.onnx', bytes);
}

test('initializers: elided by default (type, shape and name only), every value with `full`', () => {
  const { model, tensors } = initializerModel();
  const head = '<\n   ir_version: 8,\n   opset_import: ["" : 17],\n   producer_name: "unit-test"\n>\n';
  const nodes = ['{', '   t = Mul (x, "conv1.weight")', '   [last] y = Identity (t)', '}'];
  assert.equal(printModel(model).text, head + [
    'g (float[N,3] x) => (float[N,3] y) ',
    '   <float[2,3] "conv1.weight", int64[2] shape, int64[1] big, bool[3] flags, float16[2] half, string[2] names, double eps, float[N,3] t>',
    ...nodes,
  ].join('\n'));
  // Exactly onnx.printer.to_text's text for this model.
  const full = printModel(model, { full: true, tensors });
  assert.equal(full.text, head + [
    'g (float[N,3] x) => (float[N,3] y) ',
    '   <float[2,3] "conv1.weight" =  {0.1,-0.5,1e-07,3.4028235e+38,123456792,-0}, int64[2] shape =  {1,-1}, '
      + 'int64[1] big =  {9223372036854775807}, bool[3] flags =  {1,0,1}, float16[2] half =  {15360,32256}, '
      + 'string[2] names = {"a\\"b", "ü"}, double eps =  {1e-05}, float[N,3] t>',
    ...nodes,
  ].join('\n'));
  assert.deepEqual(full.lines.map((l) => l.line), [8, 9]);
  assert.throws(() => printModel(model, { full: true }), /TensorReader/);

  // Values beyond the longest string V8 makes are refused with a clear error, before any reading.
  const huge = mkModel(mkGraph({
    initializers: [{ name: 'w', dataType: FLOAT, dims: [300_000_000], storage: { kind: 'raw', range: { file: '/virtual/model.onnx', offset: 0, length: 1_200_000_000 } } }],
  }));
  assert.throws(() => printModel(huge, { full: true, tensors: noFile() }), /too large to print with every value/);
  assert.match(printModel(huge).text, /<float\[300000000\] w>/);
});

test('attribute tensors show small values when a TensorReader is given, "..." otherwise', () => {
  const model = mkModel(mkGraph({
    nodes: [
      mkNode('Constant', [], ['c'], [{ name: 'value', type: AttrType.TENSOR, t: inlineTensor('', INT64, [2], [1, -1]) }]),
      mkNode('Constant', [], ['d'], [{ name: 'value', type: AttrType.TENSOR, t: inlineTensor('', FLOAT, [65], new Array(65).fill(0)) }]),
    ],
  }));
  const line = (text: string, n: number) => text.split('\n')[6 + n];
  assert.equal(line(printModel(model).text, 0), '   c = Constant <value: tensor = int64[2] ...> ()');
  const withReader = printModel(model, { tensors: noFile() }).text;
  assert.equal(line(withReader, 0), '   c = Constant <value: tensor = int64[2] {1,-1}> ()');
  assert.equal(line(withReader, 1), '   d = Constant <value: tensor = float[65] ...> ()');
  assert.match(line(printModel(model, { full: true, tensors: noFile() }).text, 1), /= float\[65\] \{0(,0){64}\}> \(\)$/);

  // A damaged value (2 elements declared, none stored) does not stop the view; `full` reports it.
  const damaged = mkModel(mkGraph({
    nodes: [mkNode('Constant', [], ['c'], [{ name: 'value', type: AttrType.TENSOR, t: { name: '', dataType: FLOAT, dims: [2], storage: { kind: 'typed', field: 'float_data', packed: [], loose: [] } } }])],
  }));
  assert.equal(line(printModel(damaged, { tensors: noFile() }).text, 0), '   c = Constant <value: tensor = float[2] ...> ()');
  assert.throws(() => printModel(damaged, { full: true, tensors: noFile() }), /float_data/);
});

// ---------------------------------------------------------------- numbers

test('floats as std::to_chars writes them: shortest text that reads back, fixed or scientific, ties to even', () => {
  // Pairs taken from onnx.printer.to_text output.
  const f32: [number, string][] = [
    [1e20, '1e+20'], [1e-5, '1e-05'], [123456789, '123456792'], [0.1, '0.1'], [1e16, '1e+16'], [12345678, '12345678'],
    [1.5e-7, '1.5e-07'], [100, '100'], [3.4028234663852886e38, '3.4028235e+38'], [1e-45, '1e-45'], [0.001, '0.001'],
    [343126.125, '343126.12'], [-1752255.25, '-1752255.2'], [155662.625, '155662.62'], [2 ** -149, '1e-45'], [2 ** -126, '1.1754944e-38'],
    [2 ** 127, '1.7014118e+38'], [16777216, '16777216'], [0.5, '0.5'], [-0, '-0'], [0, '0'], [Infinity, 'inf'], [-Infinity, '-inf'], [NaN, 'nan'],
  ];
  for (const [v, s] of f32) assert.equal(formatFloat32(v), s, `float32 ${v}`);
  assert.equal(formatFloat32(NaN, true), '-nan');
  const f64: [number, string][] = [
    [1e21, '1e+21'], [5e-324, '5e-324'], [1 / 3, '0.3333333333333333'], [2 ** 53 + 2, '9007199254740994'], [1e300, '1e+300'],
    [0.1, '0.1'], [123456789012345680, '123456789012345680'], [1.5, '1.5'], [-2.5e-7, '-2.5e-07'], [1.5e16, '1.5e+16'],
    [12345678901234567890, '12345678901234567168'], [2 ** 70, '1180591620717411303424'],
  ];
  for (const [v, s] of f64) assert.equal(formatFloat64(v), s, `double ${v}`);
});

test('float32 text reads back exactly and is as short as possible (random bit patterns)', () => {
  const f = new Float32Array(1), u = new Uint32Array(f.buffer);
  let seed = 12345;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  for (let i = 0; i < 50000; i++) {
    u[0] = i < 40000 ? next() : (next() & 0x807fffff) | ((i % 254 + 1) << 23);
    const v = f[0];
    if (!Number.isFinite(v)) continue;
    const s = formatFloat32(v);
    assert.equal(Math.fround(Number(s)), v, `${s} reads back as ${v}`);
    // Integers may print in full (to_chars prints the exact value when that is no longer than the
    // scientific form); otherwise the digits are the shortest that read back.
    if (!/[.e]/.test(s)) continue;
    const digits = s.replace(/^-/, '').replace(/e.*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
    if (digits.length > 1 && (u[0] & 0x7fffff) !== 0) {
      // No decimal with one digit fewer reads back (for a non-power-of-two the nearest one would).
      assert.notEqual(Math.fround(Number(v.toPrecision(digits.length - 1))), v, `${s} is not the shortest for ${v}`);
    }
  }
});

// ---------------------------------------------------------------- speed

test('a 500-node model prints one line per node after the header', () => {
  const nodes: Node[] = [];
  const inits: Tensor[] = [];
  for (let i = 0; i < 500; i++) {
    const w = `/features.${i}/conv/weight`;
    inits.push({ name: w, dataType: FLOAT, dims: [64, 64, 3, 3], storage: { kind: 'empty' } });
    nodes.push(mkNode('Conv', [i ? `/features.${i - 1}/Relu_output_0` : 'input', w], [`/features.${i}/Relu_output_0`], [
      { name: 'dilations', type: AttrType.INTS, ints: [1, 1] }, { name: 'group', type: AttrType.INT, i: 1 },
      { name: 'kernel_shape', type: AttrType.INTS, ints: [3, 3] }, { name: 'pads', type: AttrType.INTS, ints: [1, 1, 1, 1] },
      { name: 'strides', type: AttrType.INTS, ints: [1, 1] },
    ], { name: `/features.${i}/conv/Conv` }));
  }
  const model = mkModel(mkGraph({
    name: 'main_graph', nodes, initializers: inits,
    inputs: [vi('input', tensorType(FLOAT, ['batch', 64, 224, 224]))], outputs: [vi('/features.499/Relu_output_0', tensorType(FLOAT, ['batch', 64, 224, 224]))],
  }));
  // Speed is measured in bench/, never asserted here; this checks the layout of a large graph.
  const printed = printModel(model);
  assert.equal(printed.lines.length, 500);
  assert.equal(printed.lines[499].line, 507); // 5 header lines, signature, initializers, {
});
