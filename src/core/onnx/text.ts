// The model in ONNX's textual syntax, as onnx.printer.to_text (onnx 1.23.1) writes it and
// onnx.parser.parse_model reads it, plus a map from each node to its line for editor annotations.
//
// Layout follows the C++ printer (onnx/defs/printer.cc) character for character: a `<...>` model
// header, `name (inputs) => (outputs)`, initializers and value_info in one `<...>` line, one node per
// line, subgraph attributes printed inline after the node's inputs with their nodes indented three
// more columns, then model-local functions. Numbers use std::to_chars' rules (shortest form that
// reads back exactly, fixed or scientific, whichever is shorter).
//
// Where this printer departs from the C++ one:
// - Model-supplied strings never put a line break or another control character into the text:
//   those are written as escapes (\n, \r, \xHH, \uHHHH; tab stays as it is). The ONNX parser knows
//   no escapes but \\ and \" (it reads "\n" as "n"), so such a string does not read back exactly;
//   all others do. Op types, domains and attribute names that are not identifiers are quoted (the
//   C++ printer writes them raw, which can break the text).
// - With `full`, values come from the TensorReader whatever the storage: raw_data of every type
//   (the C++ printer writes "..." for 4-bit, 2-bit and complex raw data), external data included.
//   Inside attributes, where the parser reads no quoted name, a tensor's own name that is not an
//   identifier is left out and a subgraph's name is made an identifier ("then branch/0" becomes
//   then_branch_0, "" becomes _): the C++ printer's text for such models does not parse at all.
// - Without `full`, initializers show type, shape and name only (`float[64,3,7,7] conv1.weight`);
//   attribute tensors show their values when a TensorReader is given and they are small.
// - Function attribute defaults (`<a, b: int = 3>`) and function value_info are printed, so they
//   read back; the C++ printer drops both. Sparse tensors, which have no syntax, print as "...".
// - Empty-but-set proto fields (a node name "", producer_name "") look unset after decoding and
//   are left out, as unset fields are.

import { ModelError } from '../errors';
import { DataType, dataTypeInfo } from './dtypes';
import {
  AttrType, type Attribute, type Dim, type FunctionDef, type Graph, type Int64, type Model, type Node,
  type Tensor, type TypeInfo, type ValueInfo,
} from './model';
import type { GraphStep } from './graph-view';
import { elementCount, type TensorReader } from './tensor-data';

export interface PrintOptions {
  /** Print every tensor value so the text parses back into the same model (needs `tensors`). */
  readonly full?: boolean;
  /** Reads tensor values; required with `full`, optional otherwise (small attribute tensors). */
  readonly tensors?: TensorReader;
}

/** Where one node is printed. */
export interface LineMapEntry {
  /** 0-based line of the node (its first line, when subgraph attributes follow on later lines). */
  readonly line: number;
  /**
   * The nested graph holding the node, as walkGraphs (graph-view.ts) spells it: per level the node
   * index in the outer graph, the attribute name, the graph's position in it (0 for GRAPH, the list
   * position for GRAPHS). [] for the main graph and for function bodies.
   */
  readonly graphPath: readonly GraphStep[];
  /** Index of the node in its graph's node list. */
  readonly nodeIndex: number;
  readonly nodeName: string;
  readonly outputs: readonly string[];
  /** Set for nodes of model-local function `model.functions[functionIndex]`. */
  readonly functionIndex?: number;
}

export interface PrintedModel {
  readonly text: string;
  /** One entry per node, in line order. */
  readonly lines: LineMapEntry[];
}

/** Attribute tensors with at most this many elements show their values without `full`. */
export const INLINE_TENSOR_LIMIT = 64;

export function printModel(model: Model, options: PrintOptions = {}): PrintedModel {
  if (options.full && !options.tensors) throw new Error('printModel: `full` needs a TensorReader to read tensor values');
  const p = new Printer(model.path, options.full === true, options.tensors);
  p.model(model);
  return { text: p.text(), lines: p.entries };
}

const lineIndexes = new WeakMap<readonly LineMapEntry[], Map<string, number>>();

function entryKey(graphPath: readonly GraphStep[], nodeIndex: number, functionIndex: number | undefined): string {
  let key = functionIndex === undefined ? '' : String(functionIndex);
  for (const s of graphPath) key += `\u0000${s.node}\u0001${s.attribute}\u0001${s.index}`;
  return `${key}\u0000${nodeIndex}`;
}

/**
 * The 0-based line of a node (graphPath and nodeIndex as in LineMapEntry; functionIndex for the
 * nodes of a model-local function), or -1 when no such node was printed. O(1) after the first call
 * on a given `lines` array.
 */
export function lineOfNode(lines: readonly LineMapEntry[], graphPath: readonly GraphStep[], nodeIndex: number,
  functionIndex?: number): number {
  let index = lineIndexes.get(lines);
  if (!index) {
    index = new Map();
    for (const e of lines) {
      const key = entryKey(e.graphPath, e.nodeIndex, e.functionIndex);
      if (!index.has(key)) index.set(key, e.line); // the first, should a hostile node repeat an attribute name
    }
    lineIndexes.set(lines, index);
  }
  return index.get(entryKey(graphPath, nodeIndex, functionIndex)) ?? -1;
}

// ---------------------------------------------------------------- tokens

const identifier = /^[A-Za-z_][A-Za-z0-9_]*$/;
const dottedIdentifier = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/;
// Escaped beyond the parser's \\ and \": line breaks and other controls (C0, DEL, C1), the Unicode
// line/paragraph separators and bidi overrides, so no model string can start a line or hide text.
// Tab is left alone: it breaks nothing and reads back exactly.
const needsEscape = /[\\"\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const escapeChars = /[\\"\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escapeChar(ch: string): string {
  switch (ch) {
    case '\\': return '\\\\';
    case '"': return '\\"';
    case '\n': return '\\n';
    case '\r': return '\\r';
  }
  const code = ch.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** A string literal as the ONNX parser reads it (see the file comment for control characters). */
export function quoteString(s: string): string {
  return needsEscape.test(s) ? `"${s.replace(escapeChars, escapeChar)}"` : `"${s}"`;
}

/** A name: bare when it is an identifier, quoted otherwise (printer.cc printId). */
export function printId(s: string): string {
  return identifier.test(s) ? s : quoteString(s);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A bytes value (attribute or tensor string) as a literal; bytes that are not UTF-8 become \xHH. */
function quoteBytes(b: Uint8Array): string {
  let s: string;
  try {
    s = utf8.decode(b);
  } catch {
    s = '"';
    for (const byte of b) {
      if (byte === 0x5c) s += '\\\\';
      else if (byte === 0x22) s += '\\"';
      else if (byte >= 0x20 && byte < 0x7f) s += String.fromCharCode(byte);
      else s += `\\x${byte.toString(16).padStart(2, '0')}`;
    }
    return `${s}"`;
  }
  return quoteString(s);
}

// Words a graph name cannot be where an attribute value starts, as the parser reads a type there
// (float, seq, …) or a float (inf, nan, and words starting so: "nan_x"); nor can it be quoted.
const floatWords = /^(?:inf|infinity|nan)(?![A-Za-z0-9])/i;
const typeWords = /^(?:seq|map|optional|sparse_tensor|float|u?int(?:2|4|8|16|32|64)|string|bool|float16|double|complex(?:64|128)|bfloat16|float8e4m3fn(?:uz)?|float8e5m2(?:fnuz)?|float8e8m0|float4e2m1|float6e2m3|float6e3m2)$/;
const readsAsValue = (s: string) => floatWords.test(s) || typeWords.test(s);

/** A subgraph's name as the parser can read it in an attribute (for `full`): an identifier. */
function attributeGraphName(name: string): string {
  if (identifier.test(name) && !readsAsValue(name)) return name;
  const s = name.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[A-Za-z_]/.test(s) && !readsAsValue(s) ? s : `_${s}`;
}

/** A name with no type before it: quoted also when the parser would take it for a type. */
function untypedName(name: string): string {
  return typeWords.test(name) ? quoteString(name) : printId(name);
}

/** Op types, domains, attribute names: raw in printer.cc; quoted here when they are not identifiers. */
function bareOrQuoted(s: string, pattern: RegExp): string {
  return pattern.test(s) ? s : quoteString(s);
}

// Type names by data type: the dtype table, plus types onnx 1.23.1 knows that the table lacks.

function typeName(dataType: number): string {
  return dataTypeInfo(dataType)?.textName ?? 'undefined';
}

const attrTypeNames: Record<number, string> = {
  [AttrType.FLOAT]: 'float', [AttrType.INT]: 'int', [AttrType.STRING]: 'string', [AttrType.TENSOR]: 'tensor',
  [AttrType.GRAPH]: 'graph', [AttrType.SPARSE_TENSOR]: 'sparse_tensor', [AttrType.TYPE_PROTO]: 'type_proto',
  [AttrType.FLOATS]: 'floats', [AttrType.INTS]: 'ints', [AttrType.STRINGS]: 'strings', [AttrType.TENSORS]: 'tensors',
  [AttrType.GRAPHS]: 'graphs', [AttrType.SPARSE_TENSORS]: 'sparse_tensors', [AttrType.TYPE_PROTOS]: 'type_protos',
};

// ---------------------------------------------------------------- numbers

// A decimal is [digits, exp]: value = d0.d1d2… × 10^exp, no trailing zeros (digits "0" only for 0).

function stripZeros(digits: string): string {
  let end = digits.length;
  while (end > 1 && digits.charCodeAt(end - 1) === 48) end--;
  return end === digits.length ? digits : digits.slice(0, end);
}

/**
 * Shortest decimal of a finite, positive double that reads back to it, the closest such, ties to
 * even: what Number.prototype.toString computes (ECMA-262 Number::toString), re-read from its text.
 */
function decimal64(v: number): [string, number] {
  const s = String(v);
  const e = s.indexOf('e');
  const mantissa = e < 0 ? s : s.slice(0, e);
  let exp = e < 0 ? 0 : Number(s.slice(e + 1));
  const dot = mantissa.indexOf('.');
  const intPart = dot < 0 ? mantissa : mantissa.slice(0, dot);
  const all = intPart + (dot < 0 ? '' : mantissa.slice(dot + 1));
  let lead = 0;
  while (lead < all.length - 1 && all.charCodeAt(lead) === 48) lead++;
  exp += intPart.length - 1 - lead;
  return [stripZeros(all.slice(lead)), exp];
}

/** The exact decimal value of a finite, positive double (every binary fraction has one). */
function exactDecimal(v: number): [string, number] {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, v);
  const hi = dv.getUint32(0), lo = dv.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (biased) mant |= 1n << 52n;
  const e2 = (biased || 1) - 1075; // v = mant · 2^e2
  if (e2 >= 0) {
    const digits = (mant << BigInt(e2)).toString();
    return [stripZeros(digits), digits.length - 1];
  }
  const digits = (mant * 5n ** BigInt(-e2)).toString(); // v = mant·5^-e2 / 10^-e2
  return [stripZeros(digits), digits.length - 1 + e2];
}

/** The decimal rounded to p significant digits, halves to even, or (up) rounded away from zero. */
function roundDecimal([digits, exp]: [string, number], p: number, up: boolean): [string, number] {
  if (digits.length <= p) return [digits, exp];
  let head = BigInt(digits.slice(0, p));
  const rest = digits.slice(p);
  let bump: boolean;
  if (up) bump = true; // rest is non-zero: digits has no trailing zeros
  else if (rest.charCodeAt(0) > 53) bump = true;
  else if (rest.charCodeAt(0) < 53) bump = false;
  else bump = rest.length > 1 || (head & 1n) === 1n; // exactly half: to even
  if (bump) head += 1n;
  let text = head.toString();
  if (text.length > p) { text = text.slice(0, p); exp++; }
  return [stripZeros(text), exp];
}

function readsBack32([digits, exp]: [string, number], v: number): boolean {
  return Math.fround(Number(`${digits[0]}.${digits.slice(1)}e${exp}`)) === v;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

// Powers of ten that doubles hold exactly.
const exactPow10: number[] = [];
for (let i = 0, p = 1; i <= 22; i++, p *= 10) exactPow10.push(p);

/**
 * decimal32's fast path, in double arithmetic. The float32 `v` (finite, positive, not a power of
 * two) reads back from any decimal within half a float32 ulp of it; for each digit count p the
 * nearest p-digit decimal is round(v·10^(p-1-E)). Computed in a 53-bit double with one rounding,
 * that decides right unless the value sits within a hair (1e-14 relative) of a tie or of the
 * interval's edge: there it gives up (undefined) and the exact search decides.
 */
function fastDecimal32(v: number, mantissaBits: number, exponentBits: number): [string, number] | undefined {
  let e10 = Math.floor(Math.log10(v));
  if (e10 < -14 || e10 > 22) return undefined;
  if (e10 >= 0 ? exactPow10[e10] > v : v * exactPow10[-e10] < 1) e10--;
  else if (e10 + 1 >= 0 ? exactPow10[e10 + 1] <= v : v * exactPow10[-e10 - 1] >= 1) e10++;
  const half = 2 ** ((exponentBits === 0 ? 1 : exponentBits) - 151); // half an ulp
  const inclusive = (mantissaBits & 1) === 0; // a decimal right between two floats reads as the even one
  let lo = 1, hi = 9, found = -1, foundK = 0;
  while (lo <= hi) {
    const p = (lo + hi) >> 1;
    const k = e10 - p + 1; // the candidate is n·10^k
    if (k < -22 || k > 22) return undefined;
    const scaled = k <= 0 ? v * exactPow10[-k] : v / exactPow10[k];
    const width = k <= 0 ? half * exactPow10[-k] : half / exactPow10[k];
    const n = Math.round(scaled);
    // scaled and width carry one rounding each (relative 2^-53), dist none more (Sterbenz).
    const slack = (scaled + width) * 1e-14;
    if (Math.abs(Math.abs(scaled - Math.trunc(scaled)) - 0.5) <= slack) return undefined; // a near tie
    const dist = Math.abs(scaled - n);
    if (Math.abs(dist - width) <= slack) return undefined; // on the edge
    if (dist < width || (inclusive && dist === width)) {
      found = n;
      foundK = k;
      hi = p - 1;
    } else {
      lo = p + 1;
    }
  }
  if (found < 0) return undefined;
  const text = String(found);
  return [stripZeros(text), foundK + text.length - 1];
}

/**
 * Shortest decimal that reads back (as float32) to the float32 `v` (finite, positive); of those the
 * closest, halves to even — std::to_chars's choice.
 */
function decimal32(v: number): [string, number] {
  if (v < 16777216 && Number.isInteger(v)) {
    // Below 2^24 half an ulp is at most 0.5, and any decimal with fewer digits is 1 or more away.
    const text = String(v);
    return [stripZeros(text), text.length - 1];
  }
  f32[0] = v;
  const bits = u32[0];
  const powerOfTwo = (bits & 0x7fffff) === 0 && bits >>> 23 > 1;
  if (!powerOfTwo) return fastDecimal32(v, bits & 0x7fffff, bits >>> 23) ?? exactDecimal32(v, false);
  let known = powersOfTwo.get(bits);
  if (!known) powersOfTwo.set(bits, (known = exactDecimal32(v, true)));
  return known;
}

/** The (at most 254) powers of two met so far, which take the slow path. */
const powersOfTwo = new Map<number, [string, number]>();

/**
 * decimal32 by exact search. For a power of two the interval below is half as wide as the one
 * above, so the nearest p-digit decimal may fall outside below while the next one up reads back.
 */
function exactDecimal32(v: number, powerOfTwo: boolean): [string, number] {
  const exact = exactDecimal(v);
  for (let p = 1; p <= 9; p++) {
    const near = roundDecimal(exact, p, false);
    if (readsBack32(near, v)) return near;
    if (powerOfTwo) {
      const up = roundDecimal(exact, p, true);
      if (readsBack32(up, v)) return up;
    }
  }
  return roundDecimal(exact, 9, false);
}

/** std::to_chars(value) for a float or double: "nan", "-inf", "1e-05", "0.1", "123456792", "1.5e+20". */
function formatDecimal(v: number, single: boolean, negativeNaN = false): string {
  if (v !== v) return negativeNaN ? '-nan' : 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const sign = v < 0 ? '-' : '';
  const a = Math.abs(v);
  const [digits, exp] = single ? decimal32(a) : decimal64(a);
  const absExp = Math.abs(exp);
  const sci = `${digits[0]}${digits.length > 1 ? '.' + digits.slice(1) : ''}e${exp < 0 ? '-' : '+'}${absExp < 10 ? '0' : ''}${absExp}`;
  // Fixed notation has at least exp digits (an integer) or 1 - exp characters (below 1): skip
  // building it when it cannot be the shorter.
  let fixed: string;
  if (exp >= digits.length - 1) {
    if (exp > sci.length) return sign + sci;
    fixed = BigInt(a).toString(); // an integer: to_chars prints it exactly
  } else if (exp >= 0) {
    fixed = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  } else {
    if (1 - exp > sci.length) return sign + sci;
    fixed = `0.${'0'.repeat(-exp - 1)}${digits}`;
  }
  return sign + (sci.length < fixed.length ? sci : fixed);
}

/** A float32 as printer.cc writes it (shortest form that reads back to the same float32). */
export function formatFloat32(v: number, negativeNaN = false): string {
  return formatDecimal(Math.fround(v), true, negativeNaN);
}

/** A double as printer.cc writes it. */
export function formatFloat64(v: number, negativeNaN = false): string {
  return formatDecimal(v, false, negativeNaN);
}

function formatInt(v: Int64 | undefined): string {
  return v === undefined ? '0' : v.toString();
}

// ---------------------------------------------------------------- the printer

function indentOf(n: number): string {
  return ' '.repeat(n);
}

function hasSubgraph(node: Node): boolean {
  for (const a of node.attributes) if (a.g || (a.graphs && a.graphs.length > 0)) return true;
  return false;
}

class Printer {
  private readonly out: string[] = [];
  private cur = '';
  readonly entries: LineMapEntry[] = [];
  private functionIndex: number | undefined;
  /** Characters left for tensor values: V8's longest string (2^29 - 24) less room for the rest. */
  private budget = 2 ** 29 - 2 ** 22;

  constructor(private readonly path: string, private readonly full: boolean, private readonly reader: TensorReader | undefined) {}

  text(): string {
    return this.out.length ? `${this.out.join('\n')}\n${this.cur}` : this.cur;
  }

  private newline(): void {
    this.out.push(this.cur);
    this.cur = '';
  }

  model(m: Model): void {
    const header = [
      `ir_version: ${m.irVersion}`,
      `opset_import: [${m.opsets.map((o) => `${quoteString(o.domain)} : ${o.version}`).join(', ')}]`,
    ];
    if (m.producerName) header.push(`producer_name: ${quoteString(m.producerName)}`);
    if (m.producerVersion) header.push(`producer_version: ${quoteString(m.producerVersion)}`);
    if (m.domain) header.push(`domain: ${quoteString(m.domain)}`);
    if (m.modelVersion) header.push(`model_version: ${m.modelVersion}`);
    if (m.docString) header.push(`doc_string: ${quoteString(m.docString)}`);
    if (m.metadata.length) header.push(`metadata_props: [${m.metadata.map((e) => `${quoteString(e.key)}: ${quoteString(e.value)}`).join(', ')}]`);
    this.cur = '<';
    this.newline();
    for (let i = 0; i < header.length; i++) {
      this.cur = `   ${header[i]}${i < header.length - 1 ? ',' : ''}`;
      this.newline();
    }
    this.cur = '>';
    this.newline();
    this.graph(m.graph, 3, []);
    m.functions.forEach((fn, i) => {
      this.newline();
      this.functionIndex = i;
      this.function(fn);
    });
    this.functionIndex = undefined;
  }

  private function(fn: FunctionDef): void {
    for (const line of ['<', `  domain: ${quoteString(fn.domain)},`]) { this.cur = line; this.newline(); }
    if (fn.overload) { this.cur = `  overload: ${quoteString(fn.overload)},`; this.newline(); }
    this.cur = `  opset_import: [${fn.opsets.map((o) => `${quoteString(o.domain)} : ${o.version}`).join(',')}]`;
    this.newline();
    this.cur = '>';
    this.newline();
    this.cur = `${printId(fn.name)} `;
    if (fn.attributeNames.length || fn.attributeDefaults.length) {
      this.cur += '<';
      let sep = '';
      for (const name of fn.attributeNames) { this.cur += sep + bareOrQuoted(name, identifier); sep = ','; }
      fn.attributeDefaults.forEach((a) => { this.cur += sep; this.attribute(a, 3, [], -1); sep = ','; });
      this.cur += '>';
    }
    this.cur += `(${fn.inputs.map(untypedName).join(', ')}) => (${fn.outputs.map(untypedName).join(', ')})`;
    if (fn.valueInfo.length) this.cur += ` <${fn.valueInfo.map((v) => this.valueInfo(v)).join(', ')}>`;
    this.newline();
    this.nodes(fn.nodes, 3, []);
  }

  private graph(g: Graph, indent: number, path: readonly GraphStep[]): void {
    const name = path.length && this.full ? attributeGraphName(g.name) : printId(g.name);
    this.cur += `${name} (${g.inputs.map((v) => this.valueInfo(v)).join(', ')}) => (${g.outputs.map((v) => this.valueInfo(v)).join(', ')}) `;
    if (g.initializers.length || g.valueInfo.length) {
      this.newline();
      const items: string[] = [];
      for (const t of g.initializers) items.push(this.full ? this.tensor(t, true) : `${this.tensorType(t)} ${printId(t.name)}`);
      for (const v of g.valueInfo) items.push(this.valueInfo(v));
      this.cur = `${indentOf(indent)}<${items.join(', ')}>`;
      this.newline();
    }
    this.nodes(g.nodes, indent, path);
  }

  /** `{`, one line per node, and the closing `}` left open on the current line. */
  private nodes(nodes: readonly Node[], indent: number, path: readonly GraphStep[]): void {
    this.cur += '{';
    this.newline();
    for (let i = 0; i < nodes.length; i++) this.node(nodes[i], indent, path, i);
    this.cur = `${indent > 3 ? indentOf(indent - 3) : ''}}`;
  }

  private node(n: Node, indent: number, path: readonly GraphStep[], index: number): void {
    const entry: { -readonly [K in keyof LineMapEntry]: LineMapEntry[K] } = {
      line: this.out.length, graphPath: path, nodeIndex: index, nodeName: n.name, outputs: n.outputs,
    };
    if (this.functionIndex !== undefined) entry.functionIndex = this.functionIndex;
    this.entries.push(entry);
    let s = indentOf(indent);
    if (n.name) s += `[${printId(n.name)}] `;
    s += `${n.outputs.map(printId).join(', ')} = `;
    if (n.domain) s += `${bareOrQuoted(n.domain, dottedIdentifier)}.`;
    s += bareOrQuoted(n.opType, identifier);
    if (n.overload) s += `:${bareOrQuoted(n.overload, identifier)}`;
    const inputs = ` (${n.inputs.map(printId).join(', ')})`;
    const attrs = n.attributes;
    if (!attrs.length) {
      this.cur = s + inputs;
    } else if (!hasSubgraph(n)) {
      this.cur = s;
      this.attributeList(attrs, indent, path, index);
      this.cur += inputs;
    } else {
      this.cur = s + inputs;
      this.attributeList(attrs, indent, path, index);
    }
    this.newline();
  }

  private attributeList(attrs: readonly Attribute[], indent: number, path: readonly GraphStep[], nodeIndex: number): void {
    this.cur += ' <';
    for (let i = 0; i < attrs.length; i++) {
      if (i) this.cur += ', ';
      this.attribute(attrs[i], indent, path, nodeIndex);
    }
    this.cur += '>';
  }

  private attribute(a: Attribute, indent: number, path: readonly GraphStep[], nodeIndex: number): void {
    const head = `${bareOrQuoted(a.name, identifier)}: ${attrTypeNames[a.type] ?? 'undefined'} = `;
    if (a.refAttrName !== undefined) {
      this.cur += `${head}@${printId(a.refAttrName)}`;
      return;
    }
    this.cur += head;
    switch (a.type) {
      case AttrType.INT: this.cur += formatInt(a.i); break;
      case AttrType.INTS: this.cur += `[${(a.ints ?? []).map(formatInt).join(', ')}]`; break;
      case AttrType.FLOAT: this.cur += formatFloat32(a.f ?? 0); break;
      case AttrType.FLOATS: this.cur += `[${(a.floats ?? []).map((f) => formatFloat32(f)).join(', ')}]`; break;
      case AttrType.STRING: this.cur += quoteBytes(a.s ?? new Uint8Array(0)); break;
      case AttrType.STRINGS: this.cur += `[${(a.strings ?? []).map(quoteBytes).join(', ')}]`; break;
      case AttrType.TENSOR: this.cur += a.t ? this.tensor(a.t, false) : '...'; break;
      case AttrType.TENSORS: this.cur += `[${(a.tensors ?? []).map((t) => this.tensor(t, false)).join(', ')}]`; break;
      case AttrType.TYPE_PROTO: this.cur += a.tp ? typeText(a.tp) : ''; break;
      case AttrType.TYPE_PROTOS: this.cur += `[${(a.typeProtos ?? []).map(typeText).join(', ')}]`; break;
      case AttrType.GRAPH:
        if (a.g) this.graph(a.g, indent + 3, [...path, { node: nodeIndex, attribute: a.name, index: 0 }]);
        else this.cur += '...';
        break;
      case AttrType.GRAPHS: {
        this.cur += '[';
        (a.graphs ?? []).forEach((g, k) => {
          if (k) this.cur += ', ';
          this.graph(g, indent + 3, [...path, { node: nodeIndex, attribute: a.name, index: k }]);
        });
        this.cur += ']';
        break;
      }
      default: this.cur += '...'; // sparse tensors have no textual syntax
    }
  }

  private valueInfo(v: ValueInfo): string {
    return v.type ? `${typeText(v.type)} ${printId(v.name)}` : ` ${untypedName(v.name)}`;
  }

  private tensorType(t: Tensor): string {
    return t.dims.length ? `${typeName(t.dataType)}[${t.dims.join(',')}]` : typeName(t.dataType);
  }

  /** A tensor as printer.cc writes it: `float[2] name = {1,2}` (initializer), `float[2] name {1,2}`. */
  private tensor(t: Tensor, initializer: boolean): string {
    let s = this.tensorType(t);
    // The parser reads no quoted name for a tensor inside an attribute: with `full`, such a name
    // (which means nothing to ONNX) is left out so the text still parses.
    if (t.name && (initializer || !this.full || identifier.test(t.name))) s += ` ${printId(t.name)}`;
    if (initializer) s += ' = ';
    if (this.full) return s + this.values(t);
    if (initializer || !this.reader || elementCount(t.dims) > INLINE_TENSOR_LIMIT) return `${s} ...`;
    try {
      return s + this.values(t);
    } catch {
      return `${s} ...`; // a damaged or unreachable value does not stop the view; `full` reports it
    }
  }

  private values(t: Tensor): string {
    const dt = t.dataType;
    const info = dataTypeInfo(dt);
    if (dt === DataType.STRING) {
      const values = t.storage.kind === 'strings' ? t.storage.values : [];
      return `{${values.map(quoteBytes).join(', ')}}`;
    }
    if (!info) return '...';
    if (t.storage.kind === 'empty') return ' {}';
    const reader = this.reader;
    if (!reader) return '...';
    const n = elementCount(t.dims);
    const need = Math.ceil((n * info.bits) / 8);
    // Damaged data is reported first; a tensor whose text cannot fit in a string (at least two
    // characters a value, "0,") is refused before its bytes are read when their size is known.
    const s = t.storage;
    if (s.kind === 'raw' || s.kind === 'external') {
      if (s.range.length < need) this.damaged(t, s.range.length, need);
      if (2 * n > this.budget) this.tooLarge(t);
    }
    const raw = reader.raw(t); // typed fields: checked against the shape before anything is allocated
    if (raw.length < need) this.damaged(t, raw.length, need);
    if (2 * n > this.budget) this.tooLarge(t);
    const [count, valueAt] = valueFormatter(dt, info.bits, raw, n);
    // Values are joined in chunks (memory stays near the text's size) and counted against the
    // longest string V8 makes, so a model too large fails early instead of exhausting memory.
    const chunks: string[] = [];
    let chunk: string[] = [];
    let length = 0;
    for (let i = 0; i < count; i++) {
      const v = valueAt(i);
      length += v.length + 1;
      chunk.push(v);
      if (chunk.length === 4096) {
        if (length > this.budget) this.tooLarge(t);
        chunks.push(chunk.join(','));
        chunk = [];
      }
    }
    if (length > this.budget) this.tooLarge(t);
    this.budget -= length;
    if (chunk.length) chunks.push(chunk.join(','));
    return ` {${chunks.join(',')}}`;
  }

  private damaged(t: Tensor, has: number, need: number): never {
    throw new ModelError(`tensor "${t.name}" has ${has} bytes of data, its shape [${t.dims.join(',')}] needs ${need}`,
      this.path, 'The model is damaged; re-export it.');
  }

  private tooLarge(t: Tensor): never {
    throw new ModelError(`too large to print with every value: the text would pass 512 M characters by tensor "${t.name}" `
      + `(${elementCount(t.dims)} values)`, this.path, 'Print it without values.');
  }
}

/**
 * How many values a tensor prints and the text of value i, from its bytes in raw_data layout, as
 * printer.cc writes them (FLOAT16, BFLOAT16 and FLOAT8 as bit patterns; sub-byte types as packed
 * bytes, which is how int32_data holds them too; complex as real, imaginary pairs).
 */
function valueFormatter(dt: number, bits: number, raw: Uint8Array, n: number): [number, (i: number) => string] {
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  switch (dt) {
    case DataType.FLOAT: return [n, (i) => float32At(dv, i * 4)];
    case 14: return [2 * n, (i) => float32At(dv, i * 4)];
    case DataType.DOUBLE: return [n, (i) => float64At(dv, i * 8)];
    case 15: return [2 * n, (i) => float64At(dv, i * 8)];
    case DataType.INT64: return [n, (i) => dv.getBigInt64(i * 8, true).toString()];
    case DataType.UINT64: return [n, (i) => dv.getBigUint64(i * 8, true).toString()];
    case DataType.INT32: return [n, (i) => String(dv.getInt32(i * 4, true))];
    case DataType.UINT32: return [n, (i) => String(dv.getUint32(i * 4, true))];
    case DataType.INT16: return [n, (i) => String(dv.getInt16(i * 2, true))];
    case DataType.UINT16: case DataType.FLOAT16: case DataType.BFLOAT16: return [n, (i) => String(dv.getUint16(i * 2, true))];
    case DataType.INT8: return [n, (i) => String(dv.getInt8(i))];
  }
  return [bits < 8 ? Math.ceil((n * bits) / 8) : n, (i) => String(raw[i])];
}

function float32At(dv: DataView, at: number): string {
  const v = dv.getFloat32(at, true);
  return formatDecimal(v, true, v !== v && (dv.getUint32(at, true) >>> 31) === 1);
}

function float64At(dv: DataView, at: number): string {
  const v = dv.getFloat64(at, true);
  return formatDecimal(v, false, v !== v && (dv.getUint32(at + 4, true) >>> 31) === 1);
}

function dimText(d: Dim): string {
  if (d === null) return '?';
  return typeof d === 'number' ? String(d) : printId(d);
}

function shapeText(shape: readonly Dim[] | undefined): string {
  if (!shape) return '[]';
  return shape.length ? `[${shape.map(dimText).join(',')}]` : '';
}

/** A type as printer.cc writes it: `float[N,3]`, `float` (scalar), `float[]` (unknown rank), `seq(...)`. */
export function typeText(t: TypeInfo): string {
  switch (t.kind) {
    case 'tensor': return typeName(t.elemType) + shapeText(t.shape);
    case 'sparse_tensor': return `sparse_tensor(${typeName(t.elemType)}${shapeText(t.shape)})`;
    case 'sequence': return `seq(${t.elem ? typeText(t.elem) : ''})`;
    case 'optional': return `optional(${t.elem ? typeText(t.elem) : ''})`;
    case 'map': return `map(${typeName(t.keyType)}, ${t.value ? typeText(t.value) : ''})`;
    case 'unknown': return '';
  }
}
