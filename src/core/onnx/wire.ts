// A protobuf wire-format cursor over a ByteSource. It reads through a small window, so skipping a
// large field (a tensor's raw_data) costs nothing, and every length is checked against the bytes
// that remain before anything is allocated. Hostile input ends in a ModelError, never a crash.

import { ModelError } from '../errors';
import type { ByteSource } from './byte-source';

export const enum Wire { Varint = 0, Fixed64 = 1, Bytes = 2, Fixed32 = 5 }

const WINDOW = 16 * 1024;
const utf8 = new TextDecoder('utf-8');

/** The window of bytes last read, shared by a cursor and its sub-cursors. */
interface Window { buf: Uint8Array; start: number }

export class ProtoCursor {
  private constructor(
    readonly source: ByteSource,
    public pos: number,
    readonly end: number,
    private readonly win: Window,
    /** Message name for error messages, e.g. "GraphProto". */
    readonly message: string,
  ) {}

  static over(source: ByteSource, message: string): ProtoCursor {
    return new ProtoCursor(source, 0, source.size, { buf: new Uint8Array(0), start: 0 }, message);
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** Reads a field key; returns [fieldNumber, wireType]. */
  key(): [number, number] {
    const at = this.pos;
    const k = this.varint();
    const field = Math.floor(k / 8);
    const wire = k % 8;
    if (field === 0) this.fail(at, 'field number 0');
    return [field, wire];
  }

  /** An unsigned varint as a number; values past 2^53 are refused (lengths, enums, counts). */
  varint(): number {
    this.ensure(Math.min(10, this.end - this.pos));
    const { buf, start } = this.win;
    let i = this.pos - start;
    let result = 0;
    let scale = 1;
    for (let n = 0; n < 10; n++) {
      if (this.pos + n >= this.end) this.fail(this.pos, 'truncated varint');
      const b = buf[i++];
      result += (b & 0x7f) * scale;
      if (b < 0x80) {
        this.pos += n + 1;
        if (result > Number.MAX_SAFE_INTEGER) this.fail(this.pos, 'varint out of range');
        return result;
      }
      scale *= 128;
    }
    this.fail(this.pos, 'varint longer than 10 bytes');
  }

  /** A signed 64-bit varint: a number when it is exact, a bigint otherwise. */
  int64(): number | bigint {
    this.ensure(Math.min(10, this.end - this.pos));
    const { buf, start } = this.win;
    let i = this.pos - start;
    let value = 0n;
    for (let n = 0; n < 10; n++) {
      if (this.pos + n >= this.end) this.fail(this.pos, 'truncated varint');
      const b = buf[i++];
      value |= BigInt(b & 0x7f) << BigInt(7 * n);
      if (b < 0x80) {
        this.pos += n + 1;
        const signed = BigInt.asIntN(64, value);
        const asNumber = Number(signed);
        return Number.isSafeInteger(asNumber) ? asNumber : signed;
      }
    }
    this.fail(this.pos, 'varint longer than 10 bytes');
  }

  /** A signed 32-bit varint (int32 and enum fields). */
  int32(): number {
    const v = this.int64();
    return typeof v === 'bigint' ? Number(BigInt.asIntN(32, v)) : v | 0;
  }

  float32(): number {
    const b = this.take(4);
    return new DataView(b.buffer, b.byteOffset, 4).getFloat32(0, true);
  }

  float64(): number {
    const b = this.take(8);
    return new DataView(b.buffer, b.byteOffset, 8).getFloat64(0, true);
  }

  /** Length prefix of a bytes/message field, checked against what remains. */
  length(): number {
    const at = this.pos;
    const n = this.varint();
    if (n > this.end - this.pos) this.fail(at, `length ${n} runs past the end (${this.end - this.pos} bytes remain)`);
    return n;
  }

  /** The next length-delimited field as a cursor of its own; this cursor moves past it. */
  sub(message: string): ProtoCursor {
    const n = this.length();
    const child = new ProtoCursor(this.source, this.pos, this.pos + n, this.win, message);
    this.pos += n;
    return child;
  }

  /** The next length-delimited field's position without reading it (for lazily read payloads). */
  range(): { offset: number; length: number } {
    const n = this.length();
    const offset = this.pos;
    this.pos += n;
    return { offset, length: n };
  }

  /** Bytes of the next length-delimited field (small fields only: names, attribute values). */
  bytes(): Uint8Array {
    return this.take(this.length());
  }

  string(): string {
    return utf8.decode(this.bytes());
  }

  /** Skips a field's value of the given wire type. */
  skip(wire: number): void {
    switch (wire) {
      case Wire.Varint: this.varint64Skip(); return;
      case Wire.Fixed64: this.advance(8); return;
      case Wire.Bytes: {
        const n = this.length(); // not `pos += length()`: length() moves pos first
        this.pos += n;
        return;
      }
      case Wire.Fixed32: this.advance(4); return;
      default: this.fail(this.pos, `unsupported wire type ${wire}`);
    }
  }

  /** Fails unless `wire` is the one the schema expects for this field. */
  expect(wire: number, expected: number, field: string): void {
    if (wire !== expected) this.fail(this.pos, `field ${this.message}.${field} has wire type ${wire}, expected ${expected}`);
  }

  fail(at: number, what: string): never {
    throw new ModelError(`malformed ONNX protobuf: ${what} in ${this.message} at byte ${at}`, this.source.path,
      'The file is damaged or not an ONNX model; re-export or re-download it.');
  }

  private varint64Skip(): void {
    for (let n = 0; n < 10; n++) {
      if (this.pos >= this.end) this.fail(this.pos, 'truncated varint');
      this.ensure(1);
      const b = this.win.buf[this.pos - this.win.start];
      this.pos++;
      if (b < 0x80) return;
    }
    this.fail(this.pos, 'varint longer than 10 bytes');
  }

  private advance(n: number): void {
    if (n > this.end - this.pos) this.fail(this.pos, `truncated field (needs ${n} bytes, ${this.end - this.pos} remain)`);
    this.pos += n;
  }

  private take(n: number): Uint8Array {
    if (n > this.end - this.pos) this.fail(this.pos, `truncated field (needs ${n} bytes, ${this.end - this.pos} remain)`);
    this.ensure(n);
    const from = this.pos - this.win.start;
    this.pos += n;
    return this.win.buf.subarray(from, from + n);
  }

  /** Makes bytes [pos, pos+n) available in the window, reading from the source if needed. */
  private ensure(n: number): void {
    const { buf, start } = this.win;
    if (this.pos >= start && this.pos + n <= start + buf.length) return;
    const length = Math.min(Math.max(n, WINDOW), this.source.size - this.pos);
    // The source may reuse the previous window's memory: callers copy or decode what they keep.
    this.win.buf = this.source.readWindow(this.pos, length);
    this.win.start = this.pos;
  }
}
