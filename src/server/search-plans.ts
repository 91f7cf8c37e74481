// The search plan of each model (prunemap/search keeps it here) and what the editor shows of it:
// the rule-based plan and the searched plan side by side, both estimated on the active target so
// their figures compare, and prunemap/adoptSearchPlan, which makes the searched plan the current
// plan by turning every layer's entry into an override (so prune, savePlan and the annotations use
// it without a second notion of "current plan"). A search plan belongs to one version of the model
// file: when the file changes it is dropped, as its layers may no longer fit.

import * as path from 'node:path';
import { LSPErrorCodes, ResponseError } from 'vscode-languageserver/node';
import { estimateLayer } from '../core/latency/estimate';
import type { DeviceProfile } from '../core/latency/profiles';
import type { Plan } from '../core/plan';
import { specOf, type SchemeSpec } from '../core/schemes/scheme';
import type { AdoptSearchPlanResult, ModelParams } from '../protocol/messages';
import type { ComparedEntry, ComparedTotals, SchemeSpec as WireSpec, SearchComparison } from '../protocol/types';
import { sameStamp, stampOf, type AnalysedLayer, type FileStamp } from './analysis';
import { round } from './plan-state';
import type { Session } from './session';

/** A finished search: the plan, what it was asked for, and the version of the model it was made for. */
export interface SearchedPlan {
  readonly plan: Plan;
  readonly goal: SearchComparison['goal'];
  readonly stamp: FileStamp | undefined;
}

const bySession = new WeakMap<Session, Map<string, SearchedPlan>>();

function plansOf(session: Session): Map<string, SearchedPlan> {
  let plans = bySession.get(session);
  if (!plans) bySession.set(session, (plans = new Map()));
  return plans;
}

export function keepSearchPlan(session: Session, model: string, searched: SearchedPlan): void {
  plansOf(session).set(model, searched);
}

/** The model's search plan, when one was made for the file as it is now. */
export function searchPlanOf(session: Session, model: string): SearchedPlan | undefined {
  const plans = plansOf(session);
  const searched = plans.get(model);
  if (searched && !sameStamp(searched.stamp, stampOf(model))) {
    plans.delete(model);
    return undefined;
  }
  return searched;
}

/** prunemap/searchResult: the comparison, or null before any search of the model. */
export function searchResult(session: Session, params: ModelParams): SearchComparison | null {
  const model = session.modelPathOf(params?.uri);
  const searched = searchPlanOf(session, model);
  return searched ? compare(session, model, searched) : null;
}

/** prunemap/adoptSearchPlan: every layer takes the search plan's entry as an override. The caller refreshes the annotations. */
export function adoptSearchPlan(session: Session, params: ModelParams): AdoptSearchPlanResult & { model: string } {
  const model = session.modelPathOf(params?.uri);
  const searched = searchPlanOf(session, model);
  if (!searched) {
    throw new ResponseError(LSPErrorCodes.RequestFailed, `no search plan for ${path.basename(model)}; run "Search Pruning Plan…" (prunemap/search) first`);
  }
  const view = session.view(model);
  for (const l of view.analysis.layers) session.overrides.set(model, l.layer.id, searchSpecOf(searched.plan, l).spec);
  return { model, totals: { ...session.view(model).plan.totals } };
}

/** The rule-based and the searched plan side by side, estimated on the active target. */
export function compare(session: Session, model: string, searched: SearchedPlan): SearchComparison {
  const view = session.view(model);
  const { profile, rules } = view.plan;
  const layers: SearchComparison['layers'] = [];
  const ruleSide = new Totals();
  const searchSide = new Totals();
  let adopted = true;
  for (const l of view.analysis.layers) {
    const id = l.layer.id;
    const planned = rules.plan?.layers[id];
    const ruleSpec = planned ? specOf(planned) : { scheme: 'dense' as const, rate: 0 };
    const ruleReason = planned ? (planned.reason ?? '') : (rules.error ?? 'not in the rule-based plan, so it stays dense');
    const search = searchSpecOf(searched.plan, l);
    const rulesEstimate = estimate(l, ruleSpec, profile);
    const searchEstimate = estimate(l, search.spec, profile);
    ruleSide.add(l, ruleSpec, rulesEstimate);
    searchSide.add(l, search.spec, searchEstimate);
    layers.push({ id, rules: comparedEntry(ruleSpec, ruleReason, rulesEstimate), search: comparedEntry(search.spec, search.reason, searchEstimate) });
    const current = view.plan.entries.get(id);
    if (!current || JSON.stringify(specOf(current.spec)) !== JSON.stringify(search.spec)) adopted = false;
  }
  const proxy = accuracyProxyOf(searched.plan);
  return {
    goal: { ...searched.goal },
    searchedTarget: searched.plan.target,
    target: profile.id,
    ...(rules.error ? { rulesError: rules.error } : {}),
    layers,
    rules: ruleSide.totals(),
    search: { ...searchSide.totals(), ...(proxy !== undefined ? { accuracyProxy: proxy } : {}) },
    adopted,
  };
}

/** A layer's spec in the search plan (a layer the plan does not list stays dense, as in plan files). */
function searchSpecOf(plan: Plan, l: AnalysedLayer): { spec: SchemeSpec; reason: string } {
  const entry = Object.prototype.hasOwnProperty.call(plan.layers, l.layer.id) ? plan.layers[l.layer.id] : undefined;
  if (!entry) return { spec: { scheme: 'dense', rate: 0 }, reason: 'not in the search plan, so it stays dense' };
  return { spec: specOf(entry), reason: entry.reason ?? '' };
}

/** The layer's milliseconds dense and under `spec` on the profile. */
function estimate(l: AnalysedLayer, spec: SchemeSpec, profile: DeviceProfile): { denseMs: number; prunedMs: number } {
  const denseMs = estimateLayer(l.layer, 'dense', profile).ms;
  return { denseMs, prunedMs: spec.scheme === 'dense' ? denseMs : estimateLayer(l.layer, spec, profile).ms };
}

/** With the 6 significant digits plans hold. */
function comparedEntry(spec: SchemeSpec, reason: string, ms: { denseMs: number; prunedMs: number }): ComparedEntry {
  return { ...(spec as WireSpec), reason, latency: { denseMs: round(ms.denseMs), prunedMs: round(ms.prunedMs) } };
}

/** Sums over the layers, as plan-state.ts sums the current plan. */
class Totals {
  private denseMs = 0;
  private prunedMs = 0;
  private weights = 0;
  private kept = 0;

  add(l: AnalysedLayer, spec: SchemeSpec, ms: { denseMs: number; prunedMs: number }): void {
    this.denseMs += ms.denseMs;
    this.prunedMs += ms.prunedMs;
    this.weights += l.weights;
    this.kept += l.weights * (1 - spec.rate);
  }

  totals(): ComparedTotals {
    return {
      denseMs: round(this.denseMs), prunedMs: round(this.prunedMs),
      speedup: this.prunedMs > 0 ? round(this.denseMs / this.prunedMs) : 1,
      compression: this.kept > 0 ? round(this.weights / this.kept) : 1,
    };
  }
}

/** The accuracy proxy the search reports in its summary, when it does. */
function accuracyProxyOf(plan: Plan): number | undefined {
  const value = (plan.summary as { accuracyProxy?: unknown } | undefined)?.accuracyProxy;
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
