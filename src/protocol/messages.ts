// Every custom LSP message of PruneMap, defined once: one namespace per message with its method,
// its direction and its typed RequestType/NotificationType. docs/protocol.md documents each one
// (params, result, errors); keep the two in step.

import { NotificationType, RequestType, type WorkDoneProgressParams } from 'vscode-languageserver-protocol';
import type { Alternative, CurrentPlan, LayerSummary, ModelSummary, PlanEntry, PruneReport, SchemeId } from './types';

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
