// prunemap/prune: writes the pruned model with work-done progress and cancellation, as
// `prunemap prune` does: the plan is checked first, then the writer streams the output and
// computes each layer's masks as it reaches its weights. The stream writes asynchronously piece by
// piece, so hovers and other requests are answered while a big model is pruned, and a cancel
// ($/cancelRequest or window/workDoneProgress/cancel) is seen within one piece: it aborts the
// writer's signal, which removes its temporaries — a cancelled prune leaves no output file.

import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  ErrorCodes, LSPErrorCodes, ResponseError,
  type CancellationToken, type WorkDoneProgressReporter, type WorkDoneProgressServerReporter,
} from 'vscode-languageserver/node';
import { ModelError } from '../core/errors';
import { findLayers } from '../core/layers';
import { loadModel, type LoadedModel } from '../core/onnx/load';
import type { Plan, PlanLayer } from '../core/plan';
import { readPlanFile } from '../core/plan-io';
import { validatePlanText } from '../core/plan-validate';
import { prepareMasks } from '../core/prune/masks';
import { defaultOutputPath } from '../core/prune/output';
import { writePrunedModel } from '../core/prune/write';
import type { PruneParams } from '../protocol/messages';
import type { PruneReport } from '../protocol/types';
import { specOf } from '../core/schemes/scheme';
import type { Session } from './session';
import { outputFolderFor } from './settings';
import { pathOfFileUri } from './uris';

export async function prune(session: Session, params: PruneParams, cancel: CancellationToken): Promise<PruneReport> {
  const model = session.modelPathOf(params?.uri);
  const view = session.view(model); // analyses (and reports a bad model) before any progress starts
  if (params.plan === undefined && view.plan.source === 'rules' && view.plan.rules.error) {
    // As `prunemap prune` without --plan: no rule-based plan, nothing written.
    throw new ResponseError(LSPErrorCodes.RequestFailed, view.plan.rules.error);
  }
  const output = outputPath(session, model, params.output, params.force === true);
  const progress = await progressFor(session, params);
  const controller = new AbortController();
  const abort = () => controller.abort();
  const subscriptions = [cancel.onCancellationRequested(abort), 'token' in progress ? progress.token.onCancellationRequested(abort) : undefined];
  progress.begin(`Pruning ${path.basename(model)}`, 0, undefined, true);
  let loaded: LoadedModel | undefined;
  try {
    // A fresh load: the writer reads the file while the cache may drop (and close) its analysis.
    loaded = loadModel(model);
    const layers = findLayers(loaded.model, loaded.tensors);
    const planFile = params.plan === undefined ? undefined : pathOfFileUri(params.plan, 'plan file');
    const planName = planFile === undefined ? `current plan for ${path.basename(model)}` : path.basename(planFile);
    const plan = planFile === undefined ? currentPlanOf(view.plan.entries) : readPlan(planFile, loaded.model, layers);
    // Checked now (unknown layer, infeasible scheme, weights that cannot be patched); each layer's
    // masks are computed when the writer reaches its weights, between its asynchronous writes.
    const masks = prepareMasks(loaded, layers, plan, planName);
    const report = await writePrunedModel(loaded, masks, output, {
      signal: controller.signal,
      force: params.force === true,
      layers,
      onProgress: (done, total) => progress.report(percent(done, total), `${done} of ${total} weight tensors`),
    });
    session.log.info(`pruned ${model} → ${report.output}`);
    return { ...report, dataFiles: [...report.dataFiles], layers: report.layers.map((l) => ({ ...l })), totals: { ...report.totals } };
  } catch (err) {
    if (controller.signal.aborted) throw new ResponseError(LSPErrorCodes.RequestCancelled, `prune of ${path.basename(model)} cancelled; no output was written`);
    throw err;
  } finally {
    loaded?.close();
    progress.done();
    for (const s of subscriptions) s?.dispose();
  }
}

/** The output: as given, else the CLI's default (`<name>.pruned.onnx` beside the model) or the same name in `outputFolder`. */
function outputPath(session: Session, model: string, output: string | undefined, force: boolean): string {
  let out: string;
  if (output !== undefined) out = pathOfFileUri(output, 'output model');
  else {
    const loaded = session.view(model).analysis.loaded;
    const beside = defaultOutputPath(loaded.model);
    const folder = outputFolderFor(session.settings, model);
    out = folder ? path.join(folder, path.relative(path.dirname(model), beside)) : beside;
  }
  if (sameFile(out, model)) {
    throw new ResponseError(ErrorCodes.InvalidParams, `${out} is the model itself; PruneMap never writes over its input: give another output`);
  }
  if (!force && fs.existsSync(out)) {
    throw new ResponseError(LSPErrorCodes.RequestFailed, `${out} already exists; pass "force": true to replace it, or give another output`);
  }
  return out;
}

/** Progress through the client's token when it sent one, else one the server creates (when the client supports it). */
export async function progressFor(session: Session, params: PruneParams): Promise<WorkDoneProgressReporter | WorkDoneProgressServerReporter> {
  if (params.workDoneToken !== undefined) return session.connection.window.attachWorkDoneProgress(params.workDoneToken);
  return session.connection.window.createWorkDoneProgress();
}

/** The current plan (with overrides) as a plan the mask builder takes. */
export function currentPlanOf(entries: ReadonlyMap<string, { readonly spec: PlanLayer }>): Plan {
  const layers: Record<string, PlanLayer> = {};
  for (const [id, e] of entries) Object.defineProperty(layers, id, { value: specOf(e.spec), enumerable: true, configurable: true, writable: true });
  return { model: '', target: '', layers };
}

/** A plan file checked against the model: its first error as one line (file:line:column), like the CLI. */
export function readPlan(file: string, model: Parameters<typeof validatePlanText>[1], layers: Parameters<typeof validatePlanText>[2]): Plan {
  const { text } = readPlanFile(file);
  const { plan, problems } = validatePlanText(text, model, layers, { modelPath: model.path, planPath: file });
  const first = problems.find((p) => p.severity === 'error');
  if (first || !plan) {
    throw new ModelError(first?.message ?? 'invalid plan', `${file}:${first?.range.start.line ?? 1}:${first?.range.start.column ?? 1}`, 'Fix the plan there and prune again.');
  }
  return plan;
}

function percent(done: number, total: number): number {
  return total > 0 ? Math.min(100, (100 * done) / total) : 100;
}

function sameFile(a: string, b: string): boolean {
  if (path.resolve(a) === path.resolve(b)) return true;
  try {
    const [x, y] = [fs.statSync(a), fs.statSync(b)];
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}
