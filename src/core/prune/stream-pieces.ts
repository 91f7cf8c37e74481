// Copies a file into another piece by piece, patching some pieces on the way, with the three steps
// overlapped: while this thread patches one piece, libuv's threads read the next and write the one
// before. For a 100 MB model the reads and writes then cost hardly more than the patching alone.

import * as fs from 'node:fs';

/** A byte range of the input, written at the same place in the output (patched first, if it says so). */
export interface Piece {
  readonly offset: number;
  readonly length: number;
  readonly patch?: (bytes: Uint8Array) => void;
}

export interface StreamEnds {
  readonly input: number;
  readonly output: number;
  /** The error to throw when the input ends early (it shrank while being read). */
  shortRead(wanted: number, at: number): Error;
  /** The error to throw for a failed write (disk full, …). */
  writeError(err: unknown): unknown;
}

/**
 * Streams `pieces` (in file order, each at most `maxPiece` bytes) from input to output. Checks the
 * signal between pieces. Never returns or throws while a read or write is still in flight, so the
 * caller may close the files right after.
 */
export async function streamPieces(ends: StreamEnds, pieces: readonly Piece[], maxPiece: number, signal?: AbortSignal): Promise<void> {
  if (pieces.length === 0) return;
  // Three buffers: one being read, one being patched, one being written.
  const buffers = [0, 1, 2].map(() => new Uint8Array(Math.min(maxPiece, Math.max(...pieces.map((p) => p.length)))));
  let reading = settled(readPiece(ends, pieces[0], buffers[0]));
  let writing = settled(Promise.resolve());
  try {
    for (let i = 0; i < pieces.length; i++) {
      const bytes = await reading.promise;
      signal?.throwIfAborted();
      if (i + 1 < pieces.length) reading = settled(readPiece(ends, pieces[i + 1], buffers[(i + 1) % 3]));
      pieces[i].patch?.(bytes);
      await writing.promise;
      writing = settled(writePiece(ends, pieces[i], bytes));
    }
    await writing.promise;
  } finally {
    await Promise.all([reading.done, writing.done]);
  }
}

/** A promise, and one that resolves when it settles either way (and keeps its rejection from being unhandled). */
function settled<T>(promise: Promise<T>): { promise: Promise<T>; done: Promise<void> } {
  const done = promise.then(() => undefined, () => undefined);
  return { promise, done };
}

async function readPiece(ends: StreamEnds, piece: Piece, buffer: Uint8Array): Promise<Uint8Array> {
  const bytes = buffer.subarray(0, piece.length);
  let done = 0;
  while (done < bytes.length) {
    const n = await new Promise<number>((resolve, reject) =>
      fs.read(ends.input, bytes, done, bytes.length - done, piece.offset + done, (err, count) => (err ? reject(err) : resolve(count))));
    if (n === 0) throw ends.shortRead(bytes.length, piece.offset);
    done += n;
  }
  return bytes;
}

async function writePiece(ends: StreamEnds, piece: Piece, bytes: Uint8Array): Promise<void> {
  let done = 0;
  try {
    while (done < bytes.length) {
      done += await new Promise<number>((resolve, reject) =>
        fs.write(ends.output, bytes, done, bytes.length - done, piece.offset + done, (err, count) => (err ? reject(err) : resolve(count))));
    }
  } catch (err) {
    throw ends.writeError(err);
  }
}
