// Prunable layers and their metrics. A layer is a Conv, ConvTranspose, Gemm, MatMul, LSTM, GRU or
// RNN node whose weight is a constant (initializer or Constant, possibly behind Identity nodes),
// in the main graph or any subgraph. Definitions (docs/cli.md): every symbolic or unknown dimension
// counts as 1; Conv MACs = output elements × (C/g)·Kh·Kw; ConvTranspose = input elements × (F/g)·Kh·Kw;
// Gemm/MatMul = output elements × K; LSTM/GRU/RNN = seq × batch × gates·H × (input + H) per direction;
// params = weight + bias elements (RNN: W + R + B).

import { intAttr, intsAttr, isDefaultDomain, walkGraphs, type GraphContext, type GraphStep } from './onnx/graph-view';
import type { Model, Node, Tensor } from './onnx/model';
import { ShapeTable, type Shape } from './onnx/shapes';
import type { TensorReader } from './onnx/tensor-data';
import { elementCount } from './onnx/tensor-data';

export type LayerOp = 'Conv' | 'ConvTranspose' | 'Gemm' | 'MatMul' | 'LSTM' | 'GRU' | 'RNN';

export interface Layer {
  /** Node name, or the weight's name when the node has none; `#2`, `#3` … make repeats unique. */
  readonly id: string;
  readonly op: LayerOp;
  readonly node: Node;
  /** Where the node is: the nesting path of its graph and its index there. */
  readonly graphPath: readonly GraphStep[];
  readonly nodeIndex: number;
  /** The weight input as written on the node, and the constant tensor behind it. */
  readonly weight: string;
  readonly weightTensor: Tensor;
  readonly weightShape: readonly number[];
  /** RNN recurrence weights R (LSTM/GRU/RNN only). */
  readonly recurrentTensor?: Tensor;
  readonly group: number;
  readonly kernel: readonly number[];
  readonly strides: readonly number[];
  readonly inputShape: Shape | null;
  readonly outputShape: Shape | null;
  readonly params: number;
  readonly macs: number;
}

const layerOps = new Set<string>(['Conv', 'ConvTranspose', 'Gemm', 'MatMul', 'LSTM', 'GRU', 'RNN']);

/** All prunable layers, in depth-first file order (a node's subgraph layers follow the node). */
export function findLayers(model: Model, tensors?: TensorReader): Layer[] {
  const tables = new Map<GraphContext, ShapeTable>();
  const perGraph = new Map<GraphContext, Layer[]>();
  const order: GraphContext[] = [];
  for (const ctx of walkGraphs(model)) {
    const table = new ShapeTable(ctx.scope, tensors, ctx.parent && tables.get(ctx.parent));
    tables.set(ctx, table);
    order.push(ctx);
    perGraph.set(ctx, ctx.graph.nodes.flatMap((node, i) => layerOf(node, i, ctx, table) ?? []));
  }
  // Interleave: each graph's layers, with a subgraph's layers right after the node that holds it.
  const layers: Layer[] = [];
  const emit = (ctx: GraphContext) => {
    const children = order.filter((c) => c.parent === ctx);
    const own = perGraph.get(ctx) ?? [];
    for (let i = 0; i < ctx.graph.nodes.length; i++) {
      for (const l of own) if (l.nodeIndex === i) layers.push(l);
      for (const child of children) if (child.path[child.path.length - 1].node === i) emit(child);
    }
  };
  emit(order[0]);
  return uniqueIds(layers);
}

function layerOf(node: Node, nodeIndex: number, ctx: GraphContext, shapes: ShapeTable): Layer | undefined {
  if (!layerOps.has(node.opType) || !isDefaultDomain(node.domain)) return undefined;
  const op = node.opType as LayerOp;
  const weight = node.inputs[1] ?? '';
  const w = weight ? ctx.scope.constant(weight) : undefined;
  if (!w) return undefined;
  const dims = w.dims;
  const inputShape = shapes.get(node.inputs[0] ?? '') ?? null;
  const outputShape = shapes.get(node.outputs[0] ?? '') ?? null;
  const sizeOf = (name: string | undefined) => {
    if (!name) return 0;
    const c = ctx.scope.constant(name);
    const s = c?.dims ?? shapes.get(name);
    return s ? countOf(s) : 0;
  };
  let group = 1, kernel: number[] = [], strides: number[] = [], macs = 0, params = elementCount(dims);
  let recurrentTensor: Tensor | undefined;
  switch (op) {
    case 'Conv':
    case 'ConvTranspose': {
      if (dims.length < 3) return undefined;
      group = intAttr(node, 'group', 1);
      kernel = dims.slice(2);
      strides = intsAttr(node, 'strides') ?? kernel.map(() => 1);
      const perOutput = dims[1] * elementCount(kernel);
      macs = countOf(op === 'Conv' ? outputShape : inputShape) * perOutput;
      params += sizeOf(node.inputs[2]);
      break;
    }
    case 'Gemm': {
      if (dims.length !== 2) return undefined;
      const k = intAttr(node, 'transB', 0) ? dims[1] : dims[0];
      macs = countOf(outputShape) * k;
      params += sizeOf(node.inputs[2]);
      break;
    }
    case 'MatMul': {
      if (dims.length < 2) return undefined;
      macs = countOf(outputShape) * dims[dims.length - 2];
      break;
    }
    default: {
      recurrentTensor = ctx.scope.constant(node.inputs[2] ?? '');
      if (!recurrentTensor || dims.length !== 3) return undefined;
      const hidden = intAttr(node, 'hidden_size', recurrentTensor.dims[2] ?? 0);
      const [seq, batch] = intAttr(node, 'layout', 0) === 1 ? [inputShape?.[1], inputShape?.[0]] : [inputShape?.[0], inputShape?.[1]];
      macs = dimValue(seq) * dimValue(batch) * dims[1] * (dims[2] + hidden) * dims[0];
      params += elementCount(recurrentTensor.dims) + sizeOf(node.inputs[3]);
    }
  }
  return {
    id: node.name || weight, op, node, graphPath: ctx.path, nodeIndex, weight, weightTensor: w, weightShape: dims,
    recurrentTensor, group, kernel, strides, inputShape, outputShape, params, macs,
  };
}

/** Dimension as a count: symbolic and unknown dims count as 1. */
function dimValue(d: unknown): number {
  return typeof d === 'number' ? d : 1;
}

/** Elements of a shape, symbolic and unknown dims counting as 1; an unknown shape counts as 1. */
function countOf(shape: Shape | null | undefined): number {
  if (!shape) return 1;
  let n = 1;
  for (const d of shape) n *= dimValue(d);
  return n;
}

function uniqueIds(layers: Layer[]): Layer[] {
  const seen = new Map<string, number>();
  return layers.map((l) => {
    const n = (seen.get(l.id) ?? 0) + 1;
    seen.set(l.id, n);
    return n === 1 ? l : { ...l, id: `${l.id}#${n}` };
  });
}
