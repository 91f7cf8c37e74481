// The other schemes a layer could use, with their estimated latency on the active target, fastest
// first: what the hover's table and "Change scheme…" offer. Candidates are taken at the layer's
// current rate (or the model's target rate when the layer is dense); schemes whose rate is fixed
// by their structure (N:M 2:4) or floored (pattern, 5/9) use that rate instead.

import { estimateLayer } from '../core/latency/estimate';
import type { DeviceProfile } from '../core/latency/profiles';
import { ruleConstants } from '../core/mapper/rules';
import { getScheme, schemeIds } from '../core/schemes/registry';
import type { SchemeId, SchemeSpec } from '../core/schemes/scheme';
import type { AnalysedLayer } from './analysis';
import { round } from './plan-state';
import type { Settings } from './settings';

export interface AlternativeEstimate {
  readonly spec: SchemeSpec;
  readonly denseMs: number;
  readonly prunedMs: number;
}

/** Feasible alternatives to `current`, fastest first (at most `limit`). */
export function alternativesFor(l: AnalysedLayer, current: SchemeSpec, profile: DeviceProfile, settings: Settings, limit = Infinity): AlternativeEstimate[] {
  const rate = current.scheme !== 'dense' ? current.rate : round4(1 - 1 / settings.compression);
  const blocks = settings.blockCandidates ?? ruleConstants.blockCandidates;
  const candidates: SchemeSpec[] = [
    { scheme: 'unstructured', rate },
    { scheme: 'filter', rate },
    { scheme: 'channel', rate },
    { scheme: 'pattern', rate: Math.max(rate, Math.ceil(ruleConstants.patternFloor * 1e4) / 1e4), patterns: ruleConstants.patterns },
    ...blocks.map((b): SchemeSpec => ({ scheme: 'block-punched', rate, block: [b[0], b[1]] })),
    ...blocks.map((b): SchemeSpec => ({ scheme: 'block-bcr', rate, block: [b[0], b[1]] })),
    { scheme: 'nm', rate: 0.5, n: 2, m: 4 },
  ];
  const denseMs = round(estimateLayer(l.layer, 'dense', profile).ms);
  const out: AlternativeEstimate[] = [];
  for (const spec of candidates) {
    if (sameChoice(spec, current)) continue;
    const f = getScheme(spec.scheme)?.feasible(l.geometry, spec);
    if (!f?.ok) continue;
    out.push({ spec, denseMs, prunedMs: round(estimateLayer(l.layer, spec, profile).ms) });
  }
  return out.sort((a, b) => a.prunedMs - b.prunedMs).slice(0, limit);
}

/** Same scheme and structure (rates aside). */
function sameChoice(a: SchemeSpec, b: SchemeSpec): boolean {
  if (a.scheme !== b.scheme) return false;
  if (a.block || b.block) return !!a.block && !!b.block && a.block[0] === b.block[0] && a.block[1] === b.block[1];
  if (a.scheme === 'nm') return a.n === b.n && a.m === b.m;
  return true;
}

function round4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

/**
 * How much accuracy a scheme tends to cost at the same rate, in words: DOMAIN.md §4's order
 * unstructured < pattern < small block < large block < channel < filter (N:M, fine-grained, sits with pattern).
 */
export function accuracyRisk(spec: SchemeSpec): string {
  switch (spec.scheme) {
    case 'dense': return 'none';
    case 'unstructured': return 'lowest';
    case 'pattern':
    case 'nm': return 'low';
    case 'block-punched':
    case 'block-bcr': return spec.block && spec.block[0] * spec.block[1] > 16 ? 'medium-high' : 'medium';
    case 'channel': return 'high';
    case 'filter': return 'highest';
  }
}

const feasibleMemo = new WeakMap<AnalysedLayer, SchemeId[]>();

/** The schemes that can prune the layer with some parameters (dense always can), in schemeIds order. */
export function feasibleSchemes(l: AnalysedLayer): SchemeId[] {
  let ids = feasibleMemo.get(l);
  if (!ids) feasibleMemo.set(l, (ids = schemeIds.filter((id) => cannotPrune(l, id) === undefined)));
  return ids;
}

/** Why a scheme cannot prune the layer at all (tried with its most permissive parameters), or undefined when it can. */
export function cannotPrune(l: AnalysedLayer, id: SchemeId): string | undefined {
  if (id === 'dense') return undefined;
  const scheme = getScheme(id);
  if (!scheme) return 'not available in this build';
  const trial: SchemeSpec = id === 'pattern' ? { scheme: id, rate: 0.6 }
    : id === 'nm' ? { scheme: id, rate: 0.5, n: 2, m: 4 }
      : id === 'block-punched' || id === 'block-bcr' ? { scheme: id, rate: 0.5, block: [1, 1] }
        : { scheme: id, rate: 0.5 };
  const f = scheme.feasible(l.geometry, trial);
  return f.ok ? undefined : f.reason;
}
