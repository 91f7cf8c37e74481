// The plan as a torch.ao.pruning config: WeightNormSparsifier arguments per layer (tensor_fqn,
// sparsity_level, sparse_block_shape, zeros_per_block), for `sparsifier.prepare(model, config)`.
// WeightNormSparsifier zeroes blocks of a 2-D weight (torch 2.x rejects Conv's 4-D weights), so
// Linear layers go into `sparse_config` and Conv layers into `conv_config` (same fields, blocks in
// the kernel plane kh × kw) for a sparsifier that accepts them; most schemes map only approximately,
// and each entry's comment says how.

import { pyComment } from './nni-config';
import { torchModuleOf, type RecipeInput, type RecipeLayer } from './training-recipe';

export interface TorchAoEntry {
  readonly tensor_fqn: string;
  /** Fraction of blocks zeroed. */
  readonly sparsity_level: number;
  readonly sparse_block_shape: [number, number];
  readonly zeros_per_block: number;
}

export function torchAoEntry(layer: RecipeLayer): { entry: TorchAoEntry; note: string } {
  const s = layer.spec;
  const module = torchModuleOf(layer.tensors[0]);
  const fqn = module ? `${module}.weight` : layer.tensors[0];
  const rate = Number((layer.zeros / layer.weights).toFixed(6));
  const shape = layer.shapes[0];
  const linear = shape.length === 2;
  const kernelBlock: [number, number] = linear ? [1, 1] : [shape[shape.length - 2], shape[shape.length - 1]];
  let block: [number, number] = [1, 1];
  let zeros = 1;
  let level = rate;
  let note = '';
  switch (s.scheme) {
    case 'unstructured':
      note = 'exact: 1×1 blocks are single weights';
      break;
    case 'nm':
      if (linear) {
        // Linear weight [out, in]: a 1 × m block along the inputs keeping n is exactly n:m.
        block = [1, s.m!];
        zeros = s.m! - s.n!;
        level = 1;
        note = `exact: ${s.n}:${s.m} along the inputs of each output`;
      } else {
        note = `approximate: torch.ao blocks lie in the last two dims (the kernel); ${s.n}:${s.m} along input channels has no block shape here, so element-wise at the same rate (use the PyTorch script for the exact structure)`;
      }
      break;
    case 'block-punched':
      if (linear) {
        block = [s.block![0], s.block![1]];
        zeros = block[0] * block[1];
        note = 'exact: whole bf × bc blocks of the Linear weight [out, in]';
      } else {
        note = `approximate: a punch is ${s.block!.join('×')} filters × channels at one kernel position, which torch.ao's kernel-plane blocks cannot express; element-wise at the same rate`;
      }
      break;
    case 'pattern':
      block = kernelBlock;
      zeros = 9;
      level = Number(((layer.zeros / layer.weights - 5 / 9) / (4 / 9)).toFixed(6));
      note = 'approximate: whole 3×3 kernels (the connectivity part) at the plan\'s kernel rate; the 4-of-9 shapes inside the kept kernels have no torch.ao equivalent';
      break;
    case 'filter':
    case 'channel':
      note = `approximate: torch.ao has no ${s.scheme === 'filter' ? 'output' : 'input'}-channel granularity; element-wise at the same rate (torch.ao.pruning's structured pruners can remove ${s.scheme === 'filter' ? 'filters' : 'channels'})`;
      break;
    case 'block-bcr':
      note = 'approximate: no block column-row granularity; element-wise at the same rate';
      break;
  }
  if (!module) note += `; the weight "${layer.tensors[0]}" has no torch name: replace tensor_fqn with your parameter's name`;
  return { entry: { tensor_fqn: fqn, sparsity_level: level, sparse_block_shape: block, zeros_per_block: zeros }, note };
}

export function torchAoConfigFiles(input: RecipeInput): Record<string, string> {
  const rows = input.layers.map(torchAoEntry);
  const is2d = input.layers.map((l) => l.shapes[0].length === 2);
  const entries = (twoD: boolean) => rows.flatMap((r, i) => is2d[i] !== twoD ? [] : [
    `    # ${pyComment(input.layers[i].id)}: ${pyComment(input.layers[i].spec.scheme)} - ${pyComment(r.note)}`,
    `    {"tensor_fqn": ${JSON.stringify(r.entry.tensor_fqn)}, "sparsity_level": ${r.entry.sparsity_level}, "sparse_block_shape": (${r.entry.sparse_block_shape.join(', ')}), "zeros_per_block": ${r.entry.zeros_per_block}},`,
  ]);
  const py = [
    '# torch.ao.pruning WeightNormSparsifier config for the layers of a PruneMap plan, written by',
    '# `prunemap export-training --format torch-ao`.',
    `# Plan: ${pyComment(input.planWhere)} (target ${pyComment(input.target)}); model: ${pyComment(input.modelPath)}`,
    '# Usage:',
    '#   from torch.ao.pruning import WeightNormSparsifier',
    '#   from torch_ao_config import sparse_config',
    '#   sparsifier = WeightNormSparsifier()',
    '#   sparsifier.prepare(model, sparse_config)',
    '#   ... train, calling sparsifier.step() ...; sparsifier.squash_mask()',
    '',
    '# Linear (2-D) weights: WeightNormSparsifier applies these as they are.',
    'sparse_config = [',
    ...entries(true),
    ']',
    '',
    '# Conv weights, in the same fields: WeightNormSparsifier rejects 4-D weights, so these need a',
    '# sparsifier that accepts them (or use `prunemap export-training --format pytorch`, which applies',
    '# the exact masks).',
    'conv_config = [',
    ...entries(false),
    ']',
    '',
  ].join('\n');
  const json = JSON.stringify({ sparse_config: rows.filter((_, i) => is2d[i]).map((r) => r.entry), conv_config: rows.filter((_, i) => !is2d[i]).map((r) => r.entry) }, null, 2) + '\n';
  return { 'torch_ao_config.py': py, 'torch_ao_config.json': json };
}
