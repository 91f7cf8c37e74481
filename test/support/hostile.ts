// Builders for hostile model files: a tiny protobuf wire writer, a small valid model to damage,
// malformed and absurd protobufs (wrong wire types, huge lengths, 10,000-deep nesting), seeded
// random bytes, and the seeded mutations the fuzz test applies to real models.
// Everything here is deterministic: the same seed gives the same bytes.

import { mulberry32 } from './prng';
import { onnx } from 'onnx-proto';

// ---------------------------------------------------------------------------------------------
// Wire writer

export const WIRE = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;

/** A protobuf varint; bigints allow the full 64-bit range (negative int64 = 10 bytes). */
export function varint(value: number | bigint): Uint8Array {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Uint8Array.from(out);
}

export function varintLength(value: number | bigint): number {
  return varint(value).length;
}

export function tag(field: number, wire: number): Uint8Array {
  return varint(field * 8 + wire);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  return concatAll(parts);
}

/** concat() for long lists (no argument spreading, so no call-stack limit). */
export function concatAll(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const utf8 = new TextEncoder();

/** Field `field` as a length-delimited value (message, string or bytes). */
export function lenField(field: number, body: Uint8Array | string): Uint8Array {
  const b = typeof body === 'string' ? utf8.encode(body) : body;
  return concat(tag(field, WIRE.bytes), varint(b.length), b);
}

export function varintField(field: number, value: number | bigint): Uint8Array {
  return concat(tag(field, WIRE.varint), varint(value));
}

export function fixed32Field(field: number, bytes4: Uint8Array = new Uint8Array(4)): Uint8Array {
  return concat(tag(field, WIRE.fixed32), bytes4);
}

// ---------------------------------------------------------------------------------------------
// Seeded randomness

export { mulberry32 };

export class Rng {
  private readonly next: () => number;
  constructor(readonly seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

export function randomBytes(seed: number, n: number): Uint8Array {
  return new Rng(seed).bytes(n);
}

// ---------------------------------------------------------------------------------------------
// Valid models, built with onnx-proto

const FLOAT = 1;

function floats(values: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

/**
 * A valid ~300-byte model (Gemm with a 4×8 weight and a bias in raw_data) whose graph is the LAST
 * field, so that every truncation 1..n-1 either cuts the graph (length runs past the end) or
 * leaves no graph at all: each must be refused.
 */
export function smallModel(): Uint8Array {
  const tensorType = (dims: (number | string)[]) => ({
    tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } },
  });
  const graph = onnx.GraphProto.encode({
    name: 'g',
    node: [{ name: 'fc', opType: 'Gemm', input: ['x', 'W', 'B'], output: ['y'], attribute: [{ name: 'transB', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] }],
    initializer: [
      { name: 'W', dataType: FLOAT, dims: [4, 8], rawData: floats(Array.from({ length: 32 }, (_, i) => i / 4 - 3)) },
      { name: 'B', dataType: FLOAT, dims: [4], rawData: floats([1, -1, 0.5, 2]) },
    ],
    input: [{ name: 'x', type: tensorType(['N', 8]) }],
    output: [{ name: 'y', type: tensorType(['N', 4]) }],
  }).finish();
  const head = onnx.ModelProto.encode({ irVersion: 8, producerName: 'hostile', opsetImport: [{ domain: '', version: 17 }] }).finish();
  return concat(head, lenField(7, graph));
}

/** A valid protobuf that is not a model: an encoded TensorProto. */
export function encodedTensor(): Uint8Array {
  return onnx.TensorProto.encode({ name: 'T', dataType: FLOAT, dims: [2, 2], rawData: floats([1, 2, 3, 4]) }).finish();
}

/** Model header fields placed before the graph in the hand-built models below. */
function modelHead(): Uint8Array {
  return concat(varintField(1, 8), lenField(8, concat(lenField(1, ''), varintField(2, 17))));
}

/** A model whose single graph holds one initializer (a TensorProto given as raw fields). */
export function modelWithTensor(tensorFields: Uint8Array, opType = 'Identity'): Uint8Array {
  const tensor = tensorFields;
  const node = concat(lenField(1, 'T'), lenField(2, 'y'), lenField(4, opType));
  const graph = concat(lenField(1, node), lenField(2, 'g'), lenField(5, tensor), lenField(12, lenField(1, 'y')));
  return concat(modelHead(), lenField(7, graph));
}

// ---------------------------------------------------------------------------------------------
// Malformed protobufs

/** ModelProto.graph (field 7) written as a varint instead of a message. */
export function graphAsVarint(): Uint8Array {
  return concat(modelHead(), varintField(7, 5));
}

/** NodeProto.name (field 3) written as fixed32 instead of a string. */
export function nodeNameAsFixed32(): Uint8Array {
  const node = concat(fixed32Field(3, Uint8Array.from([0x41, 0x42, 0x43, 0x44])), lenField(4, 'Relu'));
  return concat(modelHead(), lenField(7, lenField(1, node)));
}

/** ModelProto.graph with a declared length of `length` bytes, followed by a few real ones. */
export function graphWithLength(length: number | bigint): Uint8Array {
  return concat(modelHead(), tag(7, WIRE.bytes), varint(length), lenField(2, 'g'), lenField(1, lenField(4, 'Relu')));
}

/**
 * A message nested `depth` levels deep, written without recursion in O(size): each level is
 * `prefix` bytes then a length-delimited `field` holding the next level; `innermost` ends it.
 * `levels` lists one level's steps from outer to inner (a level may span several messages).
 */
export function nested(depth: number, level: { prefix: Uint8Array; field: number }[], innermost: Uint8Array): Uint8Array {
  const steps = Array.from({ length: depth }, () => level).flat();
  // Lengths from the inside out: lengths[i] = size of the message that step i's field holds.
  const lengths = new Array<number>(steps.length);
  let inner = innermost.length;
  for (let i = steps.length - 1; i >= 0; i--) {
    lengths[i] = inner;
    inner = steps[i].prefix.length + varintLength(steps[i].field * 8 + WIRE.bytes) + varintLength(inner) + inner;
  }
  const parts: Uint8Array[] = [];
  for (let i = 0; i < steps.length; i++) parts.push(steps[i].prefix, tag(steps[i].field, WIRE.bytes), varint(lengths[i]));
  parts.push(innermost);
  return concatAll(parts);
}

/** `depth` If nodes, each holding the next GraphProto in its then_branch attribute. */
export function deepIfModel(depth: number): Uint8Array {
  const innermost = lenField(2, 'leaf');
  const graphBody = nested(depth, [
    { prefix: lenField(2, 'g'), field: 1 }, // GraphProto.name, GraphProto.node
    { prefix: concat(lenField(2, 'y'), lenField(4, 'If')), field: 5 }, // NodeProto.output, op_type, attribute
    { prefix: concat(lenField(1, 'then_branch'), varintField(20, 5)), field: 6 }, // name, type GRAPH, g
  ], innermost);
  return concat(modelHead(), lenField(7, graphBody));
}

/** A graph input whose TypeProto is a sequence of a sequence of … (`depth` levels) of a tensor. */
export function deepTypeModel(depth: number): Uint8Array {
  const tensorType = lenField(1, varintField(1, FLOAT)); // TypeProto.tensor_type { elem_type }
  const type = nested(depth, [
    { prefix: new Uint8Array(0), field: 4 }, // TypeProto.sequence_type
    { prefix: new Uint8Array(0), field: 1 }, // TypeProto.Sequence.elem_type
  ], tensorType);
  const valueInfo = concat(lenField(1, 'x'), lenField(2, type));
  const graph = concat(lenField(2, 'g'), lenField(11, valueInfo), lenField(1, concat(lenField(1, 'x'), lenField(2, 'y'), lenField(4, 'Identity'))));
  return concat(modelHead(), lenField(7, graph));
}

// ---------------------------------------------------------------------------------------------
// Tensors whose declared size is absurd next to the data they carry

/** TensorProto fields: name, data type, dims, then the given storage fields. */
export function tensorFields(name: string, dataType: number, dims: (number | bigint)[], storage: Uint8Array): Uint8Array {
  return concat(lenField(8, name), varintField(2, dataType), ...dims.map((d) => varintField(1, d)), storage);
}

/** FLOAT, dims [2^40], two values in packed float_data. */
export function hugeTypedTensorModel(): Uint8Array {
  return modelWithTensor(tensorFields('T', FLOAT, [2 ** 40], lenField(4, floats([1, 2]))));
}

/** FLOAT, dims [2^40], 8 bytes of raw_data. */
export function hugeRawTensorModel(): Uint8Array {
  return modelWithTensor(tensorFields('T', FLOAT, [2 ** 40], lenField(9, floats([1, 2]))));
}

/** An unknown data type (999) with dims [2^33] and 8 bytes of raw_data. */
export function hugeUnknownTypeTensorModel(dataType = 999): Uint8Array {
  return modelWithTensor(tensorFields('T', dataType, [2 ** 33], lenField(9, floats([1, 2]))));
}

/** INT64 tensor whose values sit in float_data (a float field for an integer type), e.g. 0.5. */
export function int64WithFloatDataModel(): Uint8Array {
  return modelWithTensor(tensorFields('T', 7, [1], lenField(4, floats([0.5]))));
}

/**
 * Decodable but hostile: Concat with axis `axis` (2^31-1 is far past any rank) feeding an
 * Unsqueeze. Shape inference must not build a shape of that rank.
 */
export function concatAxisModel(axis: number): Uint8Array {
  const T = { elemType: FLOAT, shape: { dim: [{ dimValue: 1 }, { dimValue: 3 }] } };
  return onnx.ModelProto.encode({
    irVersion: 8, opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'g',
      node: [
        { opType: 'Concat', input: ['a', 'b'], output: ['c'], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: axis }] },
        { opType: 'Unsqueeze', input: ['c', 'axes'], output: ['d'] },
      ],
      initializer: [{ name: 'axes', dataType: 7, dims: [1], int64Data: [0] }],
      input: [{ name: 'a', type: { tensorType: T } }, { name: 'b', type: { tensorType: T } }],
      output: [{ name: 'd', type: { tensorType: { elemType: FLOAT } } }],
    },
  }).finish();
}

// ---------------------------------------------------------------------------------------------
// Mutations of real models (fuzzing)

export interface Mutation {
  readonly bytes: Uint8Array;
  /** What was done, e.g. "flip 3 bytes at 120,455,901": printed with failures so they reproduce. */
  readonly description: string;
}

/** Picks a byte position, preferring the given structural (non-payload) intervals. */
export type PositionPicker = (rng: Rng, size: number) => number;

export const uniformPosition: PositionPicker = (rng, size) => rng.int(Math.max(1, size));

/** Positions inside `intervals` (half-open [start, end)) with probability `bias`, else anywhere. */
export function biasedPosition(intervals: readonly [number, number][], bias = 0.8): PositionPicker {
  const total = intervals.reduce((n, [s, e]) => n + (e - s), 0);
  return (rng, size) => {
    if (total === 0 || rng.float() >= bias) return rng.int(Math.max(1, size));
    let k = rng.int(total);
    for (const [s, e] of intervals) {
      if (k < e - s) return Math.min(s + k, size - 1);
      k -= e - s;
    }
    return rng.int(Math.max(1, size));
  };
}

const HUGE_VARINTS: (number | bigint)[] = [
  2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 32 - 1, 2 ** 40, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 1, 2n ** 63n - 1n, -1, -(2 ** 31), 2n ** 64n - 1n, 1e9, 1e12,
];

function splice(bytes: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  return concat(bytes.subarray(0, at), insert, bytes.subarray(Math.min(bytes.length, at + remove)));
}

type Mutator = (rng: Rng, bytes: Uint8Array, pos: PositionPicker, other: Uint8Array) => Mutation;

const mutators: Record<string, Mutator> = {
  flip(rng, bytes, pos) {
    const out = bytes.slice();
    const n = rng.range(1, 8);
    const at: number[] = [];
    for (let i = 0; i < n; i++) {
      const p = pos(rng, out.length);
      at.push(p);
      out[p] = rng.float() < 0.5 ? out[p] ^ (1 << rng.int(8)) : rng.int(256);
    }
    return { bytes: out, description: `flip ${n} bytes at ${at.join(',')}` };
  },
  hugeVarint(rng, bytes, pos) {
    const p = pos(rng, bytes.length);
    let len = 1;
    while (len < 10 && p + len - 1 < bytes.length && bytes[p + len - 1] >= 0x80) len++;
    const v = rng.pick(HUGE_VARINTS);
    return { bytes: splice(bytes, p, len, varint(v)), description: `varint at ${p} (${len} bytes) := ${v}` };
  },
  truncate(rng, bytes, pos) {
    const n = rng.float() < 0.5 ? pos(rng, bytes.length) : rng.int(bytes.length);
    return { bytes: bytes.slice(0, n), description: `truncate to ${n}` };
  },
  duplicate(rng, bytes, pos) {
    const from = pos(rng, bytes.length);
    const len = Math.min(bytes.length - from, rng.range(1, 256));
    const to = pos(rng, bytes.length);
    return { bytes: splice(bytes, to, 0, bytes.slice(from, from + len)), description: `duplicate ${from}+${len} at ${to}` };
  },
  splice(rng, bytes, pos, other) {
    const a = pos(rng, bytes.length);
    const b = rng.int(other.length);
    return { bytes: concat(bytes.subarray(0, a), other.subarray(b)), description: `splice this[0,${a}) + other[${b},end)` };
  },
  ffRun(rng, bytes, pos) {
    const p = pos(rng, bytes.length);
    const n = rng.range(1, 64);
    const overwrite = rng.float() < 0.5;
    const run = new Uint8Array(n).fill(0xff);
    return { bytes: splice(bytes, p, overwrite ? n : 0, run), description: `${overwrite ? 'overwrite' : 'insert'} ${n}×0xff at ${p}` };
  },
  remove(rng, bytes, pos) {
    const p = pos(rng, bytes.length);
    const n = rng.range(1, 32);
    return { bytes: splice(bytes, p, n, new Uint8Array(0)), description: `delete ${n} bytes at ${p}` };
  },
  zeroRun(rng, bytes, pos) {
    const p = pos(rng, bytes.length);
    const n = rng.range(1, 16);
    return { bytes: splice(bytes, p, n, new Uint8Array(n)), description: `zero ${n} bytes at ${p}` };
  },
};

export const mutationNames = Object.keys(mutators);

/** One to three mutations of `bytes`, all drawn from `rng`. `other` is the model to splice with. */
export function mutate(rng: Rng, bytes: Uint8Array, pos: PositionPicker, other: Uint8Array): Mutation {
  const rounds = rng.float() < 0.7 ? 1 : rng.range(2, 3);
  let current = bytes;
  const done: string[] = [];
  for (let i = 0; i < rounds; i++) {
    const name = rng.pick(mutationNames);
    // Positions refer to the original layout; after a length-changing step they are still valid
    // offsets into the (similar) mutated bytes, which is all a fuzzer needs.
    const m = mutators[name](rng, current.length ? current : bytes, pos, other);
    current = m.bytes;
    done.push(`${name}: ${m.description}`);
  }
  return { bytes: current, description: done.join('; ') };
}

// ---------------------------------------------------------------------------------------------
// Structure-aware mutations: the model is parsed as a generic protobuf tree (a length-delimited
// field is taken as a sub-message when its bytes parse cleanly as one), a few fields are edited,
// and the tree is written back with every enclosing length fixed up. The result is well-formed
// protobuf with hostile content, which gets past the wire decoder into layers, shapes and text.

export interface PField {
  readonly field: number;
  readonly wire: number;
  /** Varint value (wire 0). */
  readonly int?: bigint;
  /** Raw value: 4 or 8 bytes (wire 5, 1) or the payload of a length-delimited field. */
  readonly bytes?: Uint8Array;
  /** The payload parsed as a message (wire 2 only). */
  readonly msg?: readonly PField[];
}

const MAX_TREE_DEPTH = 100;

/** Parses protobuf fields; undefined unless all bytes form a clean message. */
export function parseFields(bytes: Uint8Array, depth = 0): PField[] | undefined {
  const out: PField[] = [];
  let pos = 0;
  const readVarint = (): bigint | undefined => {
    let v = 0n;
    for (let n = 0; n < 10; n++) {
      if (pos >= bytes.length) return undefined;
      const b = bytes[pos++];
      v |= BigInt(b & 0x7f) << BigInt(7 * n);
      if (b < 0x80) return v;
    }
    return undefined;
  };
  while (pos < bytes.length) {
    const key = readVarint();
    if (key === undefined) return undefined;
    const field = Number(key >> 3n), wire = Number(key & 7n);
    if (field === 0 || field > 536870911) return undefined;
    switch (wire) {
      case 0: {
        const int = readVarint();
        if (int === undefined) return undefined;
        out.push({ field, wire, int });
        break;
      }
      case 1: case 5: {
        const n = wire === 1 ? 8 : 4;
        if (pos + n > bytes.length) return undefined;
        out.push({ field, wire, bytes: bytes.subarray(pos, pos + n) });
        pos += n;
        break;
      }
      case 2: {
        const len = readVarint();
        if (len === undefined || len > BigInt(bytes.length - pos)) return undefined;
        const payload = bytes.subarray(pos, pos + Number(len));
        pos += Number(len);
        const msg = depth < MAX_TREE_DEPTH && payload.length > 0 ? parseFields(payload, depth + 1) : undefined;
        out.push(msg ? { field, wire, bytes: payload, msg } : { field, wire, bytes: payload });
        break;
      }
      default:
        return undefined;
    }
  }
  return out;
}

/** Writes fields back, recomputing the length of every (edited) sub-message. */
export function writeFields(fields: readonly PField[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const emit = (fs: readonly PField[]) => {
    for (const f of fs) {
      parts.push(tag(f.field, f.wire));
      if (f.wire === 0) parts.push(varint(f.int ?? 0n));
      else if (f.wire === 2) {
        const body = f.msg ? writeFields(f.msg) : (f.bytes ?? new Uint8Array(0));
        parts.push(varint(body.length), body);
      } else parts.push(f.bytes ?? new Uint8Array(f.wire === 1 ? 8 : 4));
    }
  };
  emit(fields);
  return concatAll(parts);
}

/** A field's place in the tree: indexes into the successive `msg` arrays. */
export type FieldPath = readonly number[];

/** Every field of the tree with its path, depth-first. */
export function fieldPaths(fields: readonly PField[], prefix: number[] = [], out: { path: FieldPath; f: PField }[] = []) {
  fields.forEach((f, i) => {
    const p = [...prefix, i];
    out.push({ path: p, f });
    if (f.msg) fieldPaths(f.msg, p, out);
  });
  return out;
}

function fieldAt(fields: readonly PField[], path: FieldPath): PField | undefined {
  let cur: readonly PField[] | undefined = fields;
  let f: PField | undefined;
  for (const i of path) {
    f = cur?.[i];
    if (!f) return undefined;
    cur = f.msg;
  }
  return f;
}

/** A copy of the tree with the field at `path` replaced by `replacement` (none = deleted, several = inserted). */
function replaceAt(fields: readonly PField[], path: FieldPath, replacement: PField[]): readonly PField[] | undefined {
  const [i, ...rest] = path;
  if (i === undefined || i >= fields.length) return undefined;
  if (rest.length === 0) return [...fields.slice(0, i), ...replacement, ...fields.slice(i + 1)];
  const f = fields[i];
  if (!f.msg) return undefined;
  const inner = replaceAt(f.msg, rest, replacement);
  return inner && [...fields.slice(0, i), { field: f.field, wire: f.wire, msg: inner }, ...fields.slice(i + 1)];
}

/** How a path reads in a failure report: field numbers from the top, e.g. "7.1[3].5[0].3". */
function pathText(fields: readonly PField[], path: FieldPath): string {
  const parts: string[] = [];
  let cur: readonly PField[] | undefined = fields;
  for (const i of path) {
    const f: PField | undefined = cur?.[i];
    if (!f) break;
    parts.push(`${f.field}@${i}`);
    cur = f.msg;
  }
  return parts.join('.');
}

const INTERESTING_INTS: bigint[] = [
  0n, 1n, 2n, 3n, 7n, 8n, 16n, 255n, 2n ** 31n - 1n, 2n ** 31n, 2n ** 32n, 2n ** 32n - 1n, 2n ** 53n - 1n, 2n ** 53n + 1n,
  2n ** 63n - 1n, 2n ** 64n - 1n /* -1 */, 2n ** 64n - 2n /* -2 */, 2n ** 64n - 2n ** 31n, 2n ** 40n, 1000000n, 65536n,
];
const INTERESTING_FLOAT_BITS = [0x7fc00000, 0xffc00000, 0x7f800000, 0xff800000, 0x00000000, 0x80000000, 0x7f7fffff, 0x00000001, 0x4f000000];
const OP_TYPES = ['Conv', 'ConvTranspose', 'Gemm', 'MatMul', 'LSTM', 'GRU', 'RNN', 'If', 'Loop', 'Scan', 'Constant', 'Identity', 'Reshape',
  'Shape', 'Gather', 'Concat', 'Slice', 'Unsqueeze', 'Squeeze', 'Pad', 'Resize', 'Split', 'Transpose', 'Flatten', 'Expand', 'Tile',
  'ReduceMean', 'MaxPool', 'ConstantOfShape', 'DepthToSpace', 'Add', 'Mul', 'Div', ''];

/** Strings of the model (names, op types), used to alias values in edits. */
function stringsOf(paths: { f: PField }[]): string[] {
  const out = new Set<string>(OP_TYPES);
  const dec = new TextDecoder('utf-8', { fatal: true });
  for (const { f } of paths) {
    if (f.wire !== 2 || f.msg || !f.bytes || f.bytes.length === 0 || f.bytes.length > 64) continue;
    try {
      out.add(dec.decode(f.bytes));
    } catch {
      // not text
    }
  }
  return [...out];
}

/** A parsed model ready for structure-aware mutation (parse once, mutate many times). */
export class ProtoTree {
  readonly paths: { path: FieldPath; f: PField }[];
  readonly strings: string[];
  private constructor(readonly fields: readonly PField[]) {
    this.paths = fieldPaths(fields);
    this.strings = stringsOf(this.paths);
  }

  static parse(bytes: Uint8Array): ProtoTree | undefined {
    const fields = parseFields(bytes);
    return fields && new ProtoTree(fields);
  }

  /** One to four edits of the tree, drawn from `rng`; `donor` supplies grafted fields. */
  mutate(rng: Rng, donor: ProtoTree): Mutation {
    let fields: readonly PField[] = this.fields;
    const done: string[] = [];
    const edits = rng.range(1, 4);
    for (let e = 0; e < edits; e++) {
      const { path } = rng.pick(this.paths);
      const f = fieldAt(fields, path);
      if (!f) continue; // an earlier edit removed it
      const where = pathText(fields, path);
      let replacement: PField[];
      let what: string;
      const r = rng.float();
      if (r < 0.12) {
        replacement = [];
        what = 'delete';
      } else if (r < 0.22) {
        replacement = Array.from({ length: rng.pick([2, 2, 3, 50]) }, () => f);
        what = `repeat ×${replacement.length}`;
      } else if (r < 0.32) {
        const g = rng.pick(donor.paths).f;
        replacement = [{ ...g, field: rng.float() < 0.5 ? f.field : g.field }];
        what = `graft field ${g.field} (wire ${g.wire}) from the donor model as field ${replacement[0].field}`;
      } else if (r < 0.38) {
        const wire = rng.pick([0, 1, 2, 5]);
        replacement = [wire === 0 ? { field: f.field, wire, int: rng.pick(INTERESTING_INTS) }
          : wire === 2 ? { field: f.field, wire, bytes: rng.bytes(rng.range(0, 12)) }
            : { field: f.field, wire, bytes: rng.bytes(wire === 1 ? 8 : 4) }];
        what = `change wire type to ${wire}`;
      } else if (f.wire === 0) {
        const int = rng.float() < 0.8 ? rng.pick(INTERESTING_INTS) : BigInt.asUintN(64, (f.int ?? 0n) + BigInt(rng.range(-2, 2)));
        replacement = [{ field: f.field, wire: 0, int }];
        what = `:= ${BigInt.asIntN(64, int)}`;
      } else if (f.wire === 5) {
        const bits = rng.pick(INTERESTING_FLOAT_BITS);
        const b = new Uint8Array(4);
        new DataView(b.buffer).setUint32(0, bits, true);
        replacement = [{ field: f.field, wire: 5, bytes: b }];
        what = `:= float bits 0x${bits.toString(16)}`;
      } else if (f.wire === 2 && f.msg) {
        // Reorder: move the message's last field first (order must not matter to the decoder).
        const m = [...f.msg];
        if (m.length > 1) m.unshift(m.pop()!);
        replacement = [{ field: f.field, wire: 2, msg: m }];
        what = 'rotate fields';
      } else if (f.wire === 2) {
        const choice = rng.float();
        let bytes: Uint8Array;
        if (choice < 0.6) {
          const s = rng.pick(this.strings);
          bytes = new TextEncoder().encode(s);
          what = `:= ${JSON.stringify(s)}`;
        } else if (choice < 0.8 && f.bytes && f.bytes.length > 0) {
          const cut = rng.int(f.bytes.length);
          bytes = f.bytes.subarray(0, cut);
          what = `cut payload to ${cut} of ${f.bytes.length} bytes`;
        } else {
          bytes = rng.bytes(rng.range(0, 16));
          what = `:= ${bytes.length} random bytes`;
        }
        replacement = [{ field: f.field, wire: 2, bytes }];
      } else {
        replacement = [{ field: f.field, wire: f.wire, bytes: rng.bytes(8) }];
        what = ':= 8 random bytes';
      }
      const next = replaceAt(fields, path, replacement);
      if (!next) continue;
      fields = next;
      done.push(`${where} ${what}`);
    }
    return { bytes: writeFields(fields), description: `tree edits: ${done.join('; ') || '(none)'}` };
  }
}
