// Independent references for the LSP tests: what the built CLI prints for a model (`text`,
// `inspect --json`, `map --json`, each in its own process) and what Python's onnx says about its
// layers (the reference manifest), plus temporary folders that are removed at exit.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadManifest } from '../../support/manifest';
import { ROOT } from './client';

export const CLI = path.join(ROOT, 'dist', 'cli.js');
export const PYTHON = path.join(ROOT, '.venv-ref', 'bin', 'python');
export const torchvision = (name: string) => path.join(ROOT, 'test', 'corpora', 'torchvision', name);
export const fashionCnn = path.join(ROOT, 'samples', 'fashion-cnn.onnx');

export function cli(...args: string[]): string {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`prunemap ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

export interface InspectLayer {
  id: string;
  op: string;
  weightShape: number[];
  /** 1-based. */
  line: number;
}

export function inspectJson(model: string): { layers: InspectLayer[] } {
  return JSON.parse(cli('inspect', model, '--json'));
}

export interface MapEntry {
  scheme: string;
  rate: number;
  block?: [number, number];
  latency: { denseMs: number; prunedMs: number };
}

export function mapJson(model: string, target?: string): { target: string; layers: Record<string, MapEntry> } {
  return JSON.parse(cli('map', model, '--json', ...(target ? ['--target', target] : [])));
}

/** Layer ids of a corpus model as Python's onnx reference found them (scripts/corpora/reference.py). */
export function referenceLayerIds(model: string): string[] {
  const entry = loadManifest().entries.find((e) => path.resolve(e.path) === path.resolve(model));
  if (!entry?.layers) throw new Error(`no reference layers for ${model} in test/corpora/manifest.json (run scripts/setup-reference.sh)`);
  return entry.layers.map((l) => l.id);
}

/**
 * Lines (0-based) of a text view whose node is named one of `ids`, found by reading the text the
 * way a person would: a node line starts with its name in brackets, `[name]` or `["name"]`.
 */
export function nodeLinesByName(text: string, ids: readonly string[]): Map<string, number> {
  const wanted = new Set(ids);
  const lines = new Map<string, number>();
  text.split('\n').forEach((line, i) => {
    const m = /^\s*\[(?:"((?:[^"\\]|\\.)*)"|([A-Za-z_][A-Za-z0-9_]*))\]/.exec(line);
    const name = m ? (m[1] !== undefined ? JSON.parse(`"${m[1]}"`) : m[2]) : undefined;
    if (name !== undefined && wanted.has(name) && !lines.has(name)) lines.set(name, i);
  });
  return lines;
}

const made: string[] = [];
process.on('exit', () => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary folder, removed when the test process exits. */
export function tempDir(prefix = 'prunemap-lsp-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** A copy of a model in a fresh temporary folder. */
export function copyModel(model: string, name = path.basename(model)): string {
  const out = path.join(tempDir(), name);
  fs.copyFileSync(model, out);
  return out;
}

/** "2.94" in a hover, as a number. */
export function threeDigits(x: number): number {
  return Number(Number(x.toPrecision(6)).toPrecision(3));
}
