// The weight-free summary of a model that `inspect --json` prints and the editor shows: header
// fields, counts, and every prunable layer with its metrics and its line in the text view.
// The format is documented in docs/cli.md; keep the two in step.

import { countNodes } from './onnx/graph-view';
import type { Dim, Model } from './onnx/model';
import type { Layer } from './layers';
import type { GraphStep } from './onnx/graph-view';

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
  /** 1-based line of the layer's node in the text view. */
  line: number;
}

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

export type LineOf = (graphPath: readonly GraphStep[], nodeIndex: number) => number;

export function summarizeModel(model: Model, layers: readonly Layer[], lineOf: LineOf): ModelSummary {
  const counts = countNodes(model);
  const opsets: Record<string, number> = {};
  for (const o of model.opsets) opsets[o.domain] = o.version;
  const summaries = layers.map((l) => ({
    id: l.id,
    op: l.op,
    weight: l.weight,
    weightShape: [...l.weightShape],
    group: l.group,
    kernel: [...l.kernel],
    inputShape: l.inputShape ? [...l.inputShape] : null,
    outputShape: l.outputShape ? [...l.outputShape] : null,
    params: l.params,
    macs: l.macs,
    line: lineOf(l.graphPath, l.nodeIndex),
  }));
  return {
    irVersion: model.irVersion,
    opsets,
    producer: model.producerName,
    producerVersion: model.producerVersion,
    nodeCount: counts.nodes,
    initializerCount: counts.initializers,
    layers: summaries,
    totalParams: summaries.reduce((s, l) => s + l.params, 0),
    totalMacs: summaries.reduce((s, l) => s + l.macs, 0),
  };
}
