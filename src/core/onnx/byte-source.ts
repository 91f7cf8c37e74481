// Where a model's bytes come from. A file is read lazily with positioned reads, so decoding a
// 100 MB model touches only its metadata; an in-memory buffer hands out zero-copy views.

import * as fs from 'node:fs';
import { ModelError } from '../errors';

export interface ByteSource {
  /** Path shown in messages and recorded in byte ranges. */
  readonly path: string;
  readonly size: number;
  /** Bytes [offset, offset+length). Views of the buffer for in-memory sources, fresh for files. */
  read(offset: number, length: number): Uint8Array;
  /**
   * Like read, but the result may share memory with the previous window: valid only until the
   * next call. The protobuf cursor reads through this; whatever it keeps, it copies or decodes.
   */
  readWindow(offset: number, length: number): Uint8Array;
  /** Copies bytes [offset, offset+out.length) into `out` (a caller reusing one buffer avoids fresh allocations). */
  copyTo(out: Uint8Array, offset: number): void;
  close(): void;
}

export class BufferSource implements ByteSource {
  readonly size: number;
  constructor(readonly path: string, private readonly bytes: Uint8Array) {
    this.size = bytes.length;
  }
  read(offset: number, length: number): Uint8Array {
    return this.bytes.subarray(offset, offset + length);
  }
  readWindow(offset: number, length: number): Uint8Array {
    return this.read(offset, length);
  }
  copyTo(out: Uint8Array, offset: number): void {
    out.set(this.read(offset, out.length));
  }
  close(): void {}
}

export class FileSource implements ByteSource {
  private fd: number | undefined;
  private constructor(readonly path: string, fd: number, readonly size: number) {
    this.fd = fd;
  }

  /** Opens a regular file, turning the usual failures into one-line user errors. */
  static open(path: string, what = 'model'): FileSource {
    // stat before open: opening a FIFO or a device for reading can block forever.
    let stat: fs.Stats;
    try {
      stat = fs.statSync(path);
    } catch (err) {
      throw openError(err, path, what);
    }
    if (stat.isDirectory()) throw openError(Object.assign(new Error(), { code: 'EISDIR' }), path, what);
    if (!stat.isFile()) throw new ModelError('not a regular file (a pipe, socket or device)', path, `Give the path of a ${what} file.`);
    let fd: number;
    try {
      fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    } catch (err) {
      throw openError(err, path, what);
    }
    return new FileSource(path, fd, fs.fstatSync(fd).size);
  }

  /** One buffer reused for every window: a fresh one per refill kept the garbage collector busy. */
  private window = Buffer.alloc(0);

  read(offset: number, length: number): Uint8Array {
    return this.readInto(Buffer.allocUnsafe(length), offset, length);
  }

  readWindow(offset: number, length: number): Uint8Array {
    if (this.window.length < length) this.window = Buffer.allocUnsafe(Math.max(length, 16 * 1024));
    return this.readInto(this.window, offset, length).subarray(0, length);
  }

  copyTo(out: Uint8Array, offset: number): void {
    this.readInto(out, offset, out.length);
  }

  private readInto<T extends Uint8Array>(out: T, offset: number, length: number): T {
    if (this.fd === undefined) throw new Error(`read from closed file ${this.path}`);
    let done = 0;
    while (done < length) {
      const n = fs.readSync(this.fd, out, done, length - done, offset + done);
      if (n === 0) throw new ModelError(`file shrank while reading (wanted ${length} bytes at ${offset})`, this.path, 'Check that nothing else is writing the file.');
      done += n;
    }
    return out;
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

function openError(err: unknown, path: string, what: string): ModelError {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT': return new ModelError('no such file', path, `Check the path of the ${what}.`);
    case 'EACCES':
    case 'EPERM': return new ModelError('permission denied', path, 'Make the file readable by this user.');
    case 'EISDIR': return new ModelError('is a directory', path, `Give the path of a ${what} file, not a folder.`);
    default: return new ModelError(`cannot open (${code ?? String(err)})`, path, `Check the path of the ${what}.`);
  }
}
