// Reading a tensor's values on demand, whatever its storage: raw_data, typed repeated fields,
// external files or inline Constant values. Everything is first brought to raw_data layout
// (little-endian, sub-byte types packed) and typed views are made from that.

import * as fs from 'node:fs';
import { ModelError } from '../errors';
import type { ByteSource } from './byte-source';
import { DataType, dataTypeInfo, dataTypeName, rawByteLength } from './dtypes';
import type { ByteRange, Int64, Tensor } from './model';
import { ProtoCursor } from './wire';
import { BufferSource } from './byte-source';

const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** A float buffer reused across reads, grown to the largest request. */
export class ScratchBuffer {
  private buffer = new Float32Array(0);

  /** A view of n floats (contents unspecified until written). */
  floats(n: number): Float32Array {
    if (this.buffer.length < n) this.buffer = new Float32Array(n);
    return this.buffer.subarray(0, n);
  }
}

/** Reads tensor payloads of one model; owns the file handles of its external data files. */
export class TensorReader {
  private readonly externalFds = new Map<string, number>();

  constructor(private readonly modelSource: ByteSource) {}

  /** The tensor's bytes in raw_data layout (a view of the file when the model is held in memory). */
  raw(t: Tensor): Uint8Array {
    const s = t.storage;
    const count = elementCount(t.dims);
    switch (s.kind) {
      case 'raw': return this.readRange(s.range);
      case 'external': return this.readRange(s.range);
      case 'typed': return this.typedToRaw(t, s.field, s.packed, s.loose, count);
      case 'inline': return this.typedToRaw(t, t.dataType === DataType.FLOAT ? 'float_data' : 'int64_data', [], s.values as Int64[], count);
      case 'strings': throw new ModelError(`tensor "${t.name}" holds strings`, this.modelSource.path, 'Only numeric tensors have raw bytes.');
      case 'empty': return new Uint8Array(rawByteLength(t.dataType, 0) ?? 0);
    }
  }

  /**
   * Values as float32 (FLOAT, DOUBLE, FLOAT16, BFLOAT16 and the integer types). For FLOAT data the
   * result may share memory with the model's bytes: treat it as read-only.
   */
  float32(t: Tensor): Float32Array {
    const raw = this.raw(t);
    const n = elementCount(t.dims);
    this.checkLength(t, raw, n);
    if (t.dataType === DataType.FLOAT && littleEndianHost) {
      // raw_data is little-endian float32 already: a view when aligned, else one copy.
      if (raw.byteOffset % 4 === 0) return new Float32Array(raw.buffer, raw.byteOffset, n);
      const aligned = new Uint8Array(n * 4); // not raw.slice(): Buffer.slice is a view, not a copy
      aligned.set(raw.subarray(0, n * 4));
      return new Float32Array(aligned.buffer);
    }
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out = new Float32Array(n);
    switch (t.dataType) {
      case DataType.FLOAT: for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, true); break;
      case DataType.DOUBLE: for (let i = 0; i < n; i++) out[i] = dv.getFloat64(i * 8, true); break;
      case DataType.FLOAT16: for (let i = 0; i < n; i++) out[i] = halfToFloat(dv.getUint16(i * 2, true)); break;
      case DataType.BFLOAT16: for (let i = 0; i < n; i++) out[i] = bf16ToFloat(dv.getUint16(i * 2, true)); break;
      default: {
        const ints = this.int64(t);
        for (let i = 0; i < n; i++) out[i] = Number(ints[i]);
      }
    }
    return out;
  }

  /** Values of an integer or bool tensor (shape constants, axes, pads). */
  int64(t: Tensor): Int64[] {
    const raw = this.raw(t);
    const n = elementCount(t.dims);
    this.checkLength(t, raw, n);
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out: Int64[] = new Array(n);
    const read: ((i: number) => Int64) | undefined = ({
      [DataType.INT64]: (i: number) => exact(dv.getBigInt64(i * 8, true)),
      [DataType.UINT64]: (i: number) => exact(dv.getBigUint64(i * 8, true)),
      [DataType.INT32]: (i: number) => dv.getInt32(i * 4, true),
      [DataType.UINT32]: (i: number) => dv.getUint32(i * 4, true),
      [DataType.INT16]: (i: number) => dv.getInt16(i * 2, true),
      [DataType.UINT16]: (i: number) => dv.getUint16(i * 2, true),
      [DataType.INT8]: (i: number) => dv.getInt8(i),
      [DataType.UINT8]: (i: number) => dv.getUint8(i),
      [DataType.BOOL]: (i: number) => dv.getUint8(i),
    } as Record<number, (i: number) => Int64>)[t.dataType];
    if (!read) throw new ModelError(`tensor "${t.name}" is ${dataTypeName(t.dataType)}, not an integer type`, this.modelSource.path, 'Expected integer values here.');
    for (let i = 0; i < n; i++) out[i] = read(i);
    return out;
  }

  close(): void {
    for (const fd of this.externalFds.values()) fs.closeSync(fd);
    this.externalFds.clear();
  }

  /**
   * FLOAT values held as raw or external data, read straight into `scratch` (grown when too small)
   * with no allocation per tensor; the result is a view of the scratch, valid until its next use.
   * Undefined for other storage or data types (use float32).
   */
  float32Into(t: Tensor, scratch: ScratchBuffer): Float32Array | undefined {
    const s = t.storage;
    if (t.dataType !== DataType.FLOAT || !littleEndianHost || (s.kind !== 'raw' && s.kind !== 'external')) return undefined;
    const n = elementCount(t.dims);
    if (s.range.length < n * 4) return undefined; // float32() says what is wrong
    const out = scratch.floats(n);
    this.copyRange({ ...s.range, length: n * 4 }, new Uint8Array(out.buffer, out.byteOffset, n * 4));
    return out;
  }

  private readRange(r: ByteRange): Uint8Array {
    if (r.file === this.modelSource.path) return this.modelSource.read(r.offset, r.length);
    const out = Buffer.allocUnsafe(r.length);
    this.copyRange(r, out);
    return out;
  }

  private copyRange(r: ByteRange, out: Uint8Array): void {
    if (r.file === this.modelSource.path) return this.modelSource.copyTo(out, r.offset);
    try {
      let fd = this.externalFds.get(r.file);
      if (fd === undefined) {
        fd = fs.openSync(r.file, 'r');
        this.externalFds.set(r.file, fd);
      }
      const n = fs.readSync(fd, out, 0, r.length, r.offset);
      if (n !== r.length) throw new Error(`ended after ${n} of ${r.length} bytes`);
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new ModelError(`cannot read external data ${r.file} (${why})`, this.modelSource.path, 'Check that the data file is readable and complete; copy it again if needed.');
    }
  }

  /** Before any allocation sized by the tensor's shape: the data must be there and be numeric. */
  private checkLength(t: Tensor, raw: Uint8Array, n: number): void {
    const want = rawByteLength(t.dataType, n);
    if (want === undefined) {
      throw new ModelError(`tensor "${t.name}" has data type ${dataTypeName(t.dataType)}, which has no numeric values`, this.modelSource.path, 'Only numeric tensors can be read here.');
    }
    if (raw.length < want) {
      throw new ModelError(`tensor "${t.name}" has ${raw.length} bytes of data, its shape [${t.dims.join(',')}] needs ${want}`,
        this.modelSource.path, 'The model is damaged; re-export it.');
    }
  }

  /** Converts typed repeated-field values into raw_data layout for the tensor's type. */
  private typedToRaw(t: Tensor, field: string, packed: ByteRange[], loose: Int64[], count: number): Uint8Array {
    const info = dataTypeInfo(t.dataType);
    if (!info) throw new ModelError(`tensor "${t.name}" has unknown data type ${t.dataType}`, this.modelSource.path, 'This ONNX data type is newer than PruneMap knows.');
    if (packed.length + loose.length > 0 && field !== info.typedField) {
      throw new ModelError(`tensor "${t.name}" is ${info.name} but holds its values in ${field} (ONNX puts them in ${info.typedField})`, this.modelSource.path, 'The model is damaged; re-export it.');
    }
    const values: Int64[] = [];
    for (const r of packed) {
      const bytes = this.readRange(r);
      const c = ProtoCursor.over(new BufferSource(this.modelSource.path, bytes), `packed ${field}`);
      if (field === 'float_data') while (!c.done) values.push(c.float32());
      else if (field === 'double_data') while (!c.done) values.push(c.float64());
      else while (!c.done) values.push(c.int64());
    }
    for (const v of loose) values.push(v); // not push(...loose): a long spread overflows the stack
    const complex = t.dataType === 14 || t.dataType === 15;
    // int32_data holds 2- and 4-bit types as packed bytes, but 6-bit types one element per value.
    const packedBytes = info.bits < 8 && info.bits !== 6;
    const expected = packedBytes ? Math.ceil(count * info.bits / 8) : complex ? count * 2 : count;
    // Checked before allocating: a hostile shape must not size the output buffer.
    if (values.length < expected) {
      throw new ModelError(`tensor "${t.name}" has ${values.length} values in ${field}, its shape needs ${expected}`, this.modelSource.path, 'The model is damaged; re-export it.');
    }
    const out = new Uint8Array(rawByteLength(t.dataType, count) ?? 0);
    const dv = new DataView(out.buffer);
    const bytesPer = info.bits / 8;
    for (let i = 0; i < expected; i++) {
      const v = values[i];
      switch (t.dataType) {
        case DataType.FLOAT: dv.setFloat32(i * 4, Number(v), true); break;
        case 14: dv.setFloat32(i * 4, Number(v), true); break;
        case DataType.DOUBLE: case 15: dv.setFloat64(i * 8, Number(v), true); break;
        case DataType.INT64: dv.setBigInt64(i * 8, BigInt(v), true); break;
        case DataType.UINT64: dv.setBigUint64(i * 8, BigInt.asUintN(64, BigInt(v)), true); break;
        default:
          // int32_data/uint64_data hold one element (or, for sub-byte types, one packed byte) per value.
          if (info.bits === 6) packSixBits(out, i, Number(v));
          else if (info.bits < 8) out[i] = Number(v) & 0xff;
          else if (bytesPer === 4) dv.setUint32(i * 4, Number(v) >>> 0, true);
          else if (bytesPer === 2) dv.setUint16(i * 2, Number(v) & 0xffff, true);
          else out[i] = Number(v) & 0xff;
      }
    }
    return out;
  }
}

/** Writes element i's 6 bits into a little-endian bit stream (ONNX's FLOAT6 raw layout). */
function packSixBits(out: Uint8Array, i: number, v: number): void {
  const bit = i * 6;
  const word = (v & 0x3f) << (bit % 8);
  out[bit >> 3] |= word & 0xff;
  if (word > 0xff) out[(bit >> 3) + 1] |= word >> 8;
}

function exact(v: bigint): Int64 {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : v;
}

export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function bf16ToFloat(b: number): number {
  const buf = new DataView(new ArrayBuffer(4));
  buf.setUint32(0, b << 16);
  return buf.getFloat32(0);
}
