// Tensor shapes inside one graph: what the file declares (inputs, value_info, outputs,
// initializers, Constant nodes) plus our own inference for the ops that sit between a model's
// inputs and its prunable layers. Symbolic dims keep their names where an op passes them through;
// a dim we cannot know is null. Inference never throws: an op it cannot follow yields unknown.

import type { Dim, Graph, Int64, Node, Tensor } from './model';
import { attribute, intAttr, intsAttr, isDefaultDomain, stringAttr, type GraphScope } from './graph-view';
import { elementCount, type TensorReader } from './tensor-data';

const MAX_VALUES = 64;
/** Ranks beyond this are not tensors of any real model; a larger 'rank' comes from a hostile file. */
const MAX_RANK = 64;

export type Shape = readonly Dim[];

/** Shapes of every value of a graph, by name (outer scopes consulted for names defined there). */
export class ShapeTable {
  private readonly shapes = new Map<string, Shape>();
  /** Values of small 1-D integer tensors computed from shapes (Shape → Gather → Concat → Reshape). */
  private readonly values = new Map<string, Dim[]>();

  constructor(
    private readonly scope: GraphScope,
    private readonly tensors: TensorReader | undefined,
    private readonly parent?: ShapeTable,
  ) {
    const g = scope.graph;
    for (const t of g.initializers) this.shapes.set(t.name, t.dims);
    for (const v of [...g.inputs, ...g.valueInfo, ...g.outputs]) {
      const shape = v.type?.kind === 'tensor' ? v.type.shape : undefined;
      if (shape && !this.shapes.has(v.name)) this.shapes.set(v.name, shape);
    }
    inferGraph(g, this);
  }

  get(name: string): Shape | undefined {
    return this.shapes.get(name) ?? this.parent?.get(name);
  }

  /** The value of a small integer tensor as dims (symbolic entries kept), constant or propagated. */
  dims(name: string): Dim[] | undefined {
    if (!name) return undefined;
    const known = this.values.get(name) ?? this.parent?.values.get(name);
    if (known) return known;
    const t = this.scope.constant(name);
    if (!t || !this.tensors || t.dims.length > 1 || elementCount(t.dims) > MAX_VALUES) return undefined;
    try {
      return this.tensors.int64(t).map((v: Int64) => Number(v));
    } catch {
      return undefined;
    }
  }

  setValue(name: string, value: Dim[] | undefined): void {
    if (name && value && value.length <= MAX_VALUES) this.values.set(name, value);
  }

  has(name: string): boolean {
    return this.shapes.has(name);
  }

  set(name: string, shape: Shape | undefined): void {
    // A hostile axis can stretch an inferred shape to billions of entries: such a shape is unknown.
    if (name && shape && shape.length <= MAX_RANK && !this.shapes.has(name)) this.shapes.set(name, shape);
  }

  /** Integer values of an input (Reshape's shape, Slice's starts, …) when all of them are known. */
  ints(name: string): number[] | undefined {
    const d = this.dims(name);
    return d && d.every((v) => typeof v === 'number') ? (d as number[]) : undefined;
  }

  floats(name: string): number[] | undefined {
    if (!name || !this.tensors) return undefined;
    const t = this.scope.constant(name);
    if (!t) return undefined;
    try {
      return Array.from(this.tensors.float32(t));
    } catch {
      return undefined;
    }
  }

  constantTensor(name: string): Tensor | undefined {
    return this.scope.constant(name);
  }
}

function inferGraph(g: Graph, table: ShapeTable): void {
  for (const node of g.nodes) {
    if (node.outputs.every((o) => !o || table.has(o))) continue;
    if (!isDefaultDomain(node.domain)) continue;
    let outs: (Shape | undefined)[] = [];
    try {
      outs = inferNode(node, table);
    } catch {
      outs = [];
    }
    node.outputs.forEach((o, i) => table.set(o, outs[i]));
    try {
      if (node.opType === 'Split') splitValues(node, table).forEach((v, i) => table.setValue(node.outputs[i], v));
      else table.setValue(node.outputs[0], propagateValue(node, table));
    } catch {
      // an op whose value we cannot follow stays unknown
    }
  }
}

/** The value of a shape-computing node's output, from its inputs' known values. */
function propagateValue(node: Node, t: ShapeTable): Dim[] | undefined {
  const v = (i: number) => t.dims(node.inputs[i] ?? '');
  switch (node.opType) {
    case 'Shape': {
      const x = t.get(node.inputs[0]);
      if (!x) return undefined;
      const rank = x.length;
      const norm = (a: number) => Math.max(0, Math.min(rank, a < 0 ? a + rank : a));
      return x.slice(norm(intAttr(node, 'start', 0)), norm(intAttr(node, 'end', rank)));
    }
    case 'Identity': case 'Cast': case 'Squeeze': case 'Unsqueeze': case 'Reshape': case 'Flatten':
      return v(0);
    case 'Concat': {
      const parts = node.inputs.map((_, i) => v(i));
      return parts.every(Boolean) ? parts.flatMap((p) => p!) : undefined;
    }
    case 'Gather': {
      const data = v(0), idx = t.ints(node.inputs[1]);
      if (!data || !idx || intAttr(node, 'axis', 0) !== 0) return undefined;
      return idx.map((i) => data[i < 0 ? i + data.length : i] ?? null);
    }
    case 'Slice': {
      const data = v(0), starts = t.ints(node.inputs[1]), ends = t.ints(node.inputs[2]);
      const steps = t.ints(node.inputs[4] ?? '') ?? [1];
      if (!data || !starts || !ends || steps[0] !== 1) return undefined;
      const n = data.length;
      const clamp = (a: number) => Math.max(0, Math.min(n, a < 0 ? a + n : a));
      return data.slice(clamp(starts[0]), clamp(ends[0]));
    }
    case 'Add': case 'Sub': case 'Mul': case 'Div': {
      const a = v(0), b = v(1);
      if (!a || !b) return undefined;
      const len = Math.max(a.length, b.length);
      if (a.length !== len && a.length !== 1 || b.length !== len && b.length !== 1) return undefined;
      return Array.from({ length: len }, (_, i) => arith(node.opType, a[a.length === 1 ? 0 : i], b[b.length === 1 ? 0 : i]));
    }
    default:
      return undefined;
  }
}

/** Split of a 1-D value into the node's outputs (tf2onnx builds Pad's pads this way). */
function splitValues(node: Node, t: ShapeTable): (Dim[] | undefined)[] {
  const data = t.dims(node.inputs[0]);
  if (!data || intAttr(node, 'axis', 0) !== 0) return [];
  const n = node.outputs.length;
  const sizes = intsAttr(node, 'split') ?? t.ints(node.inputs[1] ?? '') ?? Array.from({ length: n }, (_, i) => Math.ceil(data.length / n) - (i === n - 1 ? Math.ceil(data.length / n) * n - data.length : 0));
  let at = 0;
  return sizes.map((size) => data.slice(at, (at += size)));
}

function arith(op: string, a: Dim, b: Dim): Dim {
  if (typeof a !== 'number' || typeof b !== 'number') return null;
  switch (op) {
    case 'Add': return a + b;
    case 'Sub': return a - b;
    case 'Mul': return a * b;
    default: return b === 0 ? null : Math.trunc(a / b);
  }
}

const unary = new Set([
  'Relu', 'LeakyRelu', 'PRelu', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh', 'Elu', 'Selu', 'Celu', 'Gelu', 'Mish',
  'Softplus', 'Softsign', 'Clip', 'Erf', 'Exp', 'Log', 'Sqrt', 'Neg', 'Abs', 'Reciprocal', 'Floor', 'Ceil', 'Round',
  'Sign', 'Sin', 'Cos', 'Not', 'Identity', 'Cast', 'CastLike', 'Softmax', 'LogSoftmax', 'Hardmax', 'Dropout',
  'BatchNormalization', 'InstanceNormalization', 'LayerNormalization', 'LRN', 'LpNormalization',
  'MeanVarianceNormalization', 'ThresholdedRelu', 'Shrink', 'QuantizeLinear', 'DequantizeLinear', 'IsNaN', 'IsInf',
]);
const broadcasting = new Set([
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Mod', 'Max', 'Min', 'Sum', 'Mean', 'Equal', 'Less', 'Greater', 'LessOrEqual',
  'GreaterOrEqual', 'And', 'Or', 'Xor', 'Where', 'BitShift', 'BitwiseAnd', 'BitwiseOr', 'BitwiseXor',
]);
const pooling = new Set(['MaxPool', 'AveragePool', 'LpPool']);
const globalPooling = new Set(['GlobalAveragePool', 'GlobalMaxPool', 'GlobalLpPool']);
const reductions = new Set(['ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2',
  'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare']);

function inferNode(node: Node, t: ShapeTable): (Shape | undefined)[] {
  const op = node.opType;
  const x = t.get(node.inputs[0] ?? '');
  if (unary.has(op)) return [x, op === 'Dropout' ? x : undefined];
  if (broadcasting.has(op)) return [broadcast(node.inputs.map((i) => t.get(i)))];
  if (op === 'Conv') return [conv(node, x, t.get(node.inputs[1]))];
  if (op === 'ConvTranspose') return [convTranspose(node, x, t.get(node.inputs[1]))];
  if (pooling.has(op)) return [pool(node, x), pool(node, x)];
  if (globalPooling.has(op)) return [x && [...x.slice(0, 2), ...x.slice(2).map(() => 1)]];
  if (op === 'Gemm') return [gemm(node, x, t.get(node.inputs[1]))];
  if (op === 'MatMul') return [matmul(x, t.get(node.inputs[1]))];
  if (op === 'Flatten') return [flatten(x, intAttr(node, 'axis', 1))];
  if (op === 'Reshape') return [reshape(x, t.dims(node.inputs[1]), intAttr(node, 'allowzero', 0)) ?? rankOnly(t.get(node.inputs[1]))];
  if (op === 'Transpose') return [x && (intsAttr(node, 'perm') ?? x.map((_, i) => x.length - 1 - i)).map((p) => x[p] ?? null)];
  if (op === 'Concat') return [concat(node.inputs.map((i) => t.get(i)), intAttr(node, 'axis', 0))];
  if (op === 'Shape') return [x && [shapeLength(node, x.length)]];
  if (op === 'Size') return [[]];
  if (op === 'Squeeze') return [squeeze(x, intsAttr(node, 'axes') ?? t.ints(node.inputs[1] ?? ''))];
  if (op === 'Unsqueeze') return [unsqueeze(x, intsAttr(node, 'axes') ?? t.ints(node.inputs[1] ?? ''))];
  // These keep the input's rank even when their parameters are computed at run time.
  if (op === 'Pad') return [pad(node, x, t) ?? unknownDims(x)];
  if (op === 'Slice') return [slice(node, x, t) ?? unknownDims(x)];
  if (op === 'Resize' || op === 'Upsample') return [resize(node, x, t) ?? unknownDims(x)];
  if (reductions.has(op)) return [reduce(node, x, t)];
  if (op === 'ArgMax' || op === 'ArgMin') return [reduce(node, x, t, true)];
  if (op === 'Split') return split(node, x, t);
  if (op === 'LSTM' || op === 'GRU' || op === 'RNN') return recurrent(node, x, t);
  if (op === 'Gather') return [gather(x, t.get(node.inputs[1]), intAttr(node, 'axis', 0))];
  if (op === 'Expand') return [expand(x, t.ints(node.inputs[1]))];
  if (op === 'Tile') return [tile(x, t.ints(node.inputs[1]))];
  if (op === 'DepthToSpace' || op === 'SpaceToDepth') return [depthSpace(node, x)];
  if (op === 'ConstantOfShape') { const s = t.ints(node.inputs[0]); return [s]; }
  if (op === 'Constant') { const c = t.constantTensor(node.outputs[0]); return [c?.dims]; }
  return [];
}

/** An axis normalised into [0, rank), or undefined when the file gives one outside it. */
function axisIndex(axis: number, rank: number): number | undefined {
  const a = axis < 0 ? axis + rank : axis;
  return Number.isInteger(a) && a >= 0 && a < rank ? a : undefined;
}

const unknownDims = (x: Shape | undefined): Shape | undefined => x?.map(() => null);
/** A value of the given 1-D shape's length, all of whose dims are unknown (Reshape's target rank). */
const rankOnly = (target: Shape | undefined): Shape | undefined =>
  target?.length === 1 && typeof target[0] === 'number' && target[0] <= MAX_RANK ? Array.from({ length: target[0] }, () => null) : undefined;
const mul = (a: Dim, b: number): Dim => (typeof a === 'number' ? a * b : null);

export function broadcast(shapes: (Shape | undefined)[]): Shape | undefined {
  if (shapes.some((s) => !s)) return undefined;
  const rank = Math.max(...shapes.map((s) => s!.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let dim: Dim = 1;
    for (const s of shapes) {
      const at = s!.length - rank + i;
      const d = at < 0 ? 1 : s![at]; // not `?? 1`: null is an unknown dim, not a missing one
      if (d === 1) continue;
      if (dim === 1) dim = d;
      else if (dim !== d) dim = typeof dim === 'number' && typeof d !== 'number' ? dim : typeof d === 'number' && typeof dim !== 'number' ? d : null;
    }
    out.push(dim);
  }
  return out;
}

function spatialOut(inDim: Dim, k: number, stride: number, dilation: number, padBegin: number, padEnd: number, autoPad: string, ceilMode: boolean): Dim {
  if (typeof inDim !== 'number') return null;
  const effK = (k - 1) * dilation + 1;
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return Math.ceil(inDim / stride);
  if (autoPad === 'VALID') return Math.floor((inDim - effK) / stride) + 1;
  const span = inDim + padBegin + padEnd - effK;
  let out = (ceilMode ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  // ceil_mode: the last window must start inside the input or left padding.
  if (ceilMode && (out - 1) * stride >= inDim + padBegin) out--;
  return out;
}

function windowed(node: Node, x: Shape, kernel: number[], ceilMode: boolean): Dim[] {
  const n = kernel.length;
  const strides = intsAttr(node, 'strides') ?? kernel.map(() => 1);
  const dilations = intsAttr(node, 'dilations') ?? kernel.map(() => 1);
  const pads = intsAttr(node, 'pads') ?? kernel.map(() => 0).concat(kernel.map(() => 0));
  const autoPad = stringAttr(node, 'auto_pad', 'NOTSET');
  return kernel.map((k, i) => spatialOut(x[2 + i], k, strides[i], dilations[i], pads[i], pads[i + n], autoPad, ceilMode));
}

function conv(node: Node, input: Shape | undefined, w: Shape | undefined): Shape | undefined {
  if (!w) return undefined;
  const x = input ?? w.map(() => null);
  const kernel = intsAttr(node, 'kernel_shape') ?? (w.slice(2) as number[]);
  if (kernel.some((k) => typeof k !== 'number')) return undefined;
  return [x[0], w[0], ...windowed(node, x, kernel, false)];
}

function convTranspose(node: Node, x: Shape | undefined, w: Shape | undefined): Shape | undefined {
  if (!x || !w) return undefined;
  const kernel = intsAttr(node, 'kernel_shape') ?? (w.slice(2) as number[]);
  const group = intAttr(node, 'group', 1);
  const f = mul(w[1], group);
  const explicit = intsAttr(node, 'output_shape');
  if (explicit) return [x[0], f, ...explicit.slice(-kernel.length)];
  const n = kernel.length;
  const strides = intsAttr(node, 'strides') ?? kernel.map(() => 1);
  const dilations = intsAttr(node, 'dilations') ?? kernel.map(() => 1);
  const outPad = intsAttr(node, 'output_padding') ?? kernel.map(() => 0);
  const autoPad = stringAttr(node, 'auto_pad', 'NOTSET');
  const pads = intsAttr(node, 'pads') ?? kernel.map(() => 0).concat(kernel.map(() => 0));
  const spatial = kernel.map((k, i) => {
    const d = x[2 + i];
    if (typeof d !== 'number') return null;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return d * strides[i];
    return strides[i] * (d - 1) + outPad[i] + (k - 1) * dilations[i] + 1 - pads[i] - pads[i + n];
  });
  return [x[0], f, ...spatial];
}

function pool(node: Node, x: Shape | undefined): Shape | undefined {
  const kernel = intsAttr(node, 'kernel_shape');
  if (!x || !kernel) return undefined;
  return [x[0], x[1], ...windowed(node, x, kernel, intAttr(node, 'ceil_mode', 0) === 1)];
}

function gemm(node: Node, a: Shape | undefined, b: Shape | undefined): Shape | undefined {
  if (!a || !b || a.length !== 2 || b.length !== 2) return undefined;
  const m = intAttr(node, 'transA', 0) ? a[1] : a[0];
  const n = intAttr(node, 'transB', 0) ? b[0] : b[1];
  return [m, n];
}

function matmul(a: Shape | undefined, b: Shape | undefined): Shape | undefined {
  if (!a || !b || a.length === 0 || b.length === 0) return undefined;
  const a2 = a.length === 1 ? [1, a[0]] : a;
  const b2 = b.length === 1 ? [b[0], 1] : b;
  const batch = broadcast([a2.slice(0, -2), b2.slice(0, -2)]) ?? [];
  const out: Dim[] = [...batch];
  if (a.length > 1) out.push(a2[a2.length - 2]);
  if (b.length > 1) out.push(b2[b2.length - 1]);
  return out;
}

function product(dims: Shape): Dim {
  let p = 1;
  for (const d of dims) {
    if (typeof d !== 'number') return null;
    p *= d;
  }
  return p;
}

function flatten(x: Shape | undefined, axis: number): Shape | undefined {
  if (!x) return undefined;
  const a = axis < 0 ? axis + x.length : axis;
  // A single dim keeps its symbolic name; a product of several is only known when all are numbers.
  const merge = (dims: Shape): Dim => (dims.length === 1 ? dims[0] : product(dims));
  return [a === 0 ? 1 : merge(x.slice(0, a)), merge(x.slice(a))];
}

function reshape(x: Shape | undefined, target: Dim[] | undefined, allowZero: number): Shape | undefined {
  if (!target) return undefined;
  const out: Dim[] = target.map((d, i) => (d === 0 && !allowZero ? (x?.[i] ?? null) : d));
  const minus = out.indexOf(-1);
  if (minus >= 0) out[minus] = inferredDim(x, out, minus);
  return out;
}

/** Reshape's -1: input elements over the other target dims; symbolic dims cancel by name. */
function inferredDim(x: Shape | undefined, target: Dim[], minus: number): Dim {
  if (!x) return null;
  const rest = target.filter((_, i) => i !== minus);
  const symbols = x.filter((d) => typeof d === 'string') as string[];
  for (const d of rest) {
    if (typeof d === 'string') {
      const at = symbols.indexOf(d);
      if (at < 0) return null;
      symbols.splice(at, 1);
    }
  }
  if (symbols.length > 0 || x.some((d) => d === null) || rest.some((d) => d === null)) return null;
  const total = product(x.filter((d) => typeof d === 'number'));
  const known = product(rest.filter((d) => typeof d === 'number'));
  return typeof total === 'number' && typeof known === 'number' && known > 0 ? total / known : null;
}

function concat(shapes: (Shape | undefined)[], axis: number): Shape | undefined {
  const present = shapes.filter((s): s is Shape => !!s && s.length > 0);
  if (present.length !== shapes.filter((s) => s === undefined || s.length > 0).length || present.length === 0) return undefined;
  const a = axisIndex(axis, present[0].length);
  if (a === undefined) return undefined;
  const out = [...present[0]];
  let sum: Dim = 0;
  for (const s of present) sum = typeof sum === 'number' && typeof s[a] === 'number' ? sum + (s[a] as number) : null;
  out[a] = sum;
  return out;
}

function shapeLength(node: Node, rank: number): number {
  const start = intAttr(node, 'start', 0);
  const end = intAttr(node, 'end', rank);
  const s = Math.max(0, Math.min(rank, start < 0 ? start + rank : start));
  const e = Math.max(0, Math.min(rank, end < 0 ? end + rank : end));
  return Math.max(0, e - s);
}

function squeeze(x: Shape | undefined, axes: number[] | undefined): Shape | undefined {
  if (!x) return undefined;
  if (!axes) return x.some((d) => typeof d !== 'number') ? undefined : x.filter((d) => d !== 1);
  const norm = axes.map((a) => (a < 0 ? a + x.length : a));
  return x.filter((_, i) => !norm.includes(i));
}

function unsqueeze(x: Shape | undefined, axes: number[] | undefined): Shape | undefined {
  if (!x || !axes) return undefined;
  const rank = x.length + axes.length;
  const norm = new Set(axes.map((a) => (a < 0 ? a + rank : a)));
  const out: Dim[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) out.push(norm.has(i) ? 1 : x[j++]);
  return out;
}

function pad(node: Node, x: Shape | undefined, t: ShapeTable): Shape | undefined {
  if (!x) return undefined;
  const pads = intsAttr(node, 'pads') ?? t.ints(node.inputs[1] ?? '');
  if (!pads) return undefined;
  const axes = t.ints(node.inputs[3] ?? '') ?? x.map((_, i) => i);
  const out = [...x];
  for (const [i, axis] of axes.entries()) {
    const a = axisIndex(axis, x.length);
    if (a === undefined) return undefined;
    const d = out[a];
    out[a] = typeof d === 'number' ? d + pads[i] + pads[i + axes.length] : null;
  }
  return out;
}

function slice(node: Node, x: Shape | undefined, t: ShapeTable): Shape | undefined {
  if (!x) return undefined;
  const legacy = node.inputs.length === 1;
  const starts = legacy ? intsAttr(node, 'starts') : t.ints(node.inputs[1]);
  const ends = legacy ? intsAttr(node, 'ends') : t.ints(node.inputs[2]);
  if (!starts || !ends) return undefined;
  const axes = (legacy ? intsAttr(node, 'axes') : t.ints(node.inputs[3] ?? '')) ?? starts.map((_, i) => i);
  const steps = (legacy ? undefined : t.ints(node.inputs[4] ?? '')) ?? starts.map(() => 1);
  const out = [...x];
  for (const [i, axis] of axes.entries()) {
    const a = axisIndex(axis, x.length);
    if (a === undefined) return undefined;
    const d = x[a];
    if (typeof d !== 'number') { out[a] = null; continue; }
    const step = steps[i];
    const clamp = (v: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, v < 0 ? v + d : v));
    const s = step > 0 ? clamp(starts[i], 0, d) : clamp(starts[i], -1, d - 1);
    const e = step > 0 ? clamp(ends[i], 0, d) : clamp(ends[i], -1, d - 1);
    out[a] = Math.max(0, Math.ceil((e - s) / step));
  }
  return out;
}

function resize(node: Node, x: Shape | undefined, t: ShapeTable): Shape | undefined {
  if (!x) return undefined;
  const isUpsample = node.opType === 'Upsample';
  const sizes = isUpsample ? undefined : t.ints(node.inputs[3] ?? '');
  if (sizes && sizes.length === x.length) return sizes;
  const scales = isUpsample
    ? (attribute(node, 'scales')?.floats as number[] | undefined) ?? t.floats(node.inputs[1] ?? '')
    : t.floats(node.inputs[2] ?? '');
  if (!scales || scales.length !== x.length) return undefined;
  return x.map((d, i) => (typeof d === 'number' ? Math.floor(d * scales[i]) : scales[i] === 1 ? d : null));
}

function reduce(node: Node, x: Shape | undefined, t: ShapeTable, single = false): Shape | undefined {
  if (!x) return undefined;
  const keep = intAttr(node, 'keepdims', 1) === 1;
  let axes = single ? [intAttr(node, 'axis', 0)] : intsAttr(node, 'axes') ?? t.ints(node.inputs[1] ?? '');
  if (!axes || axes.length === 0) {
    if (!single && node.inputs[1] && !axes) return undefined;
    if (intAttr(node, 'noop_with_empty_axes', 0)) return x;
    axes = x.map((_, i) => i);
  }
  const norm = new Set(axes.map((a) => (a < 0 ? a + x.length : a)));
  return keep ? x.map((d, i) => (norm.has(i) ? 1 : d)) : x.filter((_, i) => !norm.has(i));
}

function split(node: Node, x: Shape | undefined, t: ShapeTable): (Shape | undefined)[] {
  if (!x) return [];
  const a = axisIndex(intAttr(node, 'axis', 0), x.length);
  if (a === undefined) return [];
  const n = node.outputs.length;
  const sizes = intsAttr(node, 'split') ?? t.ints(node.inputs[1] ?? '');
  const d = x[a];
  return node.outputs.map((_, i) => {
    const out = [...x];
    if (sizes) out[a] = sizes[i];
    else out[a] = typeof d === 'number' ? (i < n - 1 ? Math.ceil(d / n) : d - Math.ceil(d / n) * (n - 1)) : null;
    return out;
  });
}

function recurrent(node: Node, x: Shape | undefined, t: ShapeTable): (Shape | undefined)[] {
  const w = t.get(node.inputs[1]);
  if (!x || x.length !== 3 || !w) return [];
  const batchFirst = intAttr(node, 'layout', 0) === 1;
  const [seq, batch] = batchFirst ? [x[1], x[0]] : [x[0], x[1]];
  const dirs = w[0];
  const gates = node.opType === 'LSTM' ? 4 : node.opType === 'GRU' ? 3 : 1;
  const hidden = intAttr(node, 'hidden_size', typeof w[1] === 'number' ? w[1] / gates : -1);
  const h: Dim = hidden >= 0 ? hidden : null;
  const y: Shape = batchFirst ? [batch, seq, dirs, h] : [seq, dirs, batch, h];
  const state: Shape = batchFirst ? [batch, dirs, h] : [dirs, batch, h];
  return [y, state, state];
}

function gather(x: Shape | undefined, idx: Shape | undefined, axis: number): Shape | undefined {
  if (!x || !idx) return undefined;
  const a = axis < 0 ? axis + x.length : axis;
  return [...x.slice(0, a), ...idx, ...x.slice(a + 1)];
}

function expand(x: Shape | undefined, target: number[] | undefined): Shape | undefined {
  if (!x || !target) return undefined;
  return broadcast([x, target]);
}

function tile(x: Shape | undefined, repeats: number[] | undefined): Shape | undefined {
  if (!x || !repeats || repeats.length !== x.length) return undefined;
  return x.map((d, i) => mul(d, repeats[i]));
}

function depthSpace(node: Node, x: Shape | undefined): Shape | undefined {
  if (!x || x.length !== 4) return undefined;
  const b = intAttr(node, 'blocksize', 1);
  const [n, c, h, w] = x;
  if (node.opType === 'DepthToSpace') return [n, typeof c === 'number' ? c / (b * b) : null, mul(h, b), mul(w, b)];
  return [n, mul(c, b * b), typeof h === 'number' ? h / b : null, typeof w === 'number' ? w / b : null];
}
