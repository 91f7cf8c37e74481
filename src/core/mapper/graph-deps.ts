// What the mapper needs to know about where a layer sits in the graph:
//   - how many prunable layers separate it from the model's inputs and outputs (R0 first layer and
//     classifier, R4 "lower rates near input and output");
//   - whether filter or channel pruning would leave the graph consistent once the pruned channels
//     are physically removed (which is where those schemes' ideal speedup comes from): a conv whose
//     output feeds an Add, a Concat or a depthwise conv is coupled to the other branch or to the
//     next layer's channels, so removing its filter f would need the same f removed everywhere.
// Only the main graph is analysed; layers inside subgraphs (If/Loop/Scan bodies) get no position
// and fail the dependency checks ("inside a subgraph").

import type { Layer } from '../layers';
import { isDefaultDomain, subgraphsOf } from '../onnx/graph-view';
import type { Graph, Model, Node } from '../onnx/model';

export interface LayerPosition {
  /** Prunable layers on the shortest path from a model input to this layer's input (0: reads the raw input). */
  readonly before: number;
  /** Prunable layers on the shortest path from this layer's output to a model output (0: writes an output). */
  readonly after: number;
}

export type Dependency = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/**
 * Ops that keep the channel axis as it is, so a removed channel can be removed from their output
 * too: activations, per-channel normalisation, pooling, resizing, casts. (Pad is included: padding
 * the channel axis is rare and would be a model bug of its own.)
 */
const channelPreserving = new Set([
  'Relu', 'LeakyRelu', 'PRelu', 'Clip', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh', 'Elu', 'Selu', 'Celu', 'Gelu', 'Softplus',
  'Softsign', 'Mish', 'ThresholdedRelu', 'Swish', 'Identity', 'Dropout', 'BatchNormalization', 'InstanceNormalization',
  'MaxPool', 'AveragePool', 'LpPool', 'GlobalAveragePool', 'GlobalMaxPool', 'GlobalLpPool', 'Pad', 'Resize', 'Upsample', 'Cast',
  'Abs', 'Neg', 'Exp', 'Log', 'Sqrt', 'Reciprocal', 'Floor', 'Ceil', 'Round', 'Erf',
]);
/** Elementwise ops with two or more inputs: channel-preserving when the other inputs are constants. */
const elementwise = new Set(['Add', 'Sub', 'Mul', 'Div', 'Sum', 'Max', 'Min', 'Mean', 'Pow', 'Where']);

/** Graph facts for the mapper, built once per model. */
export class GraphDeps {
  private readonly graph: Graph;
  private readonly consumers = new Map<string, Node[]>();
  private readonly producers = new Map<string, Node>();
  private readonly constants = new Set<string>();
  private readonly outputs: Set<string>;
  private readonly inputs: Set<string>;
  /** Main-graph layer nodes → their layers. */
  private readonly layerNodes: Map<Node, Layer>;
  private readonly before = new Map<string, number>();
  private readonly after = new Map<string, number>();

  constructor(model: Model, layers: readonly Layer[]) {
    this.graph = model.graph;
    const g = this.graph;
    for (const t of g.initializers) this.constants.add(t.name);
    this.inputs = new Set(g.inputs.map((i) => i.name).filter((n) => !this.constants.has(n)));
    this.outputs = new Set(g.outputs.map((o) => o.name));
    this.layerNodes = new Map(layers.filter((l) => l.graphPath.length === 0).map((l) => [l.node, l]));
    for (const node of g.nodes) {
      if (node.opType === 'Constant' && isDefaultDomain(node.domain)) for (const o of node.outputs) this.constants.add(o);
      for (const o of node.outputs) if (o) this.producers.set(o, node);
      for (const i of node.inputs) {
        if (!i) continue;
        const list = this.consumers.get(i);
        if (list) list.push(node);
        else this.consumers.set(i, [node]);
      }
    }
    this.distances();
  }

  /** Where the layer sits; undefined inside a subgraph. Infinity: no model input (output) is reachable. */
  position(layer: Layer): LayerPosition | undefined {
    if (layer.graphPath.length > 0) return undefined;
    const before = this.before.get(layer.node.inputs[0] ?? '') ?? Infinity;
    const after = Math.min(...layer.node.outputs.map((o) => this.after.get(o) ?? Infinity));
    return { before, after };
  }

  /**
   * Can this layer's filters (output channels) be physically removed? Every consumer reached
   * through channel-preserving ops must be a group-1 Conv, Gemm or MatMul layer, whose matching
   * input channel simply becomes dead.
   */
  filterDependency(layer: Layer): Dependency {
    if (layer.graphPath.length > 0) return { ok: false, reason: 'the layer is inside a subgraph, whose consumers are not analysed' };
    if (layer.op !== 'Conv' && layer.op !== 'Gemm' && layer.op !== 'MatMul') {
      return { ok: false, reason: `a ${layer.op}'s output channels are not separable filters` };
    }
    const seen = new Set<string>();
    const queue = [layer.node.outputs[0] ?? ''];
    while (queue.length) {
      const value = queue.pop() as string;
      if (seen.has(value)) continue;
      seen.add(value);
      if (this.outputs.has(value)) return { ok: false, reason: `its channels reach the model output "${value}", whose shape would change` };
      for (const c of this.consumers.get(value) ?? []) {
        const name = describe(c);
        if (!isDefaultDomain(c.domain)) return { ok: false, reason: `${name} (domain ${c.domain}) is not known to keep channels apart` };
        if (c.attributes.some((a) => subgraphsOf(a).length > 0)) return { ok: false, reason: `${name} has subgraphs that may read it` };
        const consumer = this.layerNodes.get(c);
        if (consumer) {
          if (c.inputs[0] !== value) return { ok: false, reason: `it is the weight of ${name}` };
          if (consumer.op === 'Conv' && consumer.group > 1) {
            const dw = consumer.weightShape[1] === 1 && consumer.weightShape[0] === consumer.group;
            return { ok: false, reason: `${dw ? 'depthwise' : 'grouped'} conv ${name} would have to drop the same channels` };
          }
          if (consumer.op === 'Conv' || consumer.op === 'Gemm' || consumer.op === 'MatMul') continue;
          return { ok: false, reason: `${name} would have to drop the same channels` };
        }
        if (channelPreserving.has(c.opType) && c.inputs[0] === value) {
          queue.push(...c.outputs.filter(Boolean));
          continue;
        }
        if (elementwise.has(c.opType)) {
          const others = c.inputs.filter((i) => i && i !== value);
          if (others.every((i) => this.constants.has(i))) {
            queue.push(...c.outputs.filter(Boolean));
            continue;
          }
          return { ok: false, reason: `${name} adds it to another branch with the same channels` };
        }
        if (c.opType === 'Concat') return { ok: false, reason: `${name} joins it with other branches, so channel offsets after it would shift` };
        return { ok: false, reason: `${name} (${c.opType}) may not keep the channel axis apart` };
      }
    }
    return { ok: true };
  }

  /**
   * Can this layer's input channels be physically removed? Only when the input comes, through
   * channel-preserving ops that nothing else reads, from one group-1 Conv/Gemm/MatMul layer whose
   * filters can then go too.
   */
  channelDependency(layer: Layer): Dependency {
    if (layer.graphPath.length > 0) return { ok: false, reason: 'the layer is inside a subgraph, whose producers are not analysed' };
    let value = layer.node.inputs[0] ?? '';
    for (let hops = 0; hops < 1000; hops++) {
      const readers = this.consumers.get(value) ?? [];
      if (readers.length > 1) return { ok: false, reason: `its input "${value}" also feeds ${readers.length - 1} other node(s)` };
      if (this.inputs.has(value)) return { ok: false, reason: 'it reads the model input, whose channels are fixed' };
      const p = this.producers.get(value);
      if (!p) return { ok: false, reason: `its input "${value}" has no producer in the graph` };
      const name = describe(p);
      const producer = this.layerNodes.get(p);
      if (producer) {
        if ((producer.op === 'Conv' && producer.group === 1) || producer.op === 'Gemm' || producer.op === 'MatMul') return { ok: true };
        return { ok: false, reason: `its producer ${name} cannot drop output channels on its own` };
      }
      if (channelPreserving.has(p.opType) && isDefaultDomain(p.domain)) {
        value = p.inputs[0] ?? '';
        continue;
      }
      if (elementwise.has(p.opType)) return { ok: false, reason: `its input comes from ${name}, a sum of branches` };
      if (p.opType === 'Concat') return { ok: false, reason: `its input comes from ${name}, which joins several branches` };
      return { ok: false, reason: `its input comes from ${name} (${p.opType}), which may mix channels` };
    }
    return { ok: false, reason: 'the chain of producers is too long' };
  }

  /** Shortest layer counts from the inputs (forward, in node order) and to the outputs (backward). */
  private distances(): void {
    const g = this.graph;
    for (const i of this.inputs) this.before.set(i, 0);
    for (const node of g.nodes) {
      let d = Infinity;
      for (const i of node.inputs) if (i && !this.constants.has(i)) d = Math.min(d, this.before.get(i) ?? Infinity);
      const out = this.layerNodes.has(node) ? d + 1 : d;
      for (const o of node.outputs) if (o) this.before.set(o, Math.min(this.before.get(o) ?? Infinity, out));
    }
    for (const o of this.outputs) this.after.set(o, 0);
    for (let n = g.nodes.length - 1; n >= 0; n--) {
      const node = g.nodes[n];
      let d = Infinity;
      for (const o of node.outputs) if (o) d = Math.min(d, this.after.get(o) ?? Infinity);
      const back = this.layerNodes.has(node) ? d + 1 : d;
      for (const i of node.inputs) if (i && !this.constants.has(i)) this.after.set(i, Math.min(this.after.get(i) ?? Infinity, back));
    }
  }
}

function describe(node: Node): string {
  return node.name ? `"${node.name}"` : `the ${node.opType} node`;
}
