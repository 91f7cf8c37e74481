// Mapping a model file: load it, find its layers, hash it, and run the rule-based mapper. The hash
// streams the file through SHA-256 in 4 MiB chunks, so memory stays flat whatever the model's size.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findLayers } from '../layers';
import { loadModel } from '../onnx/load';
import type { Plan } from '../plan';
import { mapModel, type MapOptions } from './rules';

/** Hex SHA-256 of a file's bytes. */
export function sha256File(file: string): string {
  const hash = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const chunk = Buffer.allocUnsafe(4 << 20);
    for (;;) {
      const n = fs.readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      hash.update(n === chunk.length ? chunk : chunk.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

/** The rule-based plan for a model file; `model` is the file's base name, `modelSha256` its hash. */
export function mapModelFile(file: string, options: Omit<MapOptions, 'modelName' | 'modelSha256'>): Plan {
  const loaded = loadModel(file);
  try {
    const layers = findLayers(loaded.model, loaded.tensors);
    return mapModel(loaded.model, layers, loaded.tensors, { ...options, modelName: path.basename(file), modelSha256: sha256File(file) });
  } finally {
    loaded.close();
  }
}
