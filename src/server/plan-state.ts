// The current plan of a model, which every annotation shows:
//   base  = `<name>.prune.json` next to the model when it exists and has no error, else the
//           rule-based plan for the active target and compression;
//   then  = the user's overrides (prunemap/setLayer) on top, layer by layer.
// Each layer's latency is estimated on the active target (dense and under its scheme). The parts
// are memoised separately — mapping (tens of ms) per settings, the plan file per version of the
// file, the merge (microseconds per layer) per override — so an override never re-runs the mapper.

import * as path from 'node:path';
import { ModelError } from '../core/errors';
import { estimateLayer, type LayerEstimate } from '../core/latency/estimate';
import { getProfile, type DeviceProfile } from '../core/latency/profiles';
import { mapModel } from '../core/mapper/rules';
import type { Plan } from '../core/plan';
import { readPlanFile } from '../core/plan-io';
import { validatePlanText, type LocatedProblem } from '../core/plan-validate';
import { getScheme } from '../core/schemes/registry';
import { specOf, type SchemeSpec } from '../core/schemes/scheme';
import type { EntrySource } from '../protocol/types';
import { sameStamp, stampOf, type AnalysedLayer, type FileStamp, type ModelAnalysis } from './analysis';
import { mappingKey, type Settings } from './settings';

export interface CurrentEntry {
  readonly id: string;
  readonly spec: SchemeSpec;
  readonly reason: string;
  readonly source: EntrySource;
  /** The scheme's caveat when feasible with one (a partial last block). */
  readonly note?: string;
  readonly dense: LayerEstimate;
  readonly pruned: LayerEstimate;
}

export interface RulesPlan {
  readonly plan?: Plan;
  /** Why the mapper gave no plan (ModelError's line). */
  readonly error?: string;
}

export interface PlanFileState {
  /** `<name>.prune.json` next to the model. */
  readonly file: string;
  readonly stamp: FileStamp | undefined;
  /** The validated plan, when the file exists and has no error. */
  readonly plan?: Plan;
  /** Problems of the file (a file that cannot be read is one problem at 1:1). */
  readonly problems: readonly LocatedProblem[];
}

export interface PlanState {
  readonly source: 'rules' | 'file';
  readonly planFile: PlanFileState;
  readonly rules: RulesPlan;
  readonly profile: DeviceProfile;
  readonly compression: number;
  /** Every layer, in layer order. */
  readonly entries: ReadonlyMap<string, CurrentEntry>;
  readonly totals: { readonly denseMs: number; readonly prunedMs: number; readonly speedup: number; readonly compression: number };
}

/** Layer id → spec set by prunemap/setLayer, per model path, with a version per model. */
export class Overrides {
  private readonly byModel = new Map<string, Map<string, SchemeSpec>>();
  private readonly versions = new Map<string, number>();

  of(model: string): ReadonlyMap<string, SchemeSpec> {
    return this.byModel.get(model) ?? new Map();
  }
  version(model: string): number {
    return this.versions.get(model) ?? 0;
  }
  set(model: string, layer: string, spec: SchemeSpec): void {
    let m = this.byModel.get(model);
    if (!m) this.byModel.set(model, (m = new Map()));
    m.set(layer, spec);
    this.bump(model);
  }
  delete(model: string, layer: string): void {
    if (this.byModel.get(model)?.delete(layer)) this.bump(model);
  }
  clear(model: string): void {
    if (this.byModel.delete(model)) this.bump(model);
  }
  private bump(model: string): void {
    this.versions.set(model, this.version(model) + 1);
  }
}

/** The plan file the server uses for a model: `resnet18.onnx` → `resnet18.prune.json` beside it. */
export function planFileOf(modelPath: string): string {
  return path.join(path.dirname(modelPath), `${path.basename(modelPath).replace(/\.onnx$/i, '')}.prune.json`);
}

const rulesMemo = new WeakMap<ModelAnalysis, Map<string, RulesPlan>>();
const fileMemo = new WeakMap<ModelAnalysis, PlanFileState>();
const stateMemo = new WeakMap<ModelAnalysis, { key: string; state: PlanState }>();

export function currentPlan(a: ModelAnalysis, settings: Settings, overrides: Overrides): PlanState {
  const planFile = planFileState(a);
  const key = `${mappingKey(settings)}|${JSON.stringify(planFile.stamp ?? null)}|${overrides.version(a.path)}`;
  const memo = stateMemo.get(a);
  if (memo?.key === key) return memo.state;
  const state = buildState(a, settings, planFile, overrides.of(a.path));
  stateMemo.set(a, { key, state });
  return state;
}

function rulesPlan(a: ModelAnalysis, settings: Settings): RulesPlan {
  let byKey = rulesMemo.get(a);
  if (!byKey) rulesMemo.set(a, (byKey = new Map()));
  const key = mappingKey(settings);
  let result = byKey.get(key);
  if (!result) {
    try {
      const plan = mapModel(a.loaded.model, a.layers.map((l) => l.layer), a.loaded.tensors, {
        target: settings.target, compression: settings.compression, blockCandidates: settings.blockCandidates, modelName: path.basename(a.path),
      });
      result = { plan };
    } catch (err) {
      if (!(err instanceof ModelError)) throw err;
      result = { error: err.message };
    }
    byKey.set(key, result);
  }
  return result;
}

/** The model's plan file as it is on disk now, validated against the model (memoised per version of the file). */
function planFileState(a: ModelAnalysis): PlanFileState {
  const file = planFileOf(a.path);
  const stamp = stampOf(file);
  const memo = fileMemo.get(a);
  if (memo && sameStamp(memo.stamp, stamp)) return memo;
  const state = stamp ? readPlanState(a, file, stamp) : { file, stamp, problems: [] };
  fileMemo.set(a, state);
  return state;
}

function readPlanState(a: ModelAnalysis, file: string, stamp: FileStamp): PlanFileState {
  let read: ReturnType<typeof readPlanFile>;
  try {
    read = readPlanFile(file);
  } catch (err) {
    if (!(err instanceof ModelError)) throw err;
    const start = { offset: 0, line: 1, column: 1 };
    return { file, stamp, problems: [{ severity: 'error', path: '', message: err.what, range: { start, end: start } }] };
  }
  const { plan, problems } = validatePlanText(read.text, a.loaded.model, a.layers.map((l) => l.layer), validateOptions(a, file, read.json));
  return { file, stamp, plan, problems };
}

/** Options for validating a plan text against the model; the model is hashed only when the plan states a hash. */
export function validateOptions(a: ModelAnalysis, planPath: string, json: unknown): Parameters<typeof validatePlanText>[3] {
  const wantsHash = typeof json === 'object' && json !== null && typeof (json as { modelSha256?: unknown }).modelSha256 === 'string';
  return { modelPath: a.path, planPath, ...(wantsHash ? { modelSha256: a.sha256() } : {}) };
}

function buildState(a: ModelAnalysis, settings: Settings, planFile: PlanFileState, overrides: ReadonlyMap<string, SchemeSpec>): PlanState {
  const profile = getProfile(settings.target);
  if (!profile) throw new Error(`unknown target ${settings.target}`); // settings.ts only admits known ones
  const rules = rulesPlan(a, settings);
  const source = planFile.plan ? 'file' : 'rules';
  const base = planFile.plan ?? rules.plan;
  const fileName = path.basename(planFile.file);
  const entries = new Map<string, CurrentEntry>();
  let denseMs = 0, prunedMs = 0, weights = 0, kept = 0;
  for (const l of a.layers) {
    const id = l.layer.id;
    // An override made before the model changed on disk may no longer fit the layer: then it is ignored.
    const override = overrides.get(id);
    const misfit = override && override.scheme !== 'dense' ? getScheme(override.scheme)?.feasible(l.geometry, override) : undefined;
    const planned = base?.layers[id];
    let spec: SchemeSpec, reason: string, from: EntrySource;
    if (override && misfit?.ok !== false) {
      [spec, reason, from] = [override, 'set by you (override); the plan file and the rule-based mapper are not used for this layer', 'override'];
    } else if (planned) {
      [spec, reason, from] = [specOf(planned), planned.reason ?? (source === 'file' ? `from ${fileName}` : ''), source];
    } else {
      const why = source === 'file' ? `not listed in ${fileName}, so it stays dense` : (rules.error ?? 'no plan');
      [spec, reason, from] = [{ scheme: 'dense', rate: 0 }, why, source];
    }
    if (misfit?.ok === false) reason = `your override no longer fits the layer (${misfit.reason}), so it is ignored; ${reason}`;
    const entry = makeEntry(l, spec, reason, from, profile);
    entries.set(id, entry);
    denseMs += entry.dense.ms;
    prunedMs += entry.pruned.ms;
    weights += l.weights;
    kept += l.weights * (1 - spec.rate);
  }
  return {
    source, planFile, rules, profile, compression: settings.compression, entries,
    totals: { denseMs: round(denseMs), prunedMs: round(prunedMs), speedup: prunedMs > 0 ? round(denseMs / prunedMs) : 1, compression: kept > 0 ? round(weights / kept) : 1 },
  };
}

function makeEntry(l: AnalysedLayer, spec: SchemeSpec, reason: string, source: EntrySource, profile: DeviceProfile): CurrentEntry {
  const dense = estimateLayer(l.layer, 'dense', profile);
  const pruned = spec.scheme === 'dense' ? dense : estimateLayer(l.layer, spec, profile);
  const f = spec.scheme === 'dense' ? undefined : getScheme(spec.scheme)?.feasible(l.geometry, spec);
  const note = f?.ok ? f.note : undefined;
  return { id: l.layer.id, spec, reason, source, dense, pruned, ...(note ? { note } : {}) };
}

/** Latency figures as the mapper writes them in plans: 6 significant digits. */
export function round(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(6)) : x;
}
