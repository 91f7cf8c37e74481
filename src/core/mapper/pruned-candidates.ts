// Pruned models for the search to run: the model with each candidate's masks applied, exactly as
// `prunemap prune` writes it (the masks come from each scheme's own `mask`; pruned elements become
// +0.0). When every prunable weight is FLOAT raw_data inside the model file, a candidate is a copy
// of the file's bytes with the masked elements zeroed, handed to onnxruntime as a buffer — no disk
// I/O. Otherwise (external data, float_data, FLOAT16, …) the real writer writes it to a private
// temporary folder, which `close` removes.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataType } from '../onnx/dtypes';
import type { Layer } from '../layers';
import type { LoadedModel } from '../onnx/load';
import { elementCount } from '../onnx/tensor-data';
import { TensorLocator, type ElementLayout } from '../prune/locate';
import { weightTensorsOf, type MaskSet } from '../prune/masks';
import { writePrunedModel } from '../prune/write';
import { getScheme } from '../schemes/registry';
import type { SchemeSpec } from '../schemes/scheme';
import { geometryOf } from '../schemes/weight-matrix';

/** A runnable pruned model: the bytes of an ONNX file, or the path of one. */
export type ModelSource = Uint8Array | string;

/** Masks kept for reuse, at most this many bytes (the search revisits the same layer specs often). */
const MASK_CACHE_BYTES = 256 << 20;

export class PrunedCandidates {
  private readonly weights = new Map<Layer, Float32Array[]>();
  private readonly masks = new Map<string, Uint8Array[]>();
  private maskBytes = 0;
  private readonly layouts: Map<Layer, ElementLayout[]> | undefined;
  private readonly fileBytes: Uint8Array | undefined;
  private tempDir: string | undefined;
  private serial = 0;

  constructor(private readonly loaded: LoadedModel, private readonly layers: readonly Layer[]) {
    this.layouts = inMemoryLayouts(loaded, layers);
    this.fileBytes = this.layouts ? fs.readFileSync(loaded.model.path) : undefined;
  }

  /** Whether candidates are built in memory (else in a temporary folder). */
  get inMemory(): boolean {
    return this.layouts !== undefined;
  }

  /** The dense model. */
  dense(): ModelSource {
    return this.fileBytes ?? this.loaded.model.path;
  }

  /** The layer's masks under `spec` (index 0: W, 1: R of RNNs), cached. */
  masksOf(layer: Layer, spec: SchemeSpec): readonly Uint8Array[] {
    const key = `${layer.id}\u0000${JSON.stringify(spec)}`;
    const hit = this.masks.get(key);
    if (hit) return hit;
    const scheme = getScheme(spec.scheme);
    if (!scheme) throw new Error(`scheme ${spec.scheme} is not available`);
    const made = scheme.mask(geometryOf(layer), this.weightsOf(layer), spec);
    const size = made.reduce((n, m) => n + m.length, 0);
    if (this.maskBytes + size > MASK_CACHE_BYTES) {
      this.masks.clear();
      this.maskBytes = 0;
    }
    this.masks.set(key, made);
    this.maskBytes += size;
    return made;
  }

  /** The model with `choices` (layer → spec, dense layers left out) applied. */
  async build(choices: ReadonlyMap<Layer, SchemeSpec>, signal?: AbortSignal): Promise<ModelSource> {
    if (this.layouts && this.fileBytes) {
      const bytes = new Uint8Array(this.fileBytes);
      for (const [layer, spec] of choices) {
        const masks = this.masksOf(layer, spec);
        (this.layouts.get(layer) ?? []).forEach((layout, i) => zeroInPlace(bytes, layout, masks[i]));
      }
      return bytes;
    }
    this.tempDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'prunemap-search-'));
    // One folder per candidate: external data files are written next to the model under their own names.
    const out = path.join(this.tempDir, `candidate-${++this.serial}`, path.basename(this.loaded.model.path));
    const set: MaskSet = new Map([...choices].map(([layer, spec]) => [layer.id, { layer, spec, masks: this.masksOf(layer, spec) }]));
    await writePrunedModel(this.loaded, set, out, { layers: this.layers, signal });
    return out;
  }

  /** Removes a candidate written to disk (onnxruntime has read it by then). */
  release(source: ModelSource): void {
    if (typeof source === 'string' && this.tempDir && source.startsWith(this.tempDir + path.sep)) fs.rmSync(path.dirname(source), { force: true, recursive: true });
  }

  close(): void {
    if (this.tempDir) fs.rmSync(this.tempDir, { recursive: true, force: true });
    this.tempDir = undefined;
    this.masks.clear();
    this.weights.clear();
  }

  private weightsOf(layer: Layer): Float32Array[] {
    let w = this.weights.get(layer);
    if (!w) {
      w = weightTensorsOf(layer).map((t) => {
        const values = this.loaded.tensors.float32(t);
        if (!values) throw new Error(`weight "${t.name}" of layer "${layer.id}" cannot be read as numbers`);
        return values;
      });
      this.weights.set(layer, w);
    }
    return w;
  }
}

/**
 * The layouts of every layer's weights when all are FLOAT raw_data in the model file itself (each
 * one run, not shared with another layer); undefined when any is not.
 */
function inMemoryLayouts(loaded: LoadedModel, layers: readonly Layer[]): Map<Layer, ElementLayout[]> | undefined {
  const locator = new TensorLocator(loaded.model);
  const out = new Map<Layer, ElementLayout[]>();
  try {
    for (const layer of layers) {
      const list: ElementLayout[] = [];
      for (const t of weightTensorsOf(layer)) {
        if (t.storage.kind !== 'raw' || t.dataType !== DataType.FLOAT) return undefined;
        const layout = locator.locate(t, layer.id);
        if (layout.walked || layout.runs.length !== 1 || layout.runs[0].count < elementCount(t.dims)) return undefined;
        list.push(layout);
      }
      out.set(layer, list);
    }
  } catch {
    return undefined;
  } finally {
    locator.close();
  }
  return out;
}

/** Zeroes the elements `mask` removes (FLOAT, little-endian: four zero bytes each). */
function zeroInPlace(bytes: Uint8Array, layout: ElementLayout, mask: Uint8Array | undefined): void {
  if (!mask) return;
  const base = layout.runs[0].offset;
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] === 0) bytes.fill(0, base + 4 * i, base + 4 * i + 4);
  }
}
