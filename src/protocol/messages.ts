// Every custom LSP message of PruneMap, defined once: one namespace per message with its method,
// its direction and its typed RequestType/NotificationType. docs/protocol.md documents each one
// (params, result, errors); keep the two in step.

import { NotificationType, RequestType, type WorkDoneProgressParams } from 'vscode-languageserver-protocol';
import type { Alternative, CurrentPlan, LayerSummary, ModelSummary, PlanEntry, PlanTotals, PruneReport, SchemeId, SearchComparison, TrainingRecipeReport } from './types';

/** A model, named by the file: URI of its .onnx (or the URI of its text view). */
export interface ModelParams {
  uri: string;
}

/**
 * client → server: the text view of an .onnx model. `uri` is the model's file: URI; the result is
 * the text view's URI and content, which the client opens with textDocument/didOpen (language id
 * `onnx-text`). Errors: a missing, unreadable or malformed model (one line).
 */
export namespace TextViewRequest {
  export const method = 'prunemap/textView';
  export const type = new RequestType<ModelParams, TextViewResult, void>(method);
}

export interface TextViewResult {
  uri: string;
  text: string;
}

/** client → server: the model's summary, layers and current plan (weight-free). */
export namespace AnalyzeRequest {
  export const method = 'prunemap/analyze';
  export const type = new RequestType<ModelParams, AnalyzeResult, void>(method);
}

export interface AnalyzeResult {
  /** file: URI of the model, and of its text view. */
  uri: string;
  textUri: string;
  summary: ModelSummary;
  plan: CurrentPlan;
}

/**
 * client → server: a per-layer override of the current plan (kept in memory until savePlan or a
 * restart). Omitted fields keep the layer's current values; `reset: true` drops the override.
 * The server refreshes inlay hints, code lenses and diagnostics. Errors: unknown layer, unknown
 * scheme, invalid parameters or a scheme infeasible for the layer (the plan is then unchanged).
 */
export namespace SetLayerRequest {
  export const method = 'prunemap/setLayer';
  export const type = new RequestType<SetLayerParams, SetLayerResult, void>(method);
}

export interface SetLayerParams extends ModelParams {
  layer: string;
  scheme?: SchemeId;
  params?: { block?: [number, number]; n?: number; m?: number; patterns?: number; library?: number[] };
  rate?: number;
  reset?: boolean;
}

export interface SetLayerResult {
  layer: string;
  entry: PlanEntry;
  totals: CurrentPlan['totals'];
}

/** client → server: the active device profile for every model (latency figures and the rule-based plan). */
export namespace SetTargetRequest {
  export const method = 'prunemap/setTarget';
  export const type = new RequestType<SetTargetParams, SetTargetResult, void>(method);
}

export interface SetTargetParams {
  target: string;
}

export interface SetTargetResult {
  target: string;
  basis: 'modelled' | 'measured';
  /** Every device profile id the server knows. */
  targets: string[];
}

/**
 * client → server: writes the pruned model with work-done progress (a client `workDoneToken`, or
 * one the server creates with window/workDoneProgress/create) and honours $/cancelRequest and
 * window/workDoneProgress/cancel: a cancelled run leaves no output. Returns the report.
 */
export namespace PruneRequest {
  export const method = 'prunemap/prune';
  export const type = new RequestType<PruneParams, PruneReport, void>(method);
}

export interface PruneParams extends ModelParams, WorkDoneProgressParams {
  /** file: URI of a plan file; default: the current plan (with overrides). */
  plan?: string;
  /** file: URI of the output model; default: `<name>.pruned.onnx` next to the model, or in the `outputFolder` setting. */
  output?: string;
  /** Replace an existing output. */
  force?: boolean;
}

/**
 * client → server: generates C code for the model and a plan (docs/codegen.md) into a folder, and
 * optionally compiles it and checks it against onnxruntime (`verify`) and times it (`bench`), with
 * work-done progress and cancellation as prunemap/prune: a cancelled run leaves no folder. Refused
 * while the client says the workspace is not trusted (WorkspaceTrustNotification): generated code
 * is compiled and run. Errors (unsupported scheme or op, missing compiler) are one line.
 */
export namespace CodegenRequest {
  export const method = 'prunemap/codegen';
  export const type = new RequestType<CodegenParams, CodegenResult, void>(method);
}

export interface CodegenParams extends ModelParams, WorkDoneProgressParams {
  /** file: URI of a plan file; default: the current plan (with overrides). */
  plan?: string;
  /** file: URI of the output folder; default: `<name>.codegen` next to the model, or in the `outputFolder` setting. */
  outputDir?: string;
  /** Compile and compare the output with onnxruntime on the pruned model. */
  verify?: boolean;
  /** Compile and time every generated layer and the whole model against onnxruntime (implies compiling). */
  bench?: boolean;
  /** Replace an existing, non-empty output folder. */
  force?: boolean;
}

export interface CodegenResult {
  /** The folder written (absolute path) and the files in it. */
  outputDir: string;
  files: string[];
  /** Every generated layer with its scheme and the weights it keeps. */
  layers: { id: string; scheme: string; kept: number }[];
  /** Present when `verify` was asked: whether the output matched onnxruntime, and the largest difference. */
  verified?: boolean;
  maxAbsError?: number;
  /** Present when `bench` was asked: medians in ms on this machine, 1 thread. */
  bench?: CodegenBench;
}

export interface CodegenBench {
  /** Per generated layer: ours sparse, onnxruntime on the pruned layer alone, ours dense on the same weights. */
  layers: { id: string; scheme: string; oursMs: number; ortMs: number; denseOursMs: number }[];
  /** The whole model: ours and onnxruntime on the pruned model. */
  model: { oursMs: number; ortMs: number };
}

/**
 * client → server: whether the workspace is trusted. VS Code sends `workspaceTrusted` in
 * initializationOptions and this notification when the user grants trust. The server refuses to
 * generate (compile and run) code while it was told the workspace is not trusted; a client that
 * never says anything (an editor without workspace trust) is treated as trusted.
 */
export namespace WorkspaceTrustNotification {
  export const method = 'prunemap/workspaceTrust';
  export const type = new NotificationType<WorkspaceTrustParams>(method);
}

export interface WorkspaceTrustParams {
  trusted: boolean;
}

/**
 * client → server: writes the current plan (with overrides) to a plan file, by default
 * `<name>.prune.json` next to the model, which then becomes the model's plan.
 */
export namespace SavePlanRequest {
  export const method = 'prunemap/savePlan';
  export const type = new RequestType<SavePlanParams, SavePlanResult, void>(method);
}

export interface SavePlanParams extends ModelParams {
  /** file: URI of the plan file to write. */
  output?: string;
}

export interface SavePlanResult {
  uri: string;
}

/** client → server: one layer in detail (for "Why this scheme?" and "Change scheme…"). */
export namespace LayerDetailsRequest {
  export const method = 'prunemap/layerDetails';
  export const type = new RequestType<LayerDetailsParams, LayerDetailsResult, void>(method);
}

export interface LayerDetailsParams extends ModelParams {
  layer: string;
}

export interface LayerDetailsResult {
  layer: LayerSummary;
  entry: PlanEntry;
  /** What the rule-based mapper chose for the layer, when it gave a plan. */
  rules?: PlanEntry;
  /** Feasible schemes for the layer, fastest first, the current one excluded. */
  alternatives: Alternative[];
  /** The hover's markdown. */
  markdown: string;
}

/**
 * server → client: the model behind a text view changed on disk, so the view's text is out of
 * date; the client asks prunemap/textView again and replaces the document's content.
 */
export namespace TextViewChangedNotification {
  export const method = 'prunemap/textViewChanged';
  export const type = new NotificationType<TextViewChangedParams>(method);
}

export interface TextViewChangedParams {
  /** The text view's URI, and the model's file: URI. */
  uri: string;
  modelUri: string;
}

/**
 * client → server: searches a pruning plan for the model that meets a goal — an estimated speedup
 * over dense, or a latency budget in ms for the prunable layers, on the active target — by
 * measuring an accuracy proxy with onnxruntime on calibration inputs. Work-done progress and
 * cancellation as prunemap/prune; a cancelled search changes nothing. The result is kept as the
 * model's search plan (in memory, until the model changes or the server restarts) and returned
 * side by side with the rule-based plan.
 */
export namespace SearchRequest {
  export const method = 'prunemap/search';
  export const type = new RequestType<SearchParams, SearchComparison, void>(method);
}

export interface SearchParams extends ModelParams, WorkDoneProgressParams {
  /** Estimated speedup over dense to reach (> 1); exactly one of speedup and budgetMs. */
  speedup?: number;
  /** Estimated latency budget of the prunable layers in ms (> 0). */
  budgetMs?: number;
  /** Calibration inputs: file: URI of a folder of .npy files or a fashion-mnist slice (docs/search.md); default as `prunemap search`. */
  calibration?: string;
  /** Seed of the search (default 1): the same seed gives the same plan. */
  seed?: number;
  /** How hard the search works (positive integers; default the engine's, docs/search.md): smaller is quicker and coarser. */
  effort?: { population?: number; generations?: number; calibrationSamples?: number };
}

/** client → server: the model's search plan beside the rule-based plan, or null when no search has run for the model. */
export namespace SearchResultRequest {
  export const method = 'prunemap/searchResult';
  export const type = new RequestType<ModelParams, SearchComparison | null, void>(method);
}

/**
 * client → server: makes the model's search plan the current plan — every layer's entry becomes an
 * override — so prune, savePlan and the annotations use it. Errors: no search plan for the model.
 */
export namespace AdoptSearchPlanRequest {
  export const method = 'prunemap/adoptSearchPlan';
  export const type = new RequestType<ModelParams, AdoptSearchPlanResult, void>(method);
}

export interface AdoptSearchPlanResult {
  totals: PlanTotals;
}

/**
 * client → server: writes a training recipe for the current plan (overrides included) into a
 * folder: a PyTorch fine-tuning script, an NNI config_list or a torch.ao sparsifier config
 * (docs/training.md). Every file is written atomically; existing files are replaced only with
 * `force` (otherwise the error's `data` is `{ existing: string[] }` and nothing is written).
 */
export namespace ExportTrainingRecipeRequest {
  export const method = 'prunemap/exportTrainingRecipe';
  export const type = new RequestType<ExportTrainingRecipeParams, TrainingRecipeReport, void>(method);
}

export interface ExportTrainingRecipeParams extends ModelParams {
  format: 'pytorch' | 'nni' | 'torch-ao';
  /** file: URI of the folder to write into; default: the model's folder. */
  output?: string;
  /** Replace files that exist. */
  force?: boolean;
}
