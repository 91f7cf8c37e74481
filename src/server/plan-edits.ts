// Changes to the current plan: prunemap/setLayer (a per-layer override, checked with the scheme's
// own feasibility test — an invalid one is refused with one line and changes nothing),
// prunemap/setTarget (the active device profile) and prunemap/savePlan (the plan with its
// overrides written to a plan file, which then is the model's plan).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { ErrorCodes, ResponseError } from 'vscode-languageserver/node';
import { getProfile, profileIds } from '../core/latency/profiles';
import type { Plan, PlanLayer } from '../core/plan';
import { writePlanFile } from '../core/plan-io';
import { closest } from '../core/plan-validate';
import { describeSpec } from '../core/prune/masks';
import { getScheme, schemeIds } from '../core/schemes/registry';
import { specOf, type SchemeId, type SchemeSpec } from '../core/schemes/scheme';
import type { SavePlanParams, SavePlanResult, SetLayerParams, SetLayerResult, SetTargetParams, SetTargetResult } from '../protocol/messages';
import { latencyOf, layerOf, wireEntry } from './analyze';
import type { AnalysedLayer } from './analysis';
import { planFileOf, type CurrentEntry } from './plan-state';
import type { Session } from './session';
import { fileUriOf, pathOfFileUri } from './uris';

const PARAM_KEYS = ['block', 'n', 'm', 'patterns', 'library'] as const;
type ParamKey = (typeof PARAM_KEYS)[number];
const PARAMS_OF: Record<ParamKey, readonly SchemeId[]> = {
  block: ['block-punched', 'block-bcr'], n: ['nm'], m: ['nm'], patterns: ['pattern'], library: ['pattern'],
};

/** Applies an override; returns the layer's new entry. The model's paths are refreshed by the caller. */
export function setLayer(session: Session, params: SetLayerParams): SetLayerResult & { model: string } {
  const model = session.modelPathOf(params?.uri);
  const view = session.view(model);
  const l = layerOf(view, params.layer);
  const id = l.layer.id;
  if (params.reset === true) session.overrides.delete(model, id);
  else {
    const current = (view.plan.entries.get(id) as CurrentEntry).spec;
    session.overrides.set(model, id, overrideSpec(l, current, params, session.settings.compression, path.basename(model)));
  }
  const after = session.view(model).plan;
  return { model, layer: id, entry: wireEntry(after.entries.get(id) as CurrentEntry, l), totals: { ...after.totals } };
}

/** The spec a setLayer asks for, checked; omitted fields keep the layer's current values. */
function overrideSpec(l: AnalysedLayer, current: SchemeSpec, params: SetLayerParams, compression: number, modelName: string): SchemeSpec {
  const id = l.layer.id;
  const refuse = (why: string): never => {
    throw new ResponseError(ErrorCodes.InvalidParams, `layer "${id}" in ${modelName}: ${why}`);
  };
  const scheme = params.scheme ?? current.scheme;
  if (typeof scheme !== 'string' || !schemeIds.includes(scheme)) {
    const near = typeof scheme === 'string' ? closest(scheme, schemeIds) : undefined;
    refuse(`unknown scheme ${JSON.stringify(scheme)}; ${near ? `did you mean "${near}"? Schemes` : 'schemes'}: ${schemeIds.join(', ')}`);
  }
  const given = params.params ?? {};
  if (typeof given !== 'object' || given === null || Array.isArray(given)) refuse('"params" must be an object such as {"block": [8, 4]}');
  for (const key of Object.keys(given)) {
    if (!(PARAM_KEYS as readonly string[]).includes(key)) refuse(`unknown parameter "${key}"; parameters are ${PARAM_KEYS.join(', ')}`);
    if (!PARAMS_OF[key as ParamKey].includes(scheme)) refuse(`"${key}" is not used by scheme ${scheme} (only by ${PARAMS_OF[key as ParamKey].join(' and ')})`);
  }
  const rate = params.rate;
  if (rate !== undefined && !(typeof rate === 'number' && rate >= 0 && rate < 1)) {
    refuse(`rate ${JSON.stringify(rate)} is outside [0, 1): it is the fraction of the layer's weights set to zero`);
  }
  if (scheme === 'dense') {
    if (rate !== undefined && rate !== 0) refuse(`a dense layer has rate 0 (it is not pruned), not ${rate}; choose a scheme to prune it`);
    return { scheme: 'dense', rate: 0 };
  }
  // Parameters: the current ones when the scheme stays, then what was given; N:M defaults to 2:4.
  const spec: { -readonly [K in keyof SchemeSpec]: SchemeSpec[K] } = scheme === current.scheme ? { ...specOf(current) } : { scheme, rate: 0 };
  spec.scheme = scheme;
  if (scheme === 'nm') {
    spec.n ??= 2;
    spec.m ??= 4;
  }
  if (scheme !== current.scheme && (scheme === 'block-punched' || scheme === 'block-bcr') && current.block) spec.block = [current.block[0], current.block[1]];
  Object.assign(spec, given);
  spec.rate = rate ?? defaultRate(spec, current, compression);
  const f = getScheme(scheme)?.feasible(l.geometry, spec);
  if (!f) refuse(`scheme ${scheme} is not available in this build`);
  else if (!f.ok) refuse(`${describeSpec(spec)} is infeasible: ${f.reason}`);
  return spec;
}

/** A rate when none is given: N:M's own, else the layer's current rate, else the model's target rate. */
function defaultRate(spec: SchemeSpec, current: SchemeSpec, compression: number): number {
  if (spec.scheme === 'nm' && typeof spec.n === 'number' && typeof spec.m === 'number' && spec.m > 0) return 1 - spec.n / spec.m;
  if (current.scheme !== 'dense') return current.rate;
  return Math.round((1 - 1 / compression) * 1e4) / 1e4;
}

export function setTarget(session: Session, params: SetTargetParams): SetTargetResult {
  const target = params?.target;
  const profile = typeof target === 'string' ? getProfile(target) : undefined;
  if (!profile) {
    const near = typeof target === 'string' ? closest(target, profileIds) : undefined;
    throw new ResponseError(ErrorCodes.InvalidParams, `unknown target ${JSON.stringify(target)}; ${near ? `did you mean "${near}"? Targets` : 'targets'}: ${profileIds.join(', ')}`);
  }
  session.settings = { ...session.settings, target: profile.id };
  return { target: profile.id, basis: profile.basis, targets: [...profileIds] };
}

/** Writes the current plan (overrides included) and makes it the model's plan when it is the file beside the model. */
export function savePlan(session: Session, params: SavePlanParams): SavePlanResult & { model: string } {
  const model = session.modelPathOf(params?.uri);
  const out = params.output === undefined ? planFileOf(model) : pathOfFileUri(params.output, 'plan file');
  if (path.resolve(out) === path.resolve(model)) throw new ResponseError(ErrorCodes.InvalidParams, `the plan file would be the model itself (${out}); give another output`);
  if (isDirectory(out)) throw new ResponseError(ErrorCodes.InvalidParams, `${out} is a folder; give the plan file's path`);
  const view = session.view(model);
  const layers: Record<string, PlanLayer> = {};
  for (const [id, e] of view.plan.entries) {
    const entry: PlanLayer = { ...specOf(e.spec), reason: e.reason, latency: latencyOf(e) };
    Object.defineProperty(layers, id, { value: entry, enumerable: true, configurable: true, writable: true });
  }
  const modelName = path.relative(path.dirname(path.resolve(out)), model).split(path.sep).join('/');
  const plan: Plan = { model: modelName, modelSha256: view.analysis.sha256(), target: view.plan.profile.id, layers, summary: { ...view.plan.totals } };
  writePlanFile(out, plan);
  if (path.resolve(out) === planFileOf(model)) session.overrides.clear(model);
  return { model, uri: fileUriOf(out) };
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
