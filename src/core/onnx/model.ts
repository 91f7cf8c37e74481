// The decoded model: plain data, weight-free. Tensors carry where their bytes are (byte ranges in
// the model file or an external data file), never the bytes themselves; see tensor-data.ts.

import type { TypedField } from './dtypes';

/** Bytes [offset, offset+length) of `file`; writers use it to patch weights in place. */
export interface ByteRange {
  readonly file: string;
  readonly offset: number;
  readonly length: number;
}

/** A signed 64-bit integer: a number when exact, a bigint beyond 2^53 (e.g. INT64_MAX in Slice). */
export type Int64 = number | bigint;

export type TensorStorage =
  /** raw_data in the model file. */
  | { readonly kind: 'raw'; readonly range: ByteRange }
  /** External data file; `location` as written in the model, `range` resolved and checked. */
  | { readonly kind: 'external'; readonly location: string; readonly range: ByteRange }
  /** A typed repeated field: packed payload ranges, plus elements written one per key. */
  | { readonly kind: 'typed'; readonly field: TypedField; readonly packed: ByteRange[]; readonly loose: Int64[] }
  /** string_data. */
  | { readonly kind: 'strings'; readonly values: Uint8Array[] }
  /** Values made by the decoder itself (Constant value_float(s)/value_int(s)). */
  | { readonly kind: 'inline'; readonly values: readonly Int64[] }
  /** No data at all (a zero-element tensor, or one declared without values). */
  | { readonly kind: 'empty' };

export interface Tensor {
  readonly name: string;
  readonly dataType: number;
  readonly dims: readonly number[];
  readonly storage: TensorStorage;
  readonly docString?: string;
}

export interface SparseTensor {
  readonly values: Tensor;
  readonly indices: Tensor;
  readonly dims: readonly number[];
}

/** A dimension: a size, a symbolic name, or unknown. */
export type Dim = number | string | null;

export type TypeInfo =
  | { readonly kind: 'tensor'; readonly elemType: number; readonly shape?: readonly Dim[] }
  | { readonly kind: 'sparse_tensor'; readonly elemType: number; readonly shape?: readonly Dim[] }
  | { readonly kind: 'sequence'; readonly elem?: TypeInfo }
  | { readonly kind: 'optional'; readonly elem?: TypeInfo }
  | { readonly kind: 'map'; readonly keyType: number; readonly value?: TypeInfo }
  | { readonly kind: 'unknown' };

export interface ValueInfo {
  readonly name: string;
  readonly type?: TypeInfo;
  readonly docString?: string;
}

/** AttributeProto.AttributeType numbers. */
export const AttrType = {
  UNDEFINED: 0, FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, SPARSE_TENSOR: 11, TYPE_PROTO: 13,
  FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10, SPARSE_TENSORS: 12, TYPE_PROTOS: 14,
} as const;

export interface Attribute {
  readonly name: string;
  /** AttrType; inferred from the value that is set when the file leaves it out (IR < 3). */
  readonly type: number;
  readonly refAttrName?: string;
  readonly docString?: string;
  readonly f?: number;
  readonly i?: Int64;
  readonly s?: Uint8Array;
  readonly t?: Tensor;
  readonly g?: Graph;
  readonly sparseTensor?: SparseTensor;
  readonly tp?: TypeInfo;
  readonly floats?: readonly number[];
  readonly ints?: readonly Int64[];
  readonly strings?: readonly Uint8Array[];
  readonly tensors?: readonly Tensor[];
  readonly graphs?: readonly Graph[];
  readonly sparseTensors?: readonly SparseTensor[];
  readonly typeProtos?: readonly TypeInfo[];
}

export interface Node {
  readonly name: string;
  readonly opType: string;
  readonly domain: string;
  readonly overload?: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: readonly Attribute[];
  readonly docString?: string;
}

export interface Graph {
  readonly name: string;
  readonly nodes: readonly Node[];
  readonly initializers: readonly Tensor[];
  readonly sparseInitializers: readonly SparseTensor[];
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  readonly valueInfo: readonly ValueInfo[];
  readonly docString?: string;
}

export interface OpsetImport {
  readonly domain: string;
  readonly version: number;
}

export interface FunctionDef {
  readonly name: string;
  readonly domain: string;
  readonly overload?: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Attribute names without defaults (`attribute`) and with defaults (`attribute_proto`). */
  readonly attributeNames: readonly string[];
  readonly attributeDefaults: readonly Attribute[];
  readonly nodes: readonly Node[];
  readonly opsets: readonly OpsetImport[];
  readonly valueInfo: readonly ValueInfo[];
  readonly docString?: string;
}

export interface Model {
  /** The model file this was decoded from. */
  readonly path: string;
  readonly fileSize: number;
  readonly irVersion: number;
  readonly opsets: readonly OpsetImport[];
  readonly producerName: string;
  readonly producerVersion: string;
  readonly domain: string;
  readonly modelVersion: number;
  readonly docString: string;
  readonly metadata: readonly { key: string; value: string }[];
  readonly graph: Graph;
  readonly functions: readonly FunctionDef[];
}
