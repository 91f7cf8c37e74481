// What the server knows about one model file, independent of target and plan: the decoded model
// (weight-free; the file stays open for the few weights mapping reads), its prunable layers, the
// text view with each layer's line, and the summary `inspect --json` prints. Made once per version
// of the file (see model-cache.ts); every annotation is a lookup into it.

import * as fs from 'node:fs';
import { findLayers, type Layer } from '../core/layers';
import { sha256File } from '../core/mapper/model-file';
import { summarizeModel, type ModelSummary } from '../core/model-summary';
import { loadModel, type LoadedModel } from '../core/onnx/load';
import { lineOfNode, printModel, type LineMapEntry } from '../core/onnx/text';
import type { LayerGeometry } from '../core/schemes/scheme';
import { geometryOf } from '../core/schemes/weight-matrix';

/** Identifies one version of a file: a change of any field means the file changed. */
export interface FileStamp {
  readonly size: number;
  readonly mtimeMs: number;
  readonly ino: number;
}

export function stampOf(file: string): FileStamp | undefined {
  try {
    const st = fs.statSync(file);
    return st.isFile() ? { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino } : undefined;
  } catch {
    return undefined;
  }
}

export function sameStamp(a: FileStamp | undefined, b: FileStamp | undefined): boolean {
  return a === b || (!!a && !!b && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino);
}

export interface AnalysedLayer {
  readonly layer: Layer;
  /** 0-based line of the layer's node in the text view. */
  readonly line: number;
  readonly geometry: LayerGeometry;
  /** Prunable weights (W, plus R for RNNs). */
  readonly weights: number;
}

export interface ModelAnalysis {
  readonly path: string;
  readonly stamp: FileStamp | undefined;
  /** Open for reading weights (the mapper's pattern library); closed when the cache drops the analysis. */
  readonly loaded: LoadedModel;
  readonly layers: readonly AnalysedLayer[];
  readonly byId: ReadonlyMap<string, AnalysedLayer>;
  readonly atLine: ReadonlyMap<number, AnalysedLayer>;
  /** The text view, exactly as `prunemap text MODEL` prints it (ends with a newline). */
  readonly text: string;
  readonly lineMap: readonly LineMapEntry[];
  /** Offset of each line's start in `text`. */
  readonly lineStarts: readonly number[];
  readonly summary: ModelSummary;
  /** A rough size of what the analysis holds in memory, for the cache's budget. */
  readonly approxBytes: number;
  /** The file's SHA-256, computed when a plan file asks for it. */
  sha256(): string;
}

/** Analyses a model file; throws ModelError (one line) for a missing, unreadable or malformed file. */
export function analyseModel(file: string): ModelAnalysis {
  const stamp = stampOf(file);
  const loaded = loadModel(file);
  try {
    const found = findLayers(loaded.model, loaded.tensors);
    // As `prunemap text` prints it: small attribute tensors (Constant values) shown, weights elided.
    const printed = printModel(loaded.model, { tensors: loaded.tensors });
    const text = printed.text.endsWith('\n') ? printed.text : `${printed.text}\n`;
    const layers = found.map((layer) => {
      const geometry = geometryOf(layer);
      const weights = geometry.matrices.reduce((n, m) => n + m.rows * m.channels * m.kernel, 0);
      return { layer, line: lineOfNode(printed.lines, layer.graphPath, layer.nodeIndex), geometry, weights };
    });
    const summary = summarizeModel(loaded.model, found, (graphPath, nodeIndex) => lineOfNode(printed.lines, graphPath, nodeIndex) + 1);
    let sha: string | undefined;
    return {
      path: file,
      stamp,
      loaded,
      layers,
      byId: new Map(layers.map((l) => [l.layer.id, l])),
      atLine: new Map(layers.filter((l) => l.line >= 0).map((l) => [l.line, l])),
      text,
      lineMap: printed.lines,
      lineStarts: lineStartsOf(text),
      summary,
      // The text lists every node, attribute and initializer: the decoded model is of the same order.
      approxBytes: text.length * 6 + printed.lines.length * 200,
      sha256: () => (sha ??= sha256File(file)),
    };
  } catch (err) {
    loaded.close();
    throw err;
  }
}

/** Length of a 0-based line of the analysis text, without its line break. */
export function lineLength(a: ModelAnalysis, line: number): number {
  const start = a.lineStarts[line];
  if (start === undefined) return 0;
  const next = a.lineStarts[line + 1] ?? a.text.length + 1;
  return Math.max(0, next - 1 - start);
}

export function lineText(a: ModelAnalysis, line: number): string {
  const start = a.lineStarts[line] ?? a.text.length;
  return a.text.slice(start, start + lineLength(a, line));
}

function lineStartsOf(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}
