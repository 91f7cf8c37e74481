// The engine's front door for model files: open, decode, and hand back the model with a reader
// for its tensor payloads. Callers close the LoadedModel when they are done with its weights.

import * as fs from 'node:fs';
import { ModelError } from '../errors';
import { BufferSource, FileSource, type ByteSource } from './byte-source';
import { decodeModel } from './decode';
import type { Model } from './model';
import { TensorReader } from './tensor-data';

export interface LoadedModel {
  readonly model: Model;
  readonly tensors: TensorReader;
  close(): void;
}

export interface LoadOptions {
  /** Read the whole file into memory first: tensor bytes are then zero-copy views of it. */
  readonly inMemory?: boolean;
}

export function loadModel(path: string, options: LoadOptions = {}): LoadedModel {
  let source: ByteSource = FileSource.open(path, 'model');
  if (options.inMemory) {
    const whole = source.read(0, source.size);
    source.close();
    source = new BufferSource(path, whole);
  }
  return fromSource(source);
}

/** Decodes a model held in memory (tests, and editors that already have the bytes). */
export function loadModelFromBytes(path: string, bytes: Uint8Array): LoadedModel {
  return fromSource(new BufferSource(path, bytes));
}

function fromSource(source: ByteSource): LoadedModel {
  if (source.size === 0) {
    source.close();
    throw new ModelError('empty file', source.path, 'Give a .onnx model; this file has no bytes.');
  }
  let model: Model;
  try {
    model = decodeModel(source);
  } catch (err) {
    source.close();
    throw asModelError(err, source.path);
  }
  const tensors = new TensorReader(source);
  return {
    model,
    tensors,
    close() {
      tensors.close();
      source.close();
    },
  };
}

/** A stack overflow or allocation failure inside a decoder is still the file's fault. */
function asModelError(err: unknown, path: string): unknown {
  if (err instanceof ModelError) return err;
  if (err instanceof RangeError) {
    return new ModelError(`malformed ONNX protobuf (${err.message})`, path, 'The file is damaged or not an ONNX model; re-export or re-download it.');
  }
  return err;
}

export function isReadableFile(path: string): boolean {
  try {
    return fs.statSync(path).isFile();
  } catch {
    return false;
  }
}
