// Where each element of a weight tensor sits in the files on disk, so the pruned-model writer can
// zero it in place. raw_data and external data are one contiguous run; float_data / double_data
// are fixed-width protobuf fields (packed runs, or one element after each field key); Constant
// value_floats likewise. Forms where a zero would change the encoding's length (varints: FLOAT16
// and BFLOAT16 kept in int32_data) or that hold no dense values (sparse tensors) are refused.

import { ModelError } from '../errors';
import { FileSource, type ByteSource } from '../onnx/byte-source';
import { DataType, dataTypeName } from '../onnx/dtypes';
import { subgraphsOf, walkGraphs, type GraphStep } from '../onnx/graph-view';
import type { Model, Tensor } from '../onnx/model';
import { elementCount } from '../onnx/tensor-data';
import { ProtoCursor, Wire } from '../onnx/wire';

/** `count` consecutive elements starting at byte `offset`. */
export interface ElementRun {
  readonly offset: number;
  readonly count: number;
}

export interface ElementLayout {
  /** The file holding the bytes: the model file or an external data file (resolved path). */
  readonly file: string;
  /** The tensor's `location` when its data is external. */
  readonly externalLocation?: string;
  /** Bytes per element: 2 (FLOAT16, BFLOAT16), 4 (FLOAT), 8 (DOUBLE). */
  readonly elementSize: number;
  readonly dataType: number;
  /** Runs in element order; they cover at least the tensor's element count. */
  readonly runs: readonly ElementRun[];
  /** Found by walking the file's bytes (loose float_data, value_floats): the writer checks the values there first. */
  readonly walked?: boolean;
}

const elementSizes = new Map<number, number>([[DataType.FLOAT, 4], [DataType.FLOAT16, 2], [DataType.BFLOAT16, 2], [DataType.DOUBLE, 8]]);

/** Locates weight tensors of one model; opens the model file itself only for the rare forms that need a byte walk. */
export class TensorLocator {
  private source: ByteSource | undefined;

  constructor(private readonly model: Model) {}

  /** The tensor's element layout, or a ModelError (naming `owner`, e.g. the layer) when it cannot be patched in place. */
  locate(tensor: Tensor, owner: string): ElementLayout {
    const refuse = (what: string, hint: string): never => {
      throw new ModelError(`layer "${owner}": weight "${tensor.name}" ${what}`, this.model.path, hint);
    };
    const size = elementSizes.get(tensor.dataType);
    if (size === undefined) {
      refuse(`is ${dataTypeName(tensor.dataType)}; only FLOAT, FLOAT16, BFLOAT16 and DOUBLE weights can be pruned`,
        'Leave this layer dense in the plan (quantized or integer weights are not pruned).');
    }
    const count = elementCount(tensor.dims);
    const s = tensor.storage;
    let layout: ElementLayout;
    switch (s.kind) {
      case 'raw':
        layout = { file: s.range.file, elementSize: size!, dataType: tensor.dataType, runs: [{ offset: s.range.offset, count: Math.floor(s.range.length / size!) }] };
        break;
      case 'external':
        layout = { file: s.range.file, externalLocation: s.location, elementSize: size!, dataType: tensor.dataType, runs: [{ offset: s.range.offset, count: Math.floor(s.range.length / size!) }] };
        break;
      case 'typed': {
        if (tensor.dataType !== DataType.FLOAT && tensor.dataType !== DataType.DOUBLE) {
          refuse(`is ${dataTypeName(tensor.dataType)} stored in ${s.field} (varints), where a zero is shorter than the value it replaces`,
            'Re-save the model with raw_data (onnx.save_model re-encodes tensors that way) and prune again.');
        }
        layout = s.loose.length === 0
          ? { file: this.model.path, elementSize: size!, dataType: tensor.dataType, runs: s.packed.map((r) => ({ offset: r.offset, count: Math.floor(r.length / size!) })) }
          : this.walk(tensor, owner, size!);
        break;
      }
      case 'inline':
        if (tensor.dataType !== DataType.FLOAT) refuse('is a Constant integer list', 'Integer weights are not pruned; leave this layer dense.');
        layout = this.walk(tensor, owner, size!);
        break;
      case 'strings':
        return refuse('holds strings', 'Only numeric weights can be pruned.');
      case 'empty':
        return refuse('has no dense values (a sparse tensor, or no data)', 'Sparse weights cannot be patched in place; leave this layer dense or densify the model first.');
    }
    const covered = layout.runs.reduce((n, r) => n + r.count, 0);
    if (covered < count) refuse(`has ${covered} stored values, its shape [${tensor.dims.join(',')}] needs ${count}`, 'The model is damaged; re-export it.');
    return layout;
  }

  close(): void {
    this.source?.close();
    this.source = undefined;
  }

  /**
   * Finds where the tensor is defined (an initializer, or a Constant's `value` / `value_floats`)
   * and walks the model's bytes to it, recording each element's position in the order the
   * engine's reader uses: packed runs first, then elements written one per key.
   */
  private walk(tensor: Tensor, owner: string, size: number): ElementLayout {
    const site = findSite(this.model, tensor);
    if (!site) {
      throw new ModelError(`layer "${owner}": cannot find where weight "${tensor.name}" is defined in the file`, this.model.path, 'Re-save the model with raw_data and prune again.');
    }
    this.source ??= FileSource.open(this.model.path);
    let c = ProtoCursor.over(this.source, 'ModelProto');
    c = lastField(c, 7, 'GraphProto');
    for (const step of site.path) {
      c = nthField(c, 1, step.nodeIndex, 'NodeProto');
      c = nthField(c, 5, step.attributeIndex, 'AttributeProto');
      c = step.single ? lastField(c, 6, 'GraphProto') : nthField(c, 11, step.index, 'GraphProto');
    }
    let valueField: number, fixedWire: number;
    if (site.kind === 'initializer') {
      c = nthField(c, 5, site.index, 'TensorProto');
      [valueField, fixedWire] = tensor.dataType === DataType.DOUBLE ? [10, Wire.Fixed64] : [4, Wire.Fixed32];
    } else {
      c = nthField(c, 1, site.nodeIndex, 'NodeProto');
      c = nthField(c, 5, site.attributeIndex, 'AttributeProto');
      if (site.kind === 'constant-tensor') {
        c = lastField(c, 5, 'TensorProto');
        [valueField, fixedWire] = tensor.dataType === DataType.DOUBLE ? [10, Wire.Fixed64] : [4, Wire.Fixed32];
      } else {
        [valueField, fixedWire] = [7, Wire.Fixed32];
      }
    }
    const packed: ElementRun[] = [], loose: ElementRun[] = [];
    while (!c.done) {
      const [field, wire] = c.key();
      if (field === valueField && wire === Wire.Bytes) {
        const r = c.range();
        packed.push({ offset: r.offset, count: Math.floor(r.length / size) });
      } else if (field === valueField && wire === fixedWire) {
        loose.push({ offset: c.pos, count: 1 });
        c.skip(wire);
      } else {
        c.skip(wire);
      }
    }
    return { file: this.model.path, elementSize: size, dataType: tensor.dataType, runs: mergeRuns([...packed, ...loose], size), walked: true };
  }
}

/** One step down into a subgraph, as field positions: node index, attribute index, graph index. */
interface WalkStep {
  readonly nodeIndex: number;
  readonly attributeIndex: number;
  /** The `g` attribute (true) or the `graphs` list (false, at `index`). */
  readonly single: boolean;
  readonly index: number;
}

type Site =
  | { readonly kind: 'initializer'; readonly path: WalkStep[]; readonly index: number }
  | { readonly kind: 'constant-tensor' | 'constant-floats'; readonly path: WalkStep[]; readonly nodeIndex: number; readonly attributeIndex: number };

/** Where the decoded tensor came from, matched by identity of the decoded storage. */
function findSite(model: Model, tensor: Tensor): Site | undefined {
  const s = tensor.storage;
  for (const ctx of walkGraphs(model)) {
    const path = walkPath(model, ctx.path);
    const index = ctx.graph.initializers.findIndex((t) => t === tensor || t.storage === s);
    if (index >= 0) return { kind: 'initializer', path, index };
    for (const [nodeIndex, node] of ctx.graph.nodes.entries()) {
      for (const [attributeIndex, a] of node.attributes.entries()) {
        if (a.t && a.t.storage === s) return { kind: 'constant-tensor', path, nodeIndex, attributeIndex };
        if (a.floats && s.kind === 'inline' && a.floats === s.values) return { kind: 'constant-floats', path, nodeIndex, attributeIndex };
      }
    }
  }
  return undefined;
}

/** GraphSteps (attribute by name) → field positions (attribute by index), following the decoded model. */
function walkPath(model: Model, steps: readonly GraphStep[]): WalkStep[] {
  let graph = model.graph;
  const out: WalkStep[] = [];
  for (const step of steps) {
    const node = graph.nodes[step.node];
    const attributeIndex = node.attributes.findIndex((a) => a.name === step.attribute && subgraphsOf(a)[step.index] !== undefined);
    const a = node.attributes[attributeIndex];
    out.push({ nodeIndex: step.node, attributeIndex, single: a.g !== undefined, index: step.index });
    graph = subgraphsOf(a)[step.index];
  }
  return out;
}

/** The n-th occurrence (0-based) of a length-delimited field, as a cursor of its own. */
function nthField(c: ProtoCursor, field: number, n: number, message: string): ProtoCursor {
  let seen = 0;
  while (!c.done) {
    const [f, wire] = c.key();
    if (f === field && wire === Wire.Bytes) {
      if (seen++ === n) return c.sub(message);
      c.skip(wire);
    } else {
      c.skip(wire);
    }
  }
  return c.fail(c.pos, `${message} #${n} not found`);
}

/** The last occurrence of a singular message field (protobuf: the last one wins, as the decoder does). */
function lastField(c: ProtoCursor, field: number, message: string): ProtoCursor {
  let found: ProtoCursor | undefined;
  while (!c.done) {
    const [f, wire] = c.key();
    if (f === field && wire === Wire.Bytes) found = c.sub(message);
    else c.skip(wire);
  }
  return found ?? c.fail(c.pos, `${message} not found`);
}

/** Joins runs that follow each other directly (loose elements are separated by their keys, so they stay apart). */
function mergeRuns(runs: ElementRun[], size: number): ElementRun[] {
  const out: ElementRun[] = [];
  for (const r of runs) {
    const last = out[out.length - 1];
    if (last && last.offset + last.count * size === r.offset) out[out.length - 1] = { offset: last.offset, count: last.count + r.count };
    else if (r.count > 0) out.push(r);
  }
  return out;
}
