// The messages between the extension host and the overview webview (the custom editor of *.onnx
// files), defined once for both sides. Plain JSON-able data only: the webview receives layer
// tables and numbers, never tensors (docs/architecture.md). Every string that comes from the model
// (layer ids, ops, symbolic dims, the file name) may be hostile; the webview renders them as text.

/** Pruning scheme ids (DOMAIN.md §3; the same ids as plan files). */
export const SCHEME_IDS = ['dense', 'unstructured', 'filter', 'channel', 'pattern', 'block-punched', 'block-bcr', 'nm'] as const;
export type SchemeId = (typeof SCHEME_IDS)[number];

/** A tensor dimension: a size, a symbolic dim by name, or null where unknown. */
export type Dim = number | string | null;

/** A latency target (device profile) the user can pick. */
export interface TargetInfo {
  id: string;
  name: string;
}

/** Totals over all prunable layers. */
export interface SummaryNumbers {
  params: number;
  macs: number;
  /** Estimated latency of the prunable layers, dense and with the plan applied. */
  denseMs: number;
  prunedMs: number;
  /** denseMs / prunedMs. */
  speedup: number;
  /** All prunable weights / kept weights. */
  compression: number;
}

/** One prunable layer with its planned scheme and estimated latency. */
export interface LayerRow {
  /** The plan's layer id (node name, or the weight's name when the node has none). */
  id: string;
  op: string;
  /** null when not even the rank is known. */
  inputShape: Dim[] | null;
  outputShape: Dim[] | null;
  weightShape: number[];
  macs: number;
  params: number;
  scheme: SchemeId;
  /** block-punched: [filters, channels]; block-bcr: [rows, cols]. */
  block?: [number, number];
  /** nm: keep n of every m. */
  n?: number;
  m?: number;
  /** Fraction of the layer's weights pruned, in [0, 1). */
  rate: number;
  denseMs: number;
  prunedMs: number;
  /** Why the mapper (or the user's override) chose this scheme and rate. */
  reason: string;
  /** The schemes this layer accepts, for the override picker. */
  feasibleSchemes: SchemeId[];
  /** Measured on this machine by the last benchmark of generated code, when there was one for this layer. */
  measured?: MeasuredLatency;
}

/** One layer's timings from a benchmark of the generated code (medians, ms, this machine, 1 thread). */
export interface MeasuredLatency {
  /** The scheme the layer had when it was measured (the plan may have changed since). */
  scheme: string;
  /** The generated sparse kernel. */
  oursMs: number;
  /** onnxruntime running the pruned layer alone. */
  ortMs: number;
  /** The generated kernel with every weight kept. */
  denseOursMs: number;
}

/** The whole model in the last benchmark of generated code ("Generate Sparse Code…" with benchmark). */
export interface BenchSummary {
  /** The whole model: the generated code and onnxruntime on the pruned model (medians, ms, this machine). */
  oursMs: number;
  ortMs: number;
  /** Whether the generated code's output matched onnxruntime's, when it was checked. */
  verified?: boolean;
}

/** Everything the overview shows. */
export interface ModelView {
  /** The model's base name. */
  fileName: string;
  summary: SummaryNumbers;
  /** Id of the selected target; one of `targets`. */
  target: string;
  /** Whether the target's latency figures come from timings on this machine (`prunemap calibrate`) or the model alone; absent: modelled. */
  basis?: 'modelled' | 'measured';
  targets: TargetInfo[];
  layers: LayerRow[];
  /** True while the server recomputes the plan (after an override or a target change). */
  busy: boolean;
  /** The last failure to show, if any (e.g. an override the scheme rejects). */
  error?: string;
  /** False in an untrusted workspace (Restricted Mode): code generation is then not offered. */
  workspaceTrusted?: boolean;
  /**
   * After "Generate Sparse Code…" with a benchmark: the whole model's timings; each measured layer
   * then has `measured`, shown beside its estimate. Kept by the host until the overview closes.
   */
  bench?: BenchSummary;
  /** After "Search Pruning Plan…": the rule-based and the searched plan side by side. */
  search?: SearchView;
}

/** One plan's choice for a layer in the rule vs search comparison. */
export interface ComparedChoice {
  scheme: SchemeId;
  block?: [number, number];
  n?: number;
  m?: number;
  rate: number;
  /** Estimated on the active target. */
  prunedMs: number;
  reason: string;
}

/** A plan's totals in the comparison (estimated on the active target). */
export interface ComparedSummary {
  prunedMs: number;
  speedup: number;
  compression: number;
  /** The search's accuracy proxy in [0, 1], when it reports one. */
  accuracyProxy?: number;
}

/** The rule-based plan (`rules`) and the searched plan (`search`) of the model, side by side. */
export interface SearchView {
  /** What the search was asked for: exactly one of the two. */
  goalSpeedup?: number;
  goalBudgetMs?: number;
  /** The target the search ran for (the figures are on the view's target). */
  searchedTarget: string;
  denseMs: number;
  rules: ComparedSummary;
  search: ComparedSummary;
  /** Every prunable layer, in layer order. */
  layers: { id: string; rules: ComparedChoice; search: ComparedChoice }[];
  /** The current plan is the searched plan. */
  adopted: boolean;
  /** Why the rule-based mapper gave no plan. */
  rulesError?: string;
}

// ---------------------------------------------------------------------------------------------
// Host → webview

/** Host → webview: render this view (after `ready`, and after every change of plan or target). */
export namespace Show {
  export const type = 'show';
  export interface Message {
    type: typeof type;
    view: ModelView;
  }
}

/** Host → webview: a failure to show without a new view (e.g. the server is gone). */
export namespace ShowError {
  export const type = 'error';
  export interface Message {
    type: typeof type;
    message: string;
  }
}

export type HostMessage = Show.Message | ShowError.Message;

// ---------------------------------------------------------------------------------------------
// Webview → host

/** Webview → host: the page is loaded and listening; send `show`. Also sent after a reload. */
export namespace Ready {
  export const type = 'ready';
  export interface Message {
    type: typeof type;
  }
}

/** Webview → host: override one layer's scheme and rate; the host asks the server and re-sends `show`. */
export namespace SetLayer {
  export const type = 'setLayer';
  export interface Message {
    type: typeof type;
    layer: string;
    scheme: SchemeId;
    /** In [0, 0.99]; 0 for dense; 1 − n/m for nm. */
    rate: number;
    /** block-punched and block-bcr only. */
    block?: [number, number];
    /** nm only. */
    n?: number;
    m?: number;
  }
}

/** Webview → host: estimate and map for another target. */
export namespace SetTarget {
  export const type = 'setTarget';
  export interface Message {
    type: typeof type;
    target: string;
  }
}

/** Webview → host: open the ONNX text view, at this layer's node when given. */
export namespace OpenTextView {
  export const type = 'openTextView';
  export interface Message {
    type: typeof type;
    layer?: string;
  }
}

/** Webview → host: start pruning with the current plan (the host asks where to write). */
export namespace Prune {
  export const type = 'prune';
  export interface Message {
    type: typeof type;
  }
}

/** Webview → host: run "Generate Sparse Code…" on the model (the host asks where and what; trusted workspaces only). */
export namespace GenerateCode {
  export const type = 'generateCode';
  export interface Message {
    type: typeof type;
  }
}

/** Webview → host: open the plan file (`<model>.prune.json`) in a text editor. */
export namespace OpenPlan {
  export const type = 'openPlan';
  export interface Message {
    type: typeof type;
  }
}

/** Webview → host: run "Search Pruning Plan…" on the model (the host asks for the goal). */
export namespace SearchPlan {
  export const type = 'searchPlan';
  export interface Message {
    type: typeof type;
  }
}

/** Webview → host: make the searched plan the current plan (prunemap/adoptSearchPlan). */
export namespace AdoptSearchPlan {
  export const type = 'adoptSearchPlan';
  export interface Message {
    type: typeof type;
  }
}

/** Webview → host: adopt the searched plan and save it as a plan file (the host asks where; prunemap/savePlan). */
export namespace SaveSearchPlan {
  export const type = 'saveSearchPlan';
  export interface Message {
    type: typeof type;
  }
}

export type WebviewMessage =
  | SearchPlan.Message
  | AdoptSearchPlan.Message
  | SaveSearchPlan.Message
  | Ready.Message
  | SetLayer.Message
  | SetTarget.Message
  | OpenTextView.Message
  | Prune.Message
  | GenerateCode.Message
  | OpenPlan.Message;

/**
 * The message when `value` is a well-formed webview message, else undefined. The host runs this
 * on everything the webview posts: a webview is a web page and is not trusted.
 */
export function parseWebviewMessage(value: unknown): WebviewMessage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  switch (v.type) {
    case Ready.type:
    case Prune.type:
    case GenerateCode.type:
    case OpenPlan.type:
    case SearchPlan.type:
    case AdoptSearchPlan.type:
    case SaveSearchPlan.type:
      return { type: v.type };
    case SetTarget.type:
      return typeof v.target === 'string' ? { type: v.type, target: v.target } : undefined;
    case OpenTextView.type:
      if (v.layer === undefined) return { type: v.type };
      return typeof v.layer === 'string' ? { type: v.type, layer: v.layer } : undefined;
    case SetLayer.type:
      return parseSetLayer(v);
    default:
      return undefined;
  }
}

function parseSetLayer(v: Record<string, unknown>): SetLayer.Message | undefined {
  const { layer, scheme, rate, block, n, m } = v;
  if (typeof layer !== 'string' || !isSchemeId(scheme)) return undefined;
  if (typeof rate !== 'number' || !(rate >= 0 && rate <= 0.99)) return undefined;
  const message: SetLayer.Message = { type: SetLayer.type, layer, scheme, rate };
  if (block !== undefined) {
    if (!Array.isArray(block) || block.length !== 2 || !block.every(isPositiveInt)) return undefined;
    message.block = [block[0], block[1]];
  }
  if (n !== undefined || m !== undefined) {
    if (!isPositiveInt(n) || !isPositiveInt(m)) return undefined;
    message.n = n;
    message.m = m;
  }
  return message;
}

export function isSchemeId(value: unknown): value is SchemeId {
  return typeof value === 'string' && (SCHEME_IDS as readonly string[]).includes(value);
}

function isPositiveInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1;
}
