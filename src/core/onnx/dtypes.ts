// ONNX tensor element types, including those added after onnx-proto's IR 8 schema (IR 9–11:
// FLOAT8 variants, UINT4/INT4, FLOAT4E2M1, …). onnx-proto hands these over as bare numbers, so the
// table of names and sizes lives here. `bits` is the storage size of one element in raw_data.

export interface DataTypeInfo {
  readonly id: number;
  /** Name as in onnx.TensorProto.DataType, e.g. FLOAT8E4M3FN. */
  readonly name: string;
  /** Lower-case spelling used by the ONNX textual syntax, e.g. float8e4m3fn. */
  readonly textName: string;
  /** Bits per element in raw_data (sub-byte types are packed LSB-first; 0 for strings). */
  readonly bits: number;
  /** The typed repeated field that holds this type when raw_data is not used. */
  readonly typedField: TypedField;
}

export type TypedField = 'float_data' | 'int32_data' | 'string_data' | 'int64_data' | 'double_data' | 'uint64_data';

const table: DataTypeInfo[] = [
  [1, 'FLOAT', 'float', 32, 'float_data'],
  [2, 'UINT8', 'uint8', 8, 'int32_data'],
  [3, 'INT8', 'int8', 8, 'int32_data'],
  [4, 'UINT16', 'uint16', 16, 'int32_data'],
  [5, 'INT16', 'int16', 16, 'int32_data'],
  [6, 'INT32', 'int32', 32, 'int32_data'],
  [7, 'INT64', 'int64', 64, 'int64_data'],
  [8, 'STRING', 'string', 0, 'string_data'],
  [9, 'BOOL', 'bool', 8, 'int32_data'],
  [10, 'FLOAT16', 'float16', 16, 'int32_data'],
  [11, 'DOUBLE', 'double', 64, 'double_data'],
  [12, 'UINT32', 'uint32', 32, 'uint64_data'],
  [13, 'UINT64', 'uint64', 64, 'uint64_data'],
  [14, 'COMPLEX64', 'complex64', 64, 'float_data'],
  [15, 'COMPLEX128', 'complex128', 128, 'double_data'],
  [16, 'BFLOAT16', 'bfloat16', 16, 'int32_data'],
  [17, 'FLOAT8E4M3FN', 'float8e4m3fn', 8, 'int32_data'],
  [18, 'FLOAT8E4M3FNUZ', 'float8e4m3fnuz', 8, 'int32_data'],
  [19, 'FLOAT8E5M2', 'float8e5m2', 8, 'int32_data'],
  [20, 'FLOAT8E5M2FNUZ', 'float8e5m2fnuz', 8, 'int32_data'],
  [21, 'UINT4', 'uint4', 4, 'int32_data'],
  [22, 'INT4', 'int4', 4, 'int32_data'],
  [23, 'FLOAT4E2M1', 'float4e2m1', 4, 'int32_data'],
  [24, 'FLOAT8E8M0', 'float8e8m0', 8, 'int32_data'],
  [25, 'UINT2', 'uint2', 2, 'int32_data'],
  [26, 'INT2', 'int2', 2, 'int32_data'],
  [27, 'FLOAT6E2M3', 'float6e2m3', 6, 'int32_data'],
  [28, 'FLOAT6E3M2', 'float6e3m2', 6, 'int32_data'],
].map(([id, name, textName, bits, typedField]) => ({ id, name, textName, bits, typedField }) as DataTypeInfo);

const byId = new Map(table.map((t) => [t.id, t]));
const byTextName = new Map(table.map((t) => [t.textName, t]));

export const DataType = {
  UNDEFINED: 0, FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9,
  FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, COMPLEX64: 14, COMPLEX128: 15, BFLOAT16: 16,
} as const;

export function dataTypeInfo(id: number): DataTypeInfo | undefined {
  return byId.get(id);
}

export function dataTypeByTextName(name: string): DataTypeInfo | undefined {
  return byTextName.get(name);
}

/** Name for display; unknown ids (from a newer ONNX than this table) show as their number. */
export function dataTypeName(id: number): string {
  return byId.get(id)?.name ?? `DATATYPE_${id}`;
}

/** Bytes that `count` elements occupy in raw_data (sub-byte types are packed, rounded up). */
export function rawByteLength(id: number, count: number): number | undefined {
  const info = byId.get(id);
  if (!info || info.bits === 0) return undefined;
  return Math.ceil((count * info.bits) / 8);
}
