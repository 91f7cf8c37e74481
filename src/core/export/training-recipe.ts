// The training hand-off (docs/training.md): a plan exported as files another tool trains with —
// a self-contained PyTorch fine-tuning script, an NNI config_list or a torch.ao sparsifier config.
// Everything here is text; the caller writes the files (the CLI writes them as one folder, atomically).

import { ModelError } from '../errors';
import { findLayers, type Layer } from '../layers';
import { loadModel } from '../onnx/load';
import type { Plan } from '../plan';
import { buildMasks, weightTensorsOf } from '../prune/masks';
import { weightMatrices } from '../schemes/weight-matrix';
import { specOf, type SchemeSpec } from '../schemes/scheme';
import { nniConfigFiles } from './nni-config';
import { pytorchScriptFiles } from './pytorch-script';
import { torchAoConfigFiles } from './torch-ao-config';

export type RecipeFormat = 'pytorch' | 'nni' | 'torch-ao';
export const recipeFormats: readonly RecipeFormat[] = ['pytorch', 'nni', 'torch-ao'];

/** File name → contents (text), written into one output folder. */
export interface TrainingRecipe {
  readonly files: Record<string, string>;
}

/** One pruned layer as the exporters see it: the plan's spec, the weight's name and GEMM view, and its mask. */
export interface RecipeLayer {
  readonly id: string;
  readonly op: string;
  readonly spec: SchemeSpec;
  /** ONNX initializer names of the pruned tensors: [W] or [W, R]. */
  readonly tensors: readonly string[];
  readonly shapes: readonly (readonly number[])[];
  /** The GEMM view (weight-matrix.ts), so the script ranks exactly the groups the engine ranks. */
  readonly matrices: readonly { tensor: number; offset: number; rows: number; channels: number; kernel: number; rowStride: number; channelStride: number }[];
  readonly weights: number;
  /** Zeros of the engine's masks for this layer. */
  readonly zeros: number;
  /** The engine's masks (1 keeps), one per tensor. */
  readonly masks: readonly Uint8Array[];
}

/** What every format is built from: the pruned layers and the whole model's figures. */
export interface RecipeInput {
  readonly modelPath: string;
  readonly planWhere: string;
  readonly target: string;
  readonly layers: readonly RecipeLayer[];
  /** Every prunable layer's weights (pruned or not), and the zeros the plan puts in them. */
  readonly prunableWeights: number;
  readonly prunedWeights: number;
  /** Model inputs that are not initializers: name and shape (symbolic dims as null). */
  readonly inputs: readonly { name: string; shape: (number | null)[] }[];
  readonly outputs: readonly string[];
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * The recipe for `plan` on the model at `modelPath` in `format`. The plan's masks are computed by
 * the engine (the same masks `prunemap prune` applies), so a bad plan fails here with the same
 * one-line ModelError as pruning: `planWhere` names the plan in it.
 */
export function exportTrainingRecipe(modelPath: string, plan: Plan, planWhere: string, format: RecipeFormat): TrainingRecipe {
  if (!recipeFormats.includes(format)) {
    throw new ModelError(`unknown recipe format ${JSON.stringify(format)}`, planWhere, `Use one of ${recipeFormats.join(', ')}.`);
  }
  const input = recipeInput(modelPath, plan, planWhere);
  switch (format) {
    case 'pytorch':
      return { files: pytorchScriptFiles(input) };
    case 'nni':
      return { files: nniConfigFiles(input) };
    case 'torch-ao':
      return { files: torchAoConfigFiles(input) };
  }
}

/** Loads the model, checks the plan against it and computes its masks. */
export function recipeInput(modelPath: string, plan: Plan, planWhere: string): RecipeInput {
  const loaded = loadModel(modelPath);
  try {
    const all = findLayers(loaded.model, loaded.tensors);
    const masks = buildMasks(loaded, all, plan, planWhere);
    const nested = [...masks.keys()].find((id) => all.find((l) => l.id === id)!.graphPath.length > 0);
    if (nested !== undefined) {
      throw new ModelError(`layer "${nested}" is inside a subgraph (If/Loop/Scan), which the training recipe cannot rebuild`, planWhere, 'Leave that layer dense in the plan for training.');
    }
    const layers: RecipeLayer[] = [];
    for (const layer of all) {
      const entry = masks.get(layer.id);
      if (!entry) continue;
      const tensors = weightTensorsOf(layer);
      const m = entry.masks;
      layers.push({
        id: layer.id, op: layer.op, spec: specOf(entry.spec!),
        tensors: tensors.map((t) => t.name), shapes: tensors.map((t) => [...t.dims]),
        matrices: weightMatrices(layer).map(({ tensor, offset, rows, channels, kernel, rowStride, channelStride }) => ({ tensor, offset, rows, channels, kernel, rowStride, channelStride })),
        weights: weightCount(layer), zeros: m.reduce((n, mask) => n + zerosOf(mask), 0), masks: m,
      });
    }
    const g = loaded.model.graph;
    const inits = new Set(g.initializers.map((t) => t.name));
    return {
      modelPath, planWhere, target: plan.target, layers,
      prunableWeights: all.reduce((n, l) => n + weightCount(l), 0),
      prunedWeights: layers.reduce((n, l) => n + l.zeros, 0),
      inputs: g.inputs.filter((i) => !inits.has(i.name)).map((i) => ({
        name: i.name,
        shape: i.type?.kind === 'tensor' ? (i.type.shape ?? []).map((d) => (typeof d === 'number' ? d : null)) : [],
      })),
      outputs: g.outputs.map((o) => o.name),
      metadata: Object.fromEntries(loaded.model.metadata.map((p) => [p.key, p.value])),
    };
  } finally {
    loaded.close();
  }
}

function weightCount(layer: Layer): number {
  return weightTensorsOf(layer).reduce((n, t) => n + t.dims.reduce((a, b) => a * b, 1), 0);
}

function zerosOf(mask: Uint8Array): number {
  let z = 0;
  for (let i = 0; i < mask.length; i++) z += mask[i] === 0 ? 1 : 0;
  return z;
}

/** Compression of the prunable weights, 1 / (1 − overall rate), as the plan's summary computes it. */
export function compressionOf(input: RecipeInput): number {
  return input.prunableWeights / Math.max(1, input.prunableWeights - input.prunedWeights);
}

/**
 * The PyTorch module name a weight initializer belongs to, when the exporter kept torch's names
 * (`features.conv2.0.weight` → `features.conv2.0`); else undefined.
 */
export function torchModuleOf(weightName: string): string | undefined {
  const m = /^([A-Za-z_][\w]*(?:\.[\w]+)*)\.weight$/.exec(weightName);
  return m ? m[1] : undefined;
}
