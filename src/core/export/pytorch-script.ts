// The PyTorch hand-off: a self-contained fine-tuning script (pytorch-script-template.ts, the same
// file for every model) plus the two data files it reads from its own folder — recipe.json (the
// plan's pruned layers: ONNX weight names, GEMM views, scheme parameters) and masks.json (the
// engine's masks, packed bits in base64, so training starts from exactly what `prunemap prune`
// applies). Model strings reach the script only through these JSON files, never as code.

import * as path from 'node:path';
import { FINETUNE_PY } from './pytorch-script-template';
import { compressionOf, type RecipeInput } from './training-recipe';

export const SCRIPT_NAME = 'finetune.py';

export function pytorchScriptFiles(input: RecipeInput): Record<string, string> {
  const recipe = {
    format: 'prunemap-training-recipe/1',
    model: path.resolve(input.modelPath),
    plan: input.planWhere,
    target: input.target,
    compression: round(compressionOf(input)),
    prunableWeights: input.prunableWeights,
    prunedWeights: input.prunedWeights,
    inputs: input.inputs,
    outputs: input.outputs,
    metadata: input.metadata,
    layers: input.layers.map((l) => ({
      id: l.id, op: l.op, spec: l.spec, tensors: l.tensors, shapes: l.shapes, matrices: l.matrices, weights: l.weights, zeros: l.zeros,
    })),
  };
  const masks: Record<string, string> = {};
  for (const l of input.layers) l.tensors.forEach((name, i) => (masks[name] = packBits(l.masks[i])));
  return {
    [SCRIPT_NAME]: FINETUNE_PY,
    'recipe.json': JSON.stringify(recipe, null, 1) + '\n',
    'masks.json': JSON.stringify(masks) + '\n',
  };
}

/** A 0/1 mask as base64 of its bits, most significant bit first (numpy's packbits/unpackbits order). */
export function packBits(mask: Uint8Array): string {
  const bytes = Buffer.alloc(Math.ceil(mask.length / 8));
  for (let i = 0; i < mask.length; i++) if (mask[i]) bytes[i >> 3] |= 0x80 >> (i & 7);
  return bytes.toString('base64');
}

function round(x: number): number {
  return Number(x.toPrecision(6));
}
