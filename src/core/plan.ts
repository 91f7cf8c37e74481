// The plan file (<model>.prune.json): the contract between the mapper, the editor, pruning and
// code generation. Its JSON Schema is schemas/prune-plan.schema.json; docs/plan.md documents it.

import type { SchemeSpec } from './schemes/scheme';

export interface LayerLatency {
  readonly denseMs: number;
  readonly prunedMs: number;
}

/** One layer's entry: its scheme with parameters, and why (plus the estimate, when a mapper wrote it). */
export interface PlanLayer extends SchemeSpec {
  readonly reason?: string;
  readonly latency?: LayerLatency;
}

export interface PlanSummary {
  /** Whole-model estimates over the prunable layers, on the plan's target. */
  readonly denseMs: number;
  readonly prunedMs: number;
  readonly speedup: number;
  /** Prunable weights before / after: 1 / (1 − overall rate). */
  readonly compression: number;
}

export interface Plan {
  readonly $schema?: string;
  /** The model file's name, relative to the plan's folder. */
  readonly model: string;
  readonly modelSha256?: string;
  /** Device profile id the latency figures are for (src/core/latency/profiles). */
  readonly target: string;
  /** Layer id (see docs/cli.md) → its entry. Layers not listed stay dense. */
  readonly layers: Readonly<Record<string, PlanLayer>>;
  readonly summary?: PlanSummary;
}
