// The weight-free data the language server sends in its custom messages (docs/protocol.md):
// model summaries, plan entries, latency figures and prune reports. Plain JSON shapes only; the
// server converts its engine types to these at the edge, so clients never see engine internals.

/** A dimension: a number, a symbolic name, or null when unknown. */
export type Dim = number | string | null;

/** One prunable layer, as `prunemap inspect --json` prints it (docs/cli.md). */
export interface LayerSummary {
  id: string;
  op: string;
  weight: string;
  weightShape: number[];
  group: number;
  kernel: number[];
  inputShape: Dim[] | null;
  outputShape: Dim[] | null;
  params: number;
  macs: number;
  /** 1-based line of the layer's node in the text view (as the CLI prints it). */
  line: number;
}

/** The model summary, exactly as `prunemap inspect --json` prints it (docs/cli.md). */
export interface ModelSummary {
  irVersion: number;
  opsets: Record<string, number>;
  producer: string;
  producerVersion: string;
  nodeCount: number;
  initializerCount: number;
  layers: LayerSummary[];
  totalParams: number;
  totalMacs: number;
}

export type SchemeId = 'dense' | 'unstructured' | 'filter' | 'channel' | 'pattern' | 'block-punched' | 'block-bcr' | 'nm';

/** A layer's scheme and parameters, as in a plan file (docs/plan.md). */
export interface SchemeSpec {
  scheme: SchemeId;
  /** Fraction of the layer's weights set to zero, in [0, 1). */
  rate: number;
  block?: [number, number];
  n?: number;
  m?: number;
  patterns?: number;
  library?: number[];
}

/** Estimated milliseconds of one run of the layer on the active target (modelled, docs/latency.md). */
export interface LayerLatency {
  denseMs: number;
  prunedMs: number;
}

/** Where a layer's entry in the current plan comes from. */
export type EntrySource = 'rules' | 'file' | 'override';

/** A layer's entry in the current plan. */
export interface PlanEntry extends SchemeSpec {
  /** Why this scheme: the mapper's reason, the plan file's, or that it is an override. */
  reason: string;
  latency: LayerLatency;
  source: EntrySource;
  /** The scheme's remark when it is feasible with a caveat (e.g. a partial last block). */
  note?: string;
  /** The schemes that can prune this layer with some parameters (dense always), for a scheme picker. */
  feasibleSchemes: SchemeId[];
}

export interface PlanTotals {
  denseMs: number;
  prunedMs: number;
  /** denseMs / prunedMs. */
  speedup: number;
  /** Prunable weights before / after. */
  compression: number;
}

/** A problem found in the model's plan file, placed in that file (0-based line and character). */
export interface PlanProblem {
  severity: 'error' | 'warning';
  message: string;
  /** JSON pointer to what is wrong, e.g. "/layers/conv1/rate". */
  path: string;
  line: number;
  character: number;
}

/** The plan the server annotates a model with. */
export interface CurrentPlan {
  /** 'file' when a valid `<name>.prune.json` sits next to the model, else 'rules' (the rule-based mapper). */
  source: 'rules' | 'file';
  /** file: URI of the plan file next to the model, when there is one (used or not). */
  file?: string;
  /** Problems of that plan file; with an error the file is not used. */
  problems: PlanProblem[];
  /** Why the rule-based mapper gave no plan (e.g. the target compression is out of reach); every layer is then dense. */
  error?: string;
  /** Active device profile id, and whether its figures are modelled or measured. */
  target: string;
  basis: 'modelled' | 'measured';
  /** Every device profile id the server knows (prunemap/setTarget takes one). */
  targets: string[];
  /** Target compression of the rule-based mapper. */
  compression: number;
  /** Every prunable layer (dense ones included), in layer order. */
  layers: Record<string, PlanEntry>;
  totals: PlanTotals;
}

/** Another scheme for a layer, with its estimate on the active target. */
export interface Alternative extends SchemeSpec {
  latency: LayerLatency;
  /** denseMs / prunedMs. */
  speedup: number;
}

/** One pruned layer in a prune report (docs/cli.md, `prune --json`). */
export interface PrunedLayerReport {
  id: string;
  op: string;
  scheme: string;
  plannedRate: number | null;
  achievedRate: number;
  weights: number;
  kept: number;
  pruned: number;
  zeros: number;
}

/** The prune report, as `prunemap prune --json` prints it (docs/cli.md); paths are absolute. */
export interface PruneReport {
  input: string;
  output: string;
  dataFiles: string[];
  layers: PrunedLayerReport[];
  totals: { weights: number; pruned: number; kept: number; rate: number; compression: number };
}

/** One side of a layer in the rule vs search comparison: the plan's spec, its reason and its estimate on the active target. */
export interface ComparedEntry extends SchemeSpec {
  reason: string;
  latency: LayerLatency;
}

/** A plan's totals in the comparison, on the active target. */
export interface ComparedTotals extends PlanTotals {
  /** The search's accuracy proxy (fraction of calibration inputs whose top-1 the pruned model keeps), when it reports one. */
  accuracyProxy?: number;
}

/** The rule-based plan and the searched plan of a model, side by side (prunemap/search, prunemap/searchResult). */
export interface SearchComparison {
  /** What the search was asked for: exactly one of speedup and budgetMs. */
  goal: { speedup?: number; budgetMs?: number; seed: number };
  /** The device profile the search ran for, and the one every figure here is estimated on (the active target). */
  searchedTarget: string;
  target: string;
  /** Why the rule-based mapper gave no plan (every rule-side layer is then dense). */
  rulesError?: string;
  /** Every prunable layer, in layer order. */
  layers: { id: string; rules: ComparedEntry; search: ComparedEntry }[];
  rules: ComparedTotals;
  search: ComparedTotals;
  /** True when the current plan is the searched plan (adopted, and no layer changed since). */
  adopted: boolean;
}

/** The files of an exported training recipe (prunemap/exportTrainingRecipe); paths are absolute. */
export interface TrainingRecipeReport {
  format: 'pytorch' | 'nni' | 'torch-ao';
  folder: string;
  files: string[];
}
