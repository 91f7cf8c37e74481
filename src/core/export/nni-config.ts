// The plan as an NNI (v3) pruning config_list: one entry per pruned layer, naming the PyTorch module
// (`op_names`, from the ONNX weight's torch name), the layer's rate as `sparse_ratio`, and the NNI
// granularity closest to the scheme. Written twice: config_list.json (loadable as is) and
// nni_config.py (the same list, with a comment per layer where NNI has no exact equivalent).

import { torchModuleOf, type RecipeInput, type RecipeLayer } from './training-recipe';

export interface NniEntry {
  readonly op_names: string[];
  readonly target_names: string[];
  readonly sparse_ratio: number;
  readonly granularity: string | number[];
}

/** The entry for one layer and why it differs from the plan's scheme (empty when it does not). */
export function nniEntry(layer: RecipeLayer): { entry: NniEntry; note: string; module: string } {
  const module = torchModuleOf(layer.tensors[0]) ?? layer.id;
  const s = layer.spec;
  const dims = layer.shapes[0].length;
  const conv = layer.op === 'Conv' || layer.op === 'ConvTranspose';
  const ratio = Number((layer.zeros / layer.weights).toFixed(6));
  let granularity: string | number[] = 'default';
  let note = '';
  switch (s.scheme) {
    case 'unstructured':
      break;
    case 'filter':
      granularity = 'out_channel';
      break;
    case 'channel':
      granularity = 'in_channel';
      break;
    case 'block-punched': {
      const [bf, bc] = s.block!;
      // A punch is bf × bc weights at one kernel position: NNI block granularity [bf, bc, 1, 1].
      granularity = conv ? [bf, bc, ...Array(dims - 2).fill(1)] : [bf, bc];
      if (layer.op === 'Gemm' || layer.op === 'MatMul') note = 'block [outputs, inputs] of the torch Linear weight [out, in]';
      break;
    }
    case 'block-bcr':
      note = `NNI has no block column-row granularity: element-wise here; PruneMap's masks remove whole rows and columns inside ${s.block!.join('×')} blocks`;
      break;
    case 'nm':
      note = `NNI has no ${s.n}:${s.m} granularity (n:m along input channels): element-wise at the same ratio; use the PyTorch script or torch.ao for the exact structure`;
      break;
    case 'pattern':
      note = 'NNI has no pattern (4-of-9 kernel shapes) + connectivity granularity: element-wise at the same ratio; use the PyTorch script for the exact structure';
      break;
  }
  if (!torchModuleOf(layer.tensors[0])) note = [note, `the weight "${layer.tensors[0]}" has no torch name: op_names holds the ONNX layer id; replace it with your module's name`].filter(Boolean).join('; ');
  if (layer.tensors.length > 1) note = [note, 'recurrent layer: target_names lists weight_ih and weight_hh of your torch module (check the names)'].filter(Boolean).join('; ');
  const entry: NniEntry = {
    op_names: [module],
    target_names: layer.tensors.length > 1 ? ['weight_ih_l0', 'weight_hh_l0'] : ['weight'],
    sparse_ratio: ratio,
    granularity,
  };
  return { entry, note, module };
}

export function nniConfigFiles(input: RecipeInput): Record<string, string> {
  const rows = input.layers.map(nniEntry);
  const json = JSON.stringify(rows.map((r) => r.entry), null, 2) + '\n';
  const py = [
    '# NNI (v3) pruning config_list for the layers of a PruneMap plan, written by `prunemap export-training --format nni`.',
    `# Plan: ${pyComment(input.planWhere)} (target ${pyComment(input.target)}); model: ${pyComment(input.modelPath)}`,
    '# sparse_ratio is the rate PruneMap\'s masks reach for the layer; op_names are the PyTorch module names.',
    '# Usage: from nni_config import config_list; pruner = L1NormPruner(model, config_list)  # or another NNI pruner',
    '',
    'config_list = [',
    ...rows.flatMap((r, i) => [
      `    # ${pyComment(input.layers[i].id)}: ${pyComment(input.layers[i].spec.scheme)}${r.note ? ' - ' + pyComment(r.note) : ''}`,
      `    ${JSON.stringify(r.entry)},`,
    ]),
    ']',
    '',
  ].join('\n');
  return { 'config_list.json': json, 'nni_config.py': py };
}

/** A string safe on one comment line: no line breaks. */
export function pyComment(s: string): string {
  return s.replace(/[\r\n\u2028\u2029]+/g, ' ');
}
