// Decodes an ONNX ModelProto into the plain Model of model.ts. The messages that can hold weights
// or subgraphs (model, graph, function, node, attribute, tensor) are walked field by field so that
// weight payloads are recorded as byte ranges and never read; the small leaf messages
// (ValueInfoProto with its TypeProto) go through onnx-proto's generated decoders.
// Field numbers follow onnx/onnx.proto (IR 11); unknown fields are skipped, as protobuf requires.

import { onnx } from 'onnx-proto';
import { ModelError } from '../errors';
import type { TypedField } from './dtypes';
import { ExternalDataResolver } from './external-data';
import type { ByteSource } from './byte-source';
import { ProtoCursor, Wire } from './wire';
import {
  AttrType, type Attribute, type ByteRange, type Dim, type FunctionDef, type Graph, type Int64, type Model, type Node,
  type OpsetImport, type SparseTensor, type Tensor, type TensorStorage, type TypeInfo, type ValueInfo,
} from './model';

/** Deeper subgraph nesting than this is refused (hostile files nest thousands deep). */
export const MAX_GRAPH_DEPTH = 64;

export function decodeModel(source: ByteSource): Model {
  return new Decoder(source).model();
}

const typedFields: Record<number, TypedField> = {
  4: 'float_data', 5: 'int32_data', 7: 'int64_data', 10: 'double_data', 11: 'uint64_data',
};

class Decoder {
  private readonly external: ExternalDataResolver;

  constructor(private readonly source: ByteSource) {
    this.external = new ExternalDataResolver(source.path);
  }

  model(): Model {
    const c = ProtoCursor.over(this.source, 'ModelProto');
    let irVersion = 0, modelVersion = 0;
    let producerName = '', producerVersion = '', domain = '', docString = '';
    const opsets: OpsetImport[] = [];
    const metadata: { key: string; value: string }[] = [];
    const functions: FunctionDef[] = [];
    let graph: Graph | undefined;
    while (!c.done) {
      const [field, wire] = c.key();
      switch (field) {
        case 1: c.expect(wire, Wire.Varint, 'ir_version'); irVersion = c.varint(); break;
        case 2: c.expect(wire, Wire.Bytes, 'producer_name'); producerName = c.string(); break;
        case 3: c.expect(wire, Wire.Bytes, 'producer_version'); producerVersion = c.string(); break;
        case 4: c.expect(wire, Wire.Bytes, 'domain'); domain = c.string(); break;
        case 5: c.expect(wire, Wire.Varint, 'model_version'); modelVersion = Number(c.int64()); break;
        case 6: c.expect(wire, Wire.Bytes, 'doc_string'); docString = c.string(); break;
        case 7: c.expect(wire, Wire.Bytes, 'graph'); graph = this.graph(c.sub('GraphProto'), 1); break;
        case 8: c.expect(wire, Wire.Bytes, 'opset_import'); opsets.push(this.opset(c.sub('OperatorSetIdProto'))); break;
        case 14: c.expect(wire, Wire.Bytes, 'metadata_props'); metadata.push(this.entry(c.sub('StringStringEntryProto'))); break;
        case 25: c.expect(wire, Wire.Bytes, 'functions'); functions.push(this.function(c.sub('FunctionProto'))); break;
        default: c.skip(wire);
      }
    }
    if (!graph) {
      throw new ModelError('not an ONNX model: the file has no graph', this.source.path,
        'Give a .onnx ModelProto file (a TensorProto or other protobuf is not a model).');
    }
    return {
      path: this.source.path, fileSize: this.source.size, irVersion, opsets, producerName, producerVersion, domain,
      modelVersion, docString, metadata, graph, functions,
    };
  }

  private graph(c: ProtoCursor, depth: number): Graph {
    if (depth > MAX_GRAPH_DEPTH) c.fail(c.pos, `subgraphs nested deeper than ${MAX_GRAPH_DEPTH} levels`);
    let name = '', docString: string | undefined;
    const nodes: Node[] = [], initializers: Tensor[] = [], sparseInitializers: SparseTensor[] = [];
    const inputs: ValueInfo[] = [], outputs: ValueInfo[] = [], valueInfo: ValueInfo[] = [];
    while (!c.done) {
      const [field, wire] = c.key();
      switch (field) {
        case 1: c.expect(wire, Wire.Bytes, 'node'); nodes.push(this.node(c.sub('NodeProto'), depth)); break;
        case 2: c.expect(wire, Wire.Bytes, 'name'); name = c.string(); break;
        case 5: c.expect(wire, Wire.Bytes, 'initializer'); initializers.push(this.tensor(c.sub('TensorProto'))); break;
        case 10: c.expect(wire, Wire.Bytes, 'doc_string'); docString = c.string(); break;
        case 11: c.expect(wire, Wire.Bytes, 'input'); inputs.push(this.valueInfo(c)); break;
        case 12: c.expect(wire, Wire.Bytes, 'output'); outputs.push(this.valueInfo(c)); break;
        case 13: c.expect(wire, Wire.Bytes, 'value_info'); valueInfo.push(this.valueInfo(c)); break;
        case 15: c.expect(wire, Wire.Bytes, 'sparse_initializer'); sparseInitializers.push(this.sparseTensor(c.sub('SparseTensorProto'))); break;
        default: c.skip(wire);
      }
    }
    return { name, nodes, initializers, sparseInitializers, inputs, outputs, valueInfo, docString };
  }

  private node(c: ProtoCursor, depth: number): Node {
    let name = '', opType = '', domain = '';
    let overload: string | undefined, docString: string | undefined;
    const inputs: string[] = [], outputs: string[] = [], attributes: Attribute[] = [];
    while (!c.done) {
      const [field, wire] = c.key();
      switch (field) {
        case 1: c.expect(wire, Wire.Bytes, 'input'); inputs.push(c.string()); break;
        case 2: c.expect(wire, Wire.Bytes, 'output'); outputs.push(c.string()); break;
        case 3: c.expect(wire, Wire.Bytes, 'name'); name = c.string(); break;
        case 4: c.expect(wire, Wire.Bytes, 'op_type'); opType = c.string(); break;
        case 5: c.expect(wire, Wire.Bytes, 'attribute'); attributes.push(this.attribute(c.sub('AttributeProto'), depth)); break;
        case 6: c.expect(wire, Wire.Bytes, 'doc_string'); docString = c.string(); break;
        case 7: c.expect(wire, Wire.Bytes, 'domain'); domain = c.string(); break;
        case 8: c.expect(wire, Wire.Bytes, 'overload'); overload = c.string(); break;
        default: c.skip(wire);
      }
    }
    return { name, opType, domain, overload, inputs, outputs, attributes, docString };
  }

  private attribute(c: ProtoCursor, depth: number): Attribute {
    const a: { -readonly [K in keyof Attribute]: Attribute[K] } = { name: '', type: AttrType.UNDEFINED };
    const floats: number[] = [], ints: Int64[] = [], strings: Uint8Array[] = [];
    const tensors: Tensor[] = [], graphs: Graph[] = [], sparseTensors: SparseTensor[] = [], typeProtos: TypeInfo[] = [];
    while (!c.done) {
      const [field, wire] = c.key();
      switch (field) {
        case 1: c.expect(wire, Wire.Bytes, 'name'); a.name = c.string(); break;
        case 2: c.expect(wire, Wire.Fixed32, 'f'); a.f = c.float32(); break;
        case 3: c.expect(wire, Wire.Varint, 'i'); a.i = c.int64(); break;
        case 4: c.expect(wire, Wire.Bytes, 's'); a.s = c.bytes().slice(); break;
        case 5: c.expect(wire, Wire.Bytes, 't'); a.t = this.tensor(c.sub('TensorProto')); break;
        case 6: c.expect(wire, Wire.Bytes, 'g'); a.g = this.graph(c.sub('GraphProto'), depth + 1); break;
        case 7: this.repeatedFloat(c, wire, floats); break;
        case 8: this.repeatedInt64(c, wire, ints, 'ints'); break;
        case 9: c.expect(wire, Wire.Bytes, 'strings'); strings.push(c.bytes().slice()); break;
        case 10: c.expect(wire, Wire.Bytes, 'tensors'); tensors.push(this.tensor(c.sub('TensorProto'))); break;
        case 11: c.expect(wire, Wire.Bytes, 'graphs'); graphs.push(this.graph(c.sub('GraphProto'), depth + 1)); break;
        case 13: c.expect(wire, Wire.Bytes, 'doc_string'); a.docString = c.string(); break;
        case 14: c.expect(wire, Wire.Bytes, 'tp'); a.tp = this.typeProto(c); break;
        case 15: c.expect(wire, Wire.Bytes, 'type_protos'); typeProtos.push(this.typeProto(c)); break;
        case 20: c.expect(wire, Wire.Varint, 'type'); a.type = c.int32(); break;
        case 21: c.expect(wire, Wire.Bytes, 'ref_attr_name'); a.refAttrName = c.string(); break;
        case 22: c.expect(wire, Wire.Bytes, 'sparse_tensor'); a.sparseTensor = this.sparseTensor(c.sub('SparseTensorProto')); break;
        case 23: c.expect(wire, Wire.Bytes, 'sparse_tensors'); sparseTensors.push(this.sparseTensor(c.sub('SparseTensorProto'))); break;
        default: c.skip(wire);
      }
    }
    if (floats.length) a.floats = floats;
    if (ints.length) a.ints = ints;
    if (strings.length) a.strings = strings;
    if (tensors.length) a.tensors = tensors;
    if (graphs.length) a.graphs = graphs;
    if (sparseTensors.length) a.sparseTensors = sparseTensors;
    if (typeProtos.length) a.typeProtos = typeProtos;
    if (a.type === AttrType.UNDEFINED) a.type = inferAttrType(a);
    return a;
  }

  private tensor(c: ProtoCursor): Tensor {
    let name = '', dataType = 0, docString: string | undefined;
    const dims: number[] = [];
    let raw: ByteRange | undefined;
    let typedField: TypedField | undefined;
    const packed: ByteRange[] = [], loose: Int64[] = [], strings: Uint8Array[] = [];
    const externalEntries: { key: string; value: string }[] = [];
    let dataLocation = 0;
    while (!c.done) {
      const [field, wire] = c.key();
      switch (field) {
        case 1: {
          const values: Int64[] = [];
          this.repeatedInt64(c, wire, values, 'dims');
          for (const v of values) {
            if (typeof v === 'bigint' || v < 0) c.fail(c.pos, `tensor dimension ${v} out of range`);
            dims.push(v);
          }
          break;
        }
        case 2: c.expect(wire, Wire.Varint, 'data_type'); dataType = c.int32(); break;
        case 4: case 5: case 7: case 10: case 11: {
          const f = typedFields[field];
          if (typedField && typedField !== f) c.fail(c.pos, `tensor has both ${typedField} and ${f}`);
          typedField = f;
          if (wire === Wire.Bytes) {
            const r = c.range();
            packed.push({ file: this.source.path, ...r });
          } else {
            loose.push(this.looseElement(c, wire, f));
          }
          break;
        }
        case 6: c.expect(wire, Wire.Bytes, 'string_data'); strings.push(c.bytes().slice()); break;
        case 8: c.expect(wire, Wire.Bytes, 'name'); name = c.string(); break;
        case 9: {
          c.expect(wire, Wire.Bytes, 'raw_data');
          const r = c.range();
          // proto3 bytes have no presence: an empty raw_data is the same as none.
          raw = r.length ? { file: this.source.path, ...r } : undefined;
          break;
        }
        case 12: c.expect(wire, Wire.Bytes, 'doc_string'); docString = c.string(); break;
        case 13: c.expect(wire, Wire.Bytes, 'external_data'); externalEntries.push(this.entry(c.sub('StringStringEntryProto'))); break;
        case 14: c.expect(wire, Wire.Varint, 'data_location'); dataLocation = c.int32(); break;
        default: c.skip(wire);
      }
    }
    let storage: TensorStorage;
    if (dataLocation === 1) storage = this.externalStorage(name, externalEntries, c);
    else if (raw) storage = { kind: 'raw', range: raw };
    else if (strings.length) storage = { kind: 'strings', values: strings };
    else if (typedField) storage = { kind: 'typed', field: typedField, packed, loose };
    else storage = { kind: 'empty' };
    return { name, dataType, dims, storage, docString };
  }

  private externalStorage(name: string, entries: { key: string; value: string }[], c: ProtoCursor): TensorStorage {
    const get = (key: string) => entries.find((e) => e.key === key)?.value;
    const location = get('location');
    if (location === undefined) c.fail(c.pos, `tensor "${name}" is marked EXTERNAL but has no location`);
    const offset = parseCount(get('offset'), 'offset', name, c) ?? 0;
    const length = parseCount(get('length'), 'length', name, c);
    const range = this.external.resolve({ tensor: name, location, offset, length });
    return { kind: 'external', location, range };
  }

  private sparseTensor(c: ProtoCursor): SparseTensor {
    let values: Tensor | undefined, indices: Tensor | undefined;
    const dims: Int64[] = [];
    while (!c.done) {
      const [field, wire] = c.key();
      switch (field) {
        case 1: c.expect(wire, Wire.Bytes, 'values'); values = this.tensor(c.sub('TensorProto')); break;
        case 2: c.expect(wire, Wire.Bytes, 'indices'); indices = this.tensor(c.sub('TensorProto')); break;
        case 3: this.repeatedInt64(c, wire, dims, 'dims'); break;
        default: c.skip(wire);
      }
    }
    const empty: Tensor = { name: '', dataType: 0, dims: [], storage: { kind: 'empty' } };
    return { values: values ?? empty, indices: indices ?? empty, dims: dims.map(Number) };
  }

  private function(c: ProtoCursor): FunctionDef {
    let name = '', domain = '';
    let overload: string | undefined, docString: string | undefined;
    const inputs: string[] = [], outputs: string[] = [], attributeNames: string[] = [];
    const attributeDefaults: Attribute[] = [], nodes: Node[] = [], opsets: OpsetImport[] = [], valueInfo: ValueInfo[] = [];
    while (!c.done) {
      const [field, wire] = c.key();
      switch (field) {
        case 1: c.expect(wire, Wire.Bytes, 'name'); name = c.string(); break;
        case 4: c.expect(wire, Wire.Bytes, 'input'); inputs.push(c.string()); break;
        case 5: c.expect(wire, Wire.Bytes, 'output'); outputs.push(c.string()); break;
        case 6: c.expect(wire, Wire.Bytes, 'attribute'); attributeNames.push(c.string()); break;
        case 7: c.expect(wire, Wire.Bytes, 'node'); nodes.push(this.node(c.sub('NodeProto'), 1)); break;
        case 8: c.expect(wire, Wire.Bytes, 'doc_string'); docString = c.string(); break;
        case 9: c.expect(wire, Wire.Bytes, 'opset_import'); opsets.push(this.opset(c.sub('OperatorSetIdProto'))); break;
        case 10: c.expect(wire, Wire.Bytes, 'domain'); domain = c.string(); break;
        case 11: c.expect(wire, Wire.Bytes, 'attribute_proto'); attributeDefaults.push(this.attribute(c.sub('AttributeProto'), 1)); break;
        case 12: c.expect(wire, Wire.Bytes, 'value_info'); valueInfo.push(this.valueInfo(c)); break;
        case 13: c.expect(wire, Wire.Bytes, 'overload'); overload = c.string(); break;
        default: c.skip(wire);
      }
    }
    return { name, domain, overload, inputs, outputs, attributeNames, attributeDefaults, nodes, opsets, valueInfo, docString };
  }

  private opset(c: ProtoCursor): OpsetImport {
    let domain = '', version = 0;
    while (!c.done) {
      const [field, wire] = c.key();
      if (field === 1) { c.expect(wire, Wire.Bytes, 'domain'); domain = c.string(); }
      else if (field === 2) { c.expect(wire, Wire.Varint, 'version'); version = Number(c.int64()); }
      else c.skip(wire);
    }
    return { domain, version };
  }

  private entry(c: ProtoCursor): { key: string; value: string } {
    let key = '', value = '';
    while (!c.done) {
      const [field, wire] = c.key();
      if (field === 1) { c.expect(wire, Wire.Bytes, 'key'); key = c.string(); }
      else if (field === 2) { c.expect(wire, Wire.Bytes, 'value'); value = c.string(); }
      else c.skip(wire);
    }
    return { key, value };
  }

  /** ValueInfoProto through onnx-proto: small, and its TypeProto nests in many shapes. */
  private valueInfo(c: ProtoCursor): ValueInfo {
    const at = c.pos;
    const bytes = c.bytes();
    let msg: onnx.ValueInfoProto;
    try {
      msg = onnx.ValueInfoProto.decode(bytes);
    } catch (err) {
      c.fail(at, `undecodable ValueInfoProto (${(err as Error).message})`);
    }
    return { name: msg.name, type: msg.type ? convertType(msg.type) : undefined, docString: msg.docString || undefined };
  }

  private typeProto(c: ProtoCursor): TypeInfo {
    const at = c.pos;
    const bytes = c.bytes();
    try {
      return convertType(onnx.TypeProto.decode(bytes));
    } catch (err) {
      c.fail(at, `undecodable TypeProto (${(err as Error).message})`);
    }
  }

  private repeatedFloat(c: ProtoCursor, wire: number, out: number[]): void {
    if (wire === Wire.Fixed32) { out.push(c.float32()); return; }
    c.expect(wire, Wire.Bytes, 'floats');
    const sub = c.sub('packed floats');
    if ((sub.end - sub.pos) % 4 !== 0) sub.fail(sub.pos, 'packed floats length is not a multiple of 4');
    while (!sub.done) out.push(sub.float32());
  }

  private repeatedInt64(c: ProtoCursor, wire: number, out: Int64[], field: string): void {
    if (wire === Wire.Varint) { out.push(c.int64()); return; }
    c.expect(wire, Wire.Bytes, field);
    const sub = c.sub(`packed ${field}`);
    while (!sub.done) out.push(sub.int64());
  }

  private looseElement(c: ProtoCursor, wire: number, field: TypedField): Int64 {
    switch (field) {
      case 'float_data': c.expect(wire, Wire.Fixed32, field); return c.float32();
      case 'double_data': c.expect(wire, Wire.Fixed64, field); return c.float64();
      default: c.expect(wire, Wire.Varint, field); return c.int64();
    }
  }
}

function parseCount(text: string | undefined, key: string, tensor: string, c: ProtoCursor): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,15}$/.test(text)) c.fail(c.pos, `tensor "${tensor}" has external data ${key} "${text}", not a byte count`);
  return Number(text);
}

/** IR < 3 files leave AttributeProto.type unset; the set value says what it is. */
function inferAttrType(a: Attribute): number {
  if (a.f !== undefined) return AttrType.FLOAT;
  if (a.i !== undefined) return AttrType.INT;
  if (a.s !== undefined) return AttrType.STRING;
  if (a.t !== undefined) return AttrType.TENSOR;
  if (a.g !== undefined) return AttrType.GRAPH;
  if (a.sparseTensor !== undefined) return AttrType.SPARSE_TENSOR;
  if (a.tp !== undefined) return AttrType.TYPE_PROTO;
  if (a.floats) return AttrType.FLOATS;
  if (a.ints) return AttrType.INTS;
  if (a.strings) return AttrType.STRINGS;
  if (a.tensors) return AttrType.TENSORS;
  if (a.graphs) return AttrType.GRAPHS;
  if (a.sparseTensors) return AttrType.SPARSE_TENSORS;
  if (a.typeProtos) return AttrType.TYPE_PROTOS;
  return AttrType.UNDEFINED;
}

function toDim(d: onnx.TensorShapeProto.IDimension): Dim {
  if (d.dimParam) return d.dimParam;
  if (d.dimValue === null || d.dimValue === undefined) return null;
  const v = typeof d.dimValue === 'number' ? d.dimValue : d.dimValue.toNumber();
  return v;
}

function convertType(t: onnx.ITypeProto): TypeInfo {
  if (t.tensorType) {
    return { kind: 'tensor', elemType: t.tensorType.elemType ?? 0, shape: t.tensorType.shape ? (t.tensorType.shape.dim ?? []).map(toDim) : undefined };
  }
  if (t.sparseTensorType) {
    const s = t.sparseTensorType;
    return { kind: 'sparse_tensor', elemType: s.elemType ?? 0, shape: s.shape ? (s.shape.dim ?? []).map(toDim) : undefined };
  }
  if (t.sequenceType) return { kind: 'sequence', elem: t.sequenceType.elemType ? convertType(t.sequenceType.elemType) : undefined };
  if (t.optionalType) return { kind: 'optional', elem: t.optionalType.elemType ? convertType(t.optionalType.elemType) : undefined };
  if (t.mapType) return { kind: 'map', keyType: t.mapType.keyType ?? 0, value: t.mapType.valueType ? convertType(t.mapType.valueType) : undefined };
  return { kind: 'unknown' };
}

