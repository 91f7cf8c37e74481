// ModelViews for the browser tests, derived from the CLI's own output on a real model
// (`prunemap inspect --json` and `prunemap map --json`, docs/cli.md) and the target profiles —
// independent of the webview's code, so the tests compare the page with the engine's numbers.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LayerRow, ModelView, SchemeId, TargetInfo } from '../../src/protocol/webview';

export const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');

export interface InspectLayer {
  id: string;
  op: string;
  weightShape: number[];
  group: number;
  kernel: number[];
  inputShape: (number | string | null)[] | null;
  outputShape: (number | string | null)[] | null;
  params: number;
  macs: number;
}

export interface InspectOutput {
  layers: InspectLayer[];
  totalParams: number;
  totalMacs: number;
}

export interface MapLayer {
  scheme: SchemeId;
  rate: number;
  block?: [number, number];
  n?: number;
  m?: number;
  reason: string;
  latency: { denseMs: number; prunedMs: number };
}

export interface MapOutput {
  model: string;
  target: string;
  layers: Record<string, MapLayer>;
  summary: { denseMs: number; prunedMs: number; speedup: number; compression: number };
}

export interface CliOutputs {
  inspect: InspectOutput;
  map: MapOutput;
  targets: TargetInfo[];
}

function cliJson<T>(...args: string[]): T {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  return JSON.parse(execFileSync(process.execPath, [CLI, ...args, '--json'], { encoding: 'utf8' })) as T;
}

export function readTargets(): TargetInfo[] {
  const dir = path.join(ROOT, 'src', 'core', 'latency', 'profiles');
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as { id: string; name: string })
    .map(({ id, name }) => ({ id, name }));
}

export function runCli(model: string): CliOutputs {
  const file = path.join(ROOT, model);
  return { inspect: cliJson<InspectOutput>('inspect', file), map: cliJson<MapOutput>('map', file), targets: readTargets() };
}

/**
 * The test's stand-in for the server's feasibility check: every scheme, pattern only for 3×3
 * convs with group 1 (DOMAIN.md §3.4), nm only when the input channels divide by 4.
 */
export function feasibleSchemesOf(layer: InspectLayer): SchemeId[] {
  const is3x3 = layer.kernel.length === 2 && layer.kernel[0] === 3 && layer.kernel[1] === 3 && layer.group === 1;
  const channels = layer.weightShape[1] ?? 0;
  const all: SchemeId[] = ['dense', 'unstructured', 'filter', 'channel', 'pattern', 'block-punched', 'block-bcr', 'nm'];
  return all.filter((s) => (s !== 'pattern' || is3x3) && (s !== 'nm' || channels % 4 === 0));
}

/** The ModelView the extension would send for this model: inspect's layers joined with map's plan. */
export function viewFromCli({ inspect, map, targets }: CliOutputs): ModelView {
  const layers: LayerRow[] = inspect.layers.map((l) => {
    const planned = map.layers[l.id];
    if (!planned) throw new Error(`map --json has no entry for layer ${l.id}`);
    const row: LayerRow = {
      id: l.id,
      op: l.op,
      inputShape: l.inputShape,
      outputShape: l.outputShape,
      weightShape: l.weightShape,
      macs: l.macs,
      params: l.params,
      scheme: planned.scheme,
      rate: planned.rate,
      denseMs: planned.latency.denseMs,
      prunedMs: planned.latency.prunedMs,
      reason: planned.reason,
      feasibleSchemes: feasibleSchemesOf(l),
    };
    if (planned.block) row.block = planned.block;
    if (planned.n !== undefined) row.n = planned.n;
    if (planned.m !== undefined) row.m = planned.m;
    return row;
  });
  return {
    fileName: map.model,
    summary: { params: inspect.totalParams, macs: inspect.totalMacs, ...map.summary },
    target: map.target,
    targets,
    layers,
    busy: false,
  };
}

/** A DenseNet-sized (or larger) model: the real rows repeated under new ids. */
export function largeView(base: ModelView, count: number): ModelView {
  const layers = Array.from({ length: count }, (_, i) => {
    const row = base.layers[i % base.layers.length]!;
    return { ...row, id: `${row.id}#${i + 1}`, macs: row.macs + i, denseMs: row.denseMs * (1 + (i % 7) / 10) };
  });
  return { ...base, layers };
}
