// prunemap/search: searches a pruning plan for a speedup or a latency budget on the active target,
// with work-done progress and cancellation as prunemap/prune has them. The search (the engine's
// searchPlan) runs the user's model in onnxruntime on calibration inputs — no code from the model
// runs — and yields between candidates, so hovers and other requests are answered meanwhile and a
// cancel ($/cancelRequest or window/workDoneProgress/cancel) aborts its signal. A search writes no
// file; a cancelled one leaves the model's previous search plan as it was.

import * as path from 'node:path';
import {
  ErrorCodes, LSPErrorCodes, ResponseError,
  type CancellationToken, type WorkDoneProgressReporter, type WorkDoneProgressServerReporter,
} from 'vscode-languageserver/node';
import { defaultEffort, searchPlan, type SearchEffort } from '../core/mapper/search';
import type { SearchParams } from '../protocol/messages';
import type { SearchComparison } from '../protocol/types';
import { stampOf } from './analysis';
import { compare, keepSearchPlan } from './search-plans';
import type { Session } from './session';
import { pathOfFileUri } from './uris';

export async function search(session: Session, params: SearchParams, cancel: CancellationToken): Promise<SearchComparison> {
  const model = session.modelPathOf(params?.uri);
  const goal = goalOf(params, path.basename(model));
  const effort = effortOf(params, path.basename(model));
  session.view(model); // analyses (and reports a bad model) before any progress starts
  const calibration = params.calibration === undefined ? undefined : pathOfFileUri(params.calibration, 'calibration inputs');
  const stamp = stampOf(model);
  const progress = await progressFor(session, params);
  const controller = new AbortController();
  const abort = () => controller.abort();
  const subscriptions = [cancel.onCancellationRequested(abort), 'token' in progress ? progress.token.onCancellationRequested(abort) : undefined];
  progress.begin(`Searching a pruning plan for ${path.basename(model)}`, 0, undefined, true);
  try {
    const plan = await searchPlan(model, {
      target: session.settings.target,
      ...(goal.speedup !== undefined ? { speedup: goal.speedup } : { budgetMs: goal.budgetMs }),
      ...(calibration !== undefined ? { calibration } : {}),
      seed: goal.seed,
      signal: controller.signal,
      onProgress: (fraction, message) => progress.report(Math.max(0, Math.min(100, fraction * 100)), message),
    }, effort);
    const searched = { plan, goal, stamp };
    keepSearchPlan(session, model, searched);
    session.log.info(`searched a plan for ${model}: ${plan.summary ? `${plan.summary.speedup}× estimated, ${plan.summary.compression}× compression` : 'done'}`);
    return compare(session, model, searched);
  } catch (err) {
    if (controller.signal.aborted || (err as Error | undefined)?.name === 'AbortError') {
      throw new ResponseError(LSPErrorCodes.RequestCancelled, `search for ${path.basename(model)} cancelled; its plans are unchanged`);
    }
    throw err;
  } finally {
    progress.done();
    for (const s of subscriptions) s?.dispose();
  }
}

/** Exactly one of a speedup above 1 and a positive budget, and an integer seed (default 1). */
function goalOf(params: SearchParams, modelName: string): SearchComparison['goal'] {
  const refuse = (why: string): never => {
    throw new ResponseError(ErrorCodes.InvalidParams, `search for ${modelName}: ${why}`);
  };
  const { speedup, budgetMs, seed = 1 } = params ?? {};
  if ((speedup === undefined) === (budgetMs === undefined)) refuse('give exactly one goal: "speedup" (e.g. 2) or "budgetMs" (e.g. 5)');
  if (speedup !== undefined && !(typeof speedup === 'number' && Number.isFinite(speedup) && speedup > 1)) {
    refuse(`speedup ${JSON.stringify(speedup)} must be a number above 1 (the estimated dense / pruned latency)`);
  }
  if (budgetMs !== undefined && !(typeof budgetMs === 'number' && Number.isFinite(budgetMs) && budgetMs > 0)) {
    refuse(`budgetMs ${JSON.stringify(budgetMs)} must be a positive number of milliseconds`);
  }
  if (!(typeof seed === 'number' && Number.isSafeInteger(seed) && seed >= 0)) refuse(`seed ${JSON.stringify(seed)} must be a non-negative integer`);
  return speedup !== undefined ? { speedup, seed } : { budgetMs, seed };
}

/** The engine's effort with what the request sets (the elites stay fewer than the population). */
function effortOf(params: SearchParams, modelName: string): Partial<SearchEffort> {
  const given = params?.effort ?? {};
  if (typeof given !== 'object' || given === null) throw new ResponseError(ErrorCodes.InvalidParams, `search for ${modelName}: "effort" must be an object such as {"population": 4, "generations": 2}`);
  const effort: { -readonly [K in keyof SearchEffort]?: SearchEffort[K] } = {};
  for (const [key, field] of [['population', 'population'], ['generations', 'generations'], ['calibrationSamples', 'maxCalibrationSamples']] as const) {
    const value = given[key];
    if (value === undefined) continue;
    if (!(typeof value === 'number' && Number.isSafeInteger(value) && value >= 1)) {
      throw new ResponseError(ErrorCodes.InvalidParams, `search for ${modelName}: effort.${key} ${JSON.stringify(value)} must be a positive integer`);
    }
    effort[field] = value;
  }
  if (effort.population !== undefined) effort.elites = Math.min(defaultEffort.elites, effort.population - 1);
  return effort;
}

/** Progress through the client's token when it sent one, else one the server creates (when the client supports it). */
async function progressFor(session: Session, params: SearchParams): Promise<WorkDoneProgressReporter | WorkDoneProgressServerReporter> {
  if (params.workDoneToken !== undefined) return session.connection.window.attachWorkDoneProgress(params.workDoneToken);
  return session.connection.window.createWorkDoneProgress();
}
