// What the search may choose for each prunable layer: a few scheme options (scheme + parameters),
// each with the rates it allows and the latency model's estimate at every one of them. Options and
// rates that save no estimated time are left out (they could only cost accuracy).
//   pattern       3×3 conv, group 1, when the target has pattern kernels; the model-wide library
//                 (as `map` chooses it); rates from 5/9
//   block-punched the smallest candidate block within 5% of the best predicted speedup (R3 of map)
//   block-bcr     likewise
//   nm            2:4, 1:4 and 1:8 where the input channels allow (rate exactly 1 − n/m)
//   unstructured  any rate of the grid (only high rates save time on most targets)
//   filter, channel  only where the graph stays consistent once channels are removed (graph-deps.ts)
// Options that save less than a tenth of an average layer's estimated time even at their highest
// rate are dropped too (the caller searches again without this cut when the budget needs them). A layer sharing its weight tensor with another layer stays dense: both would need one entry.

import { estimateLayer } from '../latency/estimate';
import type { DeviceProfile } from '../latency/profiles';
import type { Layer } from '../layers';
import type { Model } from '../onnx/model';
import type { TensorReader } from '../onnx/tensor-data';
import { getScheme } from '../schemes/registry';
import type { SchemeId, SchemeSpec } from '../schemes/scheme';
import { geometryOf } from '../schemes/weight-matrix';
import { GraphDeps } from './graph-deps';
import { patternLibraryOf } from './pattern-library';
import { ruleConstants, type Block } from './rules';

/** Rates the search tries: 0.05 … 0.95 in steps of 0.05 (capped like map's at 0.95). */
export const RATE_GRID: readonly number[] = Array.from({ length: 19 }, (_, i) => (i + 1) / 20);
const PATTERN_FLOOR = 0.5556; // 5/9 rounded up to the plan's 4 decimals
/** An option must be able to save this share of an average layer's estimated time. */
export const MIN_SAVING = 0.1;
const NM_SHAPES: readonly [number, number][] = [[2, 4], [1, 4], [1, 8]];

export interface SchemeOption {
  /** For reasons: "pattern (8 shapes)", "block-punched (8,4)", "nm". */
  readonly label: string;
  readonly scheme: SchemeId;
  /** Allowed rates, ascending, each saving estimated time. */
  readonly rates: readonly number[];
  /** Estimated ms at each rate. */
  readonly ms: readonly number[];
  spec(rate: number): SchemeSpec;
}

export interface LayerSpace {
  readonly layer: Layer;
  readonly weights: number;
  readonly denseMs: number;
  readonly options: readonly SchemeOption[];
  /** Why the layer has no options, when it has none. */
  readonly noOptionsWhy?: string;
}

export interface SearchSpace {
  readonly layers: readonly LayerSpace[];
  readonly library: readonly number[];
}

/**
 * `maxOptions`: per layer, keep only that many options, those that can save the most time;
 * `minSaving`: the share of an average layer's time an option must be able to save (0: keep all).
 */
export function buildSearchSpace(model: Model, layers: readonly Layer[], tensors: TensorReader, profile: DeviceProfile, maxOptions = Infinity, minSaving = MIN_SAVING): SearchSpace {
  const deps = new GraphDeps(model, layers);
  const weightUsers = new Map<string, number>();
  for (const l of layers) weightUsers.set(l.weightTensor.name, (weightUsers.get(l.weightTensor.name) ?? 0) + 1);
  const patternLayers = profile.supports.pattern ? layers.filter((l) => ok(l, { scheme: 'pattern', rate: 0.75, patterns: ruleConstants.patterns })) : [];
  const library = patternLayers.length ? patternLibraryOf(patternLayers, tensors, ruleConstants.patterns, ruleConstants.patternSample).library : [];

  const spaces = layers.map((layer): LayerSpace => {
    const geometry = geometryOf(layer);
    const weights = geometry.matrices.reduce((n, m) => n + m.rows * m.channels * m.kernel, 0);
    const denseMs = estimateLayer(layer, 'dense', profile).ms;
    if ((weightUsers.get(layer.weightTensor.name) ?? 0) > 1) {
      return { layer, weights, denseMs, options: [], noOptionsWhy: 'its weight is shared with another layer, and the search leaves shared weights dense' };
    }
    const raw: Omit<SchemeOption, 'ms'>[] = [];
    const grid = (from = 0) => RATE_GRID.filter((r) => r >= from);
    if (patternLayers.includes(layer) && library.length) {
      const lib = [...library];
      raw.push({ label: `pattern (${lib.length} shapes)`, scheme: 'pattern', rates: [PATTERN_FLOOR, ...grid(0.56)], spec: (rate) => ({ scheme: 'pattern', rate, patterns: lib.length, library: lib }) });
    }
    for (const kind of ['block-punched', 'block-bcr'] as const) {
      const block = chooseBlock(layer, kind, profile);
      if (block) raw.push({ label: `${kind} (${block[0]},${block[1]})`, scheme: kind, rates: grid(), spec: (rate) => ({ scheme: kind, rate, block }) });
    }
    const nmRates = NM_SHAPES.filter(([n, m]) => ok(layer, { scheme: 'nm', rate: 1 - n / m, n, m }));
    if (nmRates.length) {
      raw.push({
        label: 'n:m', scheme: 'nm', rates: nmRates.map(([n, m]) => 1 - n / m),
        spec: (rate) => {
          const [n, m] = nmRates.find(([a, b]) => Math.abs(1 - a / b - rate) < 1e-9) ?? nmRates[0];
          return { scheme: 'nm', rate: 1 - n / m, n, m };
        },
      });
    }
    raw.push({ label: 'unstructured', scheme: 'unstructured', rates: grid(), spec: (rate) => ({ scheme: 'unstructured', rate }) });
    if (deps.filterDependency(layer).ok) raw.push({ label: 'filter', scheme: 'filter', rates: grid(), spec: (rate) => ({ scheme: 'filter', rate }) });
    if (deps.channelDependency(layer).ok) raw.push({ label: 'channel', scheme: 'channel', rates: grid(), spec: (rate) => ({ scheme: 'channel', rate }) });

    const options: SchemeOption[] = [];
    for (const o of raw) {
      const rates: number[] = [], ms: number[] = [];
      for (const rate of o.rates) {
        const spec = o.spec(rate);
        if (!ok(layer, spec)) continue;
        const t = estimateLayer(layer, spec, profile).ms;
        if (t < denseMs * (1 - 1e-6)) {
          rates.push(rate);
          ms.push(t);
        }
      }
      if (rates.length) options.push({ ...o, rates, ms });
    }
    return options.length ? { layer, weights, denseMs, options } : { layer, weights, denseMs, options, noOptionsWhy: `no scheme saves estimated time on this layer on ${profile.id}` };
  });
  // Options that can save only a sliver of the model's time would cost probes and accuracy for nothing.
  const least = (minSaving * spaces.reduce((n, s) => n + s.denseMs, 0)) / spaces.length;
  const layersOut = spaces.map((s): LayerSpace => {
    if (!s.options.length) return s;
    const saving = (o: SchemeOption) => s.denseMs - Math.min(...o.ms);
    let options = s.options.filter((o) => saving(o) >= least);
    if (options.length > maxOptions) {
      const kept = new Set([...options].sort((a, b) => saving(b) - saving(a)).slice(0, maxOptions));
      options = options.filter((o) => kept.has(o));
    }
    return options.length ? { ...s, options } : { ...s, options, noOptionsWhy: `pruning it saves under ${minSaving * 100}% of an average layer's estimated time on ${profile.id}` };
  });
  return { layers: layersOut, library };
}

function ok(layer: Layer, spec: SchemeSpec): boolean {
  const scheme = getScheme(spec.scheme);
  return !!scheme && scheme.feasible(geometryOf(layer), spec).ok;
}

/** R3 of map at rate 0.75: among feasible candidates (those dividing the layer when any does), the smallest within 5% of the best. */
function chooseBlock(layer: Layer, kind: 'block-punched' | 'block-bcr', profile: DeviceProfile): Block | undefined {
  const geometry = geometryOf(layer);
  const feasible = ruleConstants.blockCandidates.filter((block) => ok(layer, { scheme: kind, rate: 0.75, block }));
  const divides = (b: Block) => geometry.matrices.every((m) => m.rows % b[0] === 0 && (kind === 'block-punched' ? m.channels : m.channels * m.kernel) % b[1] === 0);
  const pool = feasible.some(divides) ? feasible.filter(divides) : feasible;
  if (!pool.length) return undefined;
  const dense = estimateLayer(layer, 'dense', profile).ms;
  const speedups = pool.map((block) => dense / estimateLayer(layer, { scheme: kind, rate: 0.75, block }, profile).ms);
  const best = Math.max(...speedups);
  let chosen: Block | undefined;
  pool.forEach((b, i) => {
    if (speedups[i] < (1 - ruleConstants.blockTolerance) * best) return;
    if (!chosen || b[0] * b[1] < chosen[0] * chosen[1]) chosen = b;
  });
  return chosen;
}
