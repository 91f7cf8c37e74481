// How numbers, shapes and schemes read in hints, hovers and symbols. Milliseconds have three
// significant digits, taken from the same 6-digit figures plans hold, so what a hover shows is the
// CLI's `map --json` latency rounded, never a different estimate.

import type { SchemeSpec } from '../core/schemes/scheme';
import { round } from './plan-state';

/** "2.94", "0.0512", "118": three significant digits of the plan's 6-digit figure. */
export function ms(x: number): string {
  return String(Number(round(x).toPrecision(3)));
}

export function speedup(denseMs: number, prunedMs: number): string {
  return `${prunedMs > 0 ? (round(denseMs) / round(prunedMs)).toFixed(1) : '∞'}×`;
}

export function percent(rate: number): string {
  return `${(rate * 100).toFixed(1)}%`;
}

/** "block-punched 8×4", "nm 2:4", "pattern (8 shapes)", "filter". */
export function schemeLabel(spec: SchemeSpec): string {
  if (spec.block) return `${spec.scheme} ${spec.block[0]}×${spec.block[1]}`;
  if (spec.scheme === 'nm') return `nm ${spec.n ?? '?'}:${spec.m ?? '?'}`;
  if (spec.scheme === 'pattern') {
    const count = spec.library?.length ?? spec.patterns;
    return count ? `pattern (${count} shapes)` : 'pattern';
  }
  return spec.scheme;
}

/** "11.7M", "9.5k", "512". */
export function count(n: number): string {
  const units: [number, string][] = [[1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [size, unit] of units) if (n >= size) return `${(n / size).toFixed(n / size >= 100 ? 0 : 1)}${unit}`;
  return String(n);
}

export function shape(dims: readonly unknown[] | null): string {
  return dims ? `[${dims.map((d) => (d === null || d === undefined ? '?' : String(d))).join(',')}]` : '?';
}

/** Markdown-safe inline text: escapes what would start emphasis, links, HTML or table cells. */
export function md(text: string): string {
  return text.replace(/([\\`*_[\]<>|])/g, '\\$1');
}

/** An inline code span that holds any text (a longer fence when the text has backticks). */
export function code(text: string): string {
  const fence = '`'.repeat((text.match(/`+/g) ?? []).reduce((n, run) => Math.max(n, run.length), 0) + 1);
  return fence.length > 1 ? `${fence} ${text} ${fence}` : `\`${text}\``;
}
