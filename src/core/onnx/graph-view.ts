// Navigation over a decoded model: every graph with its place in the nesting (main graph first,
// then subgraphs depth-first in file order), name lookup through enclosing scopes, and the constant
// tensor behind a value — an initializer, a Constant node, or either through a chain of Identity.

import { DataType } from './dtypes';
import { AttrType, type Attribute, type Graph, type Model, type Node, type Tensor } from './model';

/** Where a subgraph sits: node index in the parent graph, the attribute, and the graph's index in it. */
export interface GraphStep {
  readonly node: number;
  readonly attribute: string;
  /** Position in a GRAPHS attribute (0 for a GRAPH attribute). */
  readonly index: number;
}

export interface GraphContext {
  readonly graph: Graph;
  /** [] for the main graph. */
  readonly path: readonly GraphStep[];
  readonly scope: GraphScope;
  /** The enclosing graph's context; undefined for the main graph. */
  readonly parent: GraphContext | undefined;
}

/** The main graph and every nested subgraph, each before the subgraphs of its later nodes. */
export function* walkGraphs(model: Model): Generator<GraphContext> {
  yield* walk(model.graph, [], undefined);
}

function* walk(graph: Graph, path: GraphStep[], parent: GraphContext | undefined): Generator<GraphContext> {
  const context: GraphContext = { graph, path, scope: new GraphScope(graph, parent?.scope), parent };
  yield context;
  for (let n = 0; n < graph.nodes.length; n++) {
    for (const attr of graph.nodes[n].attributes) {
      for (const [index, sub] of subgraphsOf(attr).entries()) {
        yield* walk(sub, [...path, { node: n, attribute: attr.name, index }], context);
      }
    }
  }
}

export function subgraphsOf(attr: Attribute): readonly Graph[] {
  if (attr.g) return [attr.g];
  return attr.graphs ?? [];
}

/** Counts nodes of the main graph and all nested subgraphs (model-local functions excluded). */
export function countNodes(model: Model): { nodes: number; initializers: number } {
  let nodes = 0, initializers = 0;
  for (const { graph } of walkGraphs(model)) {
    nodes += graph.nodes.length;
    initializers += graph.initializers.length;
  }
  return { nodes, initializers };
}

export function attribute(node: Node, name: string): Attribute | undefined {
  return node.attributes.find((a) => a.name === name);
}

export function intAttr(node: Node, name: string, fallback: number): number {
  const a = attribute(node, name);
  return a?.i === undefined ? fallback : Number(a.i);
}

export function intsAttr(node: Node, name: string): number[] | undefined {
  const a = attribute(node, name);
  return a?.ints?.map(Number);
}

export function floatAttr(node: Node, name: string, fallback: number): number {
  return attribute(node, name)?.f ?? fallback;
}

export function stringAttr(node: Node, name: string, fallback: string): string {
  const s = attribute(node, name)?.s;
  return s ? new TextDecoder().decode(s) : fallback;
}

/** Names visible in one graph: its own initializers and node outputs, then the enclosing scopes'. */
export class GraphScope {
  private initializers?: Map<string, Tensor>;
  private producers?: Map<string, Node>;

  constructor(readonly graph: Graph, readonly parent: GraphScope | undefined) {}

  initializer(name: string): Tensor | undefined {
    this.initializers ??= new Map(this.graph.initializers.map((t) => [t.name, t]));
    return this.initializers.get(name) ?? (this.declares(name) ? undefined : this.parent?.initializer(name));
  }

  producer(name: string): Node | undefined {
    if (!this.producers) {
      this.producers = new Map();
      for (const node of this.graph.nodes) for (const out of node.outputs) if (out) this.producers.set(out, node);
    }
    return this.producers.get(name) ?? (this.declares(name) ? undefined : this.parent?.producer(name));
  }

  /**
   * The constant tensor behind a value: an initializer, a Constant node's value, or either of those
   * reached through Identity nodes. Undefined when the value is computed at run time.
   */
  constant(name: string): Tensor | undefined {
    const seen = new Set<string>();
    let current = name;
    for (;;) {
      if (!current || seen.has(current)) return undefined;
      seen.add(current);
      const init = this.initializer(current);
      if (init) return init;
      const found = this.producer(current);
      if (!found) return undefined;
      if (found.opType === 'Constant' && isDefaultDomain(found.domain)) return constantNodeTensor(found);
      if (found.opType === 'Identity' && isDefaultDomain(found.domain) && found.inputs.length === 1) {
        current = found.inputs[0];
        continue;
      }
      return undefined;
    }
  }

  /** A graph input shadows names of enclosing scopes. */
  private declares(name: string): boolean {
    return this.graph.inputs.some((i) => i.name === name);
  }
}

export function isDefaultDomain(domain: string): boolean {
  return domain === '' || domain === 'ai.onnx';
}

/** A Constant node's output as a tensor, whichever of its attribute forms holds the value. */
export function constantNodeTensor(node: Node): Tensor | undefined {
  const name = node.outputs[0] ?? '';
  for (const a of node.attributes) {
    switch (a.name) {
      case 'value': if (a.t) return { ...a.t, name }; break;
      case 'value_float': if (a.f !== undefined) return inline(name, DataType.FLOAT, [], [a.f]); break;
      case 'value_floats': return inline(name, DataType.FLOAT, [a.floats?.length ?? 0], a.floats ?? []);
      case 'value_int': if (a.i !== undefined) return inline(name, DataType.INT64, [], [a.i]); break;
      case 'value_ints': return inline(name, DataType.INT64, [a.ints?.length ?? 0], a.ints ?? []);
      case 'value_string': if (a.s) return { name, dataType: DataType.STRING, dims: [], storage: { kind: 'strings', values: [a.s] } }; break;
      case 'value_strings': return { name, dataType: DataType.STRING, dims: [a.strings?.length ?? 0], storage: { kind: 'strings', values: [...(a.strings ?? [])] } };
    }
    if (a.type === AttrType.SPARSE_TENSOR && a.sparseTensor) {
      return { name, dataType: a.sparseTensor.values.dataType, dims: a.sparseTensor.dims, storage: { kind: 'empty' } };
    }
  }
  return undefined;
}

function inline(name: string, dataType: number, dims: number[], values: readonly (number | bigint)[]): Tensor {
  return { name, dataType, dims, storage: { kind: 'inline', values } };
}
