// prunemap/analyze and prunemap/layerDetails: a model's summary, layers and current plan as plain
// weight-free JSON (src/protocol/types.ts), and one layer in detail with its alternatives. Also the
// conversions from the server's plan state to those wire shapes.

import { ErrorCodes, ResponseError } from 'vscode-languageserver/node';
import { profileIds } from '../core/latency/profiles';
import { closest } from '../core/plan-validate';
import type { AnalyzeResult, LayerDetailsParams, LayerDetailsResult, ModelParams } from '../protocol/messages';
import type { CurrentPlan, PlanEntry, PlanProblem, SchemeSpec as WireSpec } from '../protocol/types';
import { alternativesFor, feasibleSchemes } from './alternatives';
import type { AnalysedLayer, ModelAnalysis } from './analysis';
import { layerMarkdown } from './hover';
import { specOf } from '../core/schemes/scheme';
import { round, type CurrentEntry, type PlanState } from './plan-state';
import type { ModelView, Session } from './session';
import { fileUriOf, textViewUriOf } from './uris';

export function analyze(session: Session, params: ModelParams): AnalyzeResult {
  const model = session.modelPathOf(params?.uri);
  const view = session.view(model);
  return { uri: fileUriOf(model), textUri: textViewUriOf(model), summary: view.analysis.summary, plan: wirePlan(view.plan, view.analysis) };
}

export function layerDetails(session: Session, params: LayerDetailsParams): LayerDetailsResult {
  const view = session.view(session.modelPathOf(params?.uri));
  const l = layerOf(view, params.layer);
  const entry = view.plan.entries.get(l.layer.id) as CurrentEntry;
  const rules = view.plan.rules.plan?.layers[l.layer.id];
  const alternatives = alternativesFor(l, entry.spec, view.plan.profile, session.settings).map((a) => ({
    ...(specOf(a.spec) as WireSpec),
    latency: { denseMs: a.denseMs, prunedMs: a.prunedMs },
    speedup: round(a.denseMs / a.prunedMs),
  }));
  return {
    layer: view.analysis.summary.layers.find((s) => s.id === l.layer.id) as LayerDetailsResult['layer'],
    entry: wireEntry(entry, l),
    ...(rules && rules.latency ? { rules: { ...(specOf(rules) as WireSpec), reason: rules.reason ?? '', latency: { ...rules.latency }, source: 'rules' as const, feasibleSchemes: feasibleSchemes(l) } } : {}),
    alternatives,
    markdown: layerMarkdown(session, view, l),
  };
}

/** The layer a request names, or an InvalidParams error naming the closest id. */
export function layerOf(view: ModelView, id: unknown): AnalysedLayer {
  const a: ModelAnalysis = view.analysis;
  if (typeof id !== 'string') throw new ResponseError(ErrorCodes.InvalidParams, `"layer" must be a layer id (a string), not ${JSON.stringify(id)}`);
  const l = a.byId.get(id);
  if (l) return l;
  const near = closest(id, [...a.byId.keys()]);
  const name = a.path.split(/[\\/]/).pop();
  throw new ResponseError(ErrorCodes.InvalidParams, `no layer "${id}" in ${name}${near ? `; did you mean "${near}"?` : a.layers.length ? '' : ' (it has no prunable layers)'}`);
}

export function wireEntry(e: CurrentEntry, l: AnalysedLayer): PlanEntry {
  return {
    ...(specOf(e.spec) as WireSpec),
    reason: e.reason,
    latency: latencyOf(e),
    source: e.source,
    ...(e.note ? { note: e.note } : {}),
    feasibleSchemes: feasibleSchemes(l),
  };
}

/** Dense and pruned milliseconds with the 6 digits plans hold. */
export function latencyOf(e: CurrentEntry): { denseMs: number; prunedMs: number } {
  return { denseMs: round(e.dense.ms), prunedMs: round(e.pruned.ms) };
}

export function wirePlan(p: PlanState, a: ModelAnalysis): CurrentPlan {
  const layers: Record<string, PlanEntry> = {};
  // defineProperty keeps an id such as "__proto__" an ordinary key.
  for (const l of a.layers) {
    const e = p.entries.get(l.layer.id) as CurrentEntry;
    Object.defineProperty(layers, l.layer.id, { value: wireEntry(e, l), enumerable: true, configurable: true, writable: true });
  }
  const problems: PlanProblem[] = p.planFile.problems.map((x) => ({
    severity: x.severity, message: x.message, path: x.path, line: x.range.start.line - 1, character: x.range.start.column - 1,
  }));
  return {
    source: p.source,
    ...(p.planFile.stamp ? { file: fileUriOf(p.planFile.file) } : {}),
    problems,
    ...(p.source === 'rules' && p.rules.error ? { error: p.rules.error } : {}),
    target: p.profile.id,
    basis: p.profile.basis,
    targets: [...profileIds],
    compression: p.compression,
    layers,
    totals: { ...p.totals },
  };
}
