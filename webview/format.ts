// How numbers, shapes and scheme parameters read in the overview. Three significant digits
// everywhere: enough to compare layers, short enough for a table.

import type { Dim, LayerRow } from '../src/protocol/webview';

const significant = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 3 });
const SI = [
  [1e12, 'T'],
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'k'],
] as const;

/** 4640 → "4.64k", 1814073344 → "1.81G". */
export function formatCount(n: number): string {
  for (const [size, unit] of SI) {
    // Round first so that 999,950 reads "1M", not "1,000k".
    if (Math.abs(n) >= size * 0.9995) return `${significant.format(n / size)}${unit}`;
  }
  return significant.format(n);
}

/** Milliseconds: 0.0385 → "0.0385 ms". */
export function formatMs(ms: number): string {
  return `${significant.format(ms)} ms`;
}

/** A ratio: 1.2697 → "1.27×". */
export function formatTimes(x: number): string {
  return Number.isFinite(x) ? `${x.toFixed(2)}×` : '—';
}

/** A rate as plans write it (up to 4 decimals): 0.5556 → "0.5556", 0 → "0". */
export function formatRate(rate: number): string {
  return String(Math.round(rate * 1e4) / 1e4);
}

/** ["N", 16, 14, 14] → "N×16×14×14"; an unknown dim reads "?", an unknown shape "?". */
export function formatShape(shape: readonly Dim[] | null): string {
  if (shape === null) return '?';
  if (shape.length === 0) return 'scalar';
  return shape.map((d) => (d === null ? '?' : String(d))).join('×');
}

/** The scheme's parameters: "8×4" for a block, "2:4" for N:M, "" otherwise. */
export function formatSchemeParameters(row: Pick<LayerRow, 'block' | 'n' | 'm'>): string {
  if (row.block) return `${row.block[0]}×${row.block[1]}`;
  if (row.n !== undefined && row.m !== undefined) return `${row.n}:${row.m}`;
  return '';
}

/** Dense latency / pruned latency of a layer (1 when nothing changes). */
export function speedupOf(row: Pick<LayerRow, 'denseMs' | 'prunedMs'>): number {
  return row.prunedMs > 0 ? row.denseMs / row.prunedMs : 1;
}

/** The number of elements a shape describes, symbolic and unknown dims counted as 1 (as MACs are). */
export function elementsOf(shape: readonly Dim[] | null): number {
  return (shape ?? []).reduce<number>((n, d) => n * (typeof d === 'number' ? d : 1), 1);
}
