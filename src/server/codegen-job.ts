// prunemap/codegen: generates C code for a model and its plan (the engine's runCodegenJob, as
// `prunemap codegen` does), optionally compiling, verifying and benchmarking it, with work-done
// progress and cancellation as prunemap/prune has them: a cancel ($/cancelRequest or
// window/workDoneProgress/cancel) aborts the job's signal, and the job removes its temporary
// folder — a cancelled run leaves no output folder. Generated code is compiled and run, so the
// request is refused while the client says the workspace is not trusted (Restricted Mode).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { ErrorCodes, LSPErrorCodes, ResponseError, type CancellationToken } from 'vscode-languageserver/node';
import { runCodegenJob } from '../core/codegen/job';
import { findLayers } from '../core/layers';
import { loadModel } from '../core/onnx/load';
import type { Plan } from '../core/plan';
import type { CodegenParams, CodegenResult } from '../protocol/messages';
import { currentPlanOf, progressFor, readPlan } from './prune-job';
import type { Session } from './session';
import { outputFolderFor } from './settings';
import { pathOfFileUri } from './uris';

export async function generateCode(session: Session, params: CodegenParams, cancel: CancellationToken): Promise<CodegenResult> {
  // First of all: nothing else (not even reading the plan) runs for an untrusted workspace.
  if (!session.workspaceTrusted) {
    throw new ResponseError(LSPErrorCodes.RequestFailed, 'Generating sparse code needs a trusted workspace (it compiles and runs the generated code): trust this folder, then generate again.');
  }
  const model = session.modelPathOf(params?.uri);
  const view = session.view(model); // analyses (and reports a bad model) before any progress starts
  if (params.plan === undefined && view.plan.source === 'rules' && view.plan.rules.error) {
    throw new ResponseError(LSPErrorCodes.RequestFailed, view.plan.rules.error);
  }
  const outputDir = outputDirOf(session, model, params.outputDir, params.force === true);
  const { plan, where } = planOf(session, model, params.plan);

  const progress = await progressFor(session, params);
  const controller = new AbortController();
  const abort = () => controller.abort();
  const subscriptions = [cancel.onCancellationRequested(abort), 'token' in progress ? progress.token.onCancellationRequested(abort) : undefined];
  progress.begin(`Generating sparse code for ${path.basename(model)}`, 0, undefined, true);
  try {
    const result = await runCodegenJob(model, plan, where, outputDir, {
      verify: params.verify === true,
      bench: params.bench === true,
      force: params.force === true,
      signal: controller.signal,
      onProgress: (fraction, message) => progress.report(Math.max(0, Math.min(100, fraction * 100)), message),
    });
    session.log.info(`generated code for ${model} → ${result.outputDir}${result.verified === undefined ? '' : result.verified ? ' (verified)' : ' (verification FAILED)'}`);
    // Plain JSON: only the fields of the protocol, whatever else the engine's result carries.
    return {
      outputDir: result.outputDir,
      files: [...result.files],
      layers: result.layers.map(({ id, scheme, kept }) => ({ id, scheme, kept })),
      ...(result.verified === undefined ? {} : { verified: result.verified }),
      ...(result.maxAbsError === undefined ? {} : { maxAbsError: result.maxAbsError }),
      ...(result.bench === undefined ? {} : {
        bench: {
          layers: result.bench.layers.map(({ id, scheme, oursMs, ortMs, denseOursMs }) => ({ id, scheme, oursMs, ortMs, denseOursMs })),
          model: { oursMs: result.bench.model.oursMs, ortMs: result.bench.model.ortMs },
        },
      }),
    };
  } catch (err) {
    if (controller.signal.aborted || (err instanceof Error && err.name === 'AbortError')) {
      throw new ResponseError(LSPErrorCodes.RequestCancelled, `code generation for ${path.basename(model)} cancelled; no folder was written`);
    }
    throw err;
  } finally {
    progress.done();
    for (const s of subscriptions) s?.dispose();
  }
}

/** The output folder: as given, else `<name>.codegen` beside the model or in the `outputFolder` setting. */
function outputDirOf(session: Session, model: string, outputDir: string | undefined, force: boolean): string {
  const name = `${path.basename(model).replace(/\.onnx$/i, '')}.codegen`;
  const dir = outputDir !== undefined
    ? pathOfFileUri(outputDir, 'output folder')
    : path.join(outputFolderFor(session.settings, model) ?? path.dirname(model), name);
  // Replacing a folder that holds the model (its own folder, or one above) would delete the model.
  const relative = path.relative(path.resolve(dir), path.resolve(model));
  if (!relative.startsWith('..') && !path.isAbsolute(relative)) {
    throw new ResponseError(ErrorCodes.InvalidParams, `${dir} holds the model itself; PruneMap writes generated code to a folder of its own: give another folder`);
  }
  if (!force && isNonEmptyFolder(dir)) {
    throw new ResponseError(LSPErrorCodes.RequestFailed, `${dir} already exists and is not empty; pass "force": true to replace it, or give another folder`);
  }
  if (fs.existsSync(dir) && !fs.statSync(dir).isDirectory()) {
    throw new ResponseError(LSPErrorCodes.RequestFailed, `${dir} exists and is not a folder; give another folder`);
  }
  return dir;
}

/** The plan to generate: a plan file checked against the model (first error as one line), else the current plan. */
function planOf(session: Session, model: string, planUri: string | undefined): { plan: Plan; where: string } {
  if (planUri === undefined) {
    const { plan } = session.view(model);
    return { plan: { ...currentPlanOf(plan.entries), model: path.basename(model), target: plan.profile.id }, where: `current plan for ${path.basename(model)}` };
  }
  const file = pathOfFileUri(planUri, 'plan file');
  const loaded = loadModel(model);
  try {
    return { plan: readPlan(file, loaded.model, findLayers(loaded.model, loaded.tensors)), where: file };
  } finally {
    loaded.close();
  }
}

function isNonEmptyFolder(dir: string): boolean {
  try {
    return fs.readdirSync(dir).length > 0;
  } catch {
    return false;
  }
}
