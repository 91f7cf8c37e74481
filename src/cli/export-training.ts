// `prunemap export-training MODEL --plan PLAN [--format pytorch|nni|torch-ao] -o DIR [--force]`:
// the training hand-off (docs/training.md) — the plan as a self-contained PyTorch fine-tuning script
// (with the plan's masks), an NNI config_list or a torch.ao sparsifier config. The folder appears
// whole or not at all (written in a temporary sibling, then renamed).

import * as path from 'node:path';
import { writeOutputDir } from '../core/codegen/output-dir';
import { exportTrainingRecipe, recipeFormats, type RecipeFormat } from '../core/export/training-recipe';
import { findLayers } from '../core/layers';
import { loadModel } from '../core/onnx/load';
import { parse, UsageError, type Command } from './command';
import { readPlanForModel } from './read-plan';

export const exportTrainingCommand: Command = {
  name: 'export-training',
  usage: 'export-training MODEL --plan PLAN [--format F] -o DIR [--force]',
  summary: 'writes a fine-tuning recipe for the plan: PyTorch script, NNI or torch.ao config',
  async run(args) {
    const { values, positionals } = parse(args, {
      plan: { type: 'string' }, format: { type: 'string' }, output: { type: 'string', short: 'o' }, force: { type: 'boolean' },
    }, ['MODEL']);
    if (values.help) return help();
    if (!values.plan) throw new UsageError('--plan PLAN is required');
    if (!values.output) throw new UsageError('-o DIR is required');
    const format = (values.format ?? 'pytorch') as RecipeFormat;
    if (!recipeFormats.includes(format)) throw new UsageError(`unknown --format "${values.format}"; use ${recipeFormats.join(', ')}`);
    const model = positionals[0];
    // The plan is checked against the model first, so its problems come with line and column.
    const loaded = loadModel(model);
    let plan;
    try {
      plan = readPlanForModel(values.plan, loaded.model, findLayers(loaded.model, loaded.tensors));
    } finally {
      loaded.close();
    }
    const recipe = exportTrainingRecipe(model, plan, values.plan, format);
    const out = path.resolve(values.output);
    await writeOutputDir(out, recipe.files, !!values.force, () => undefined);
    const names = Object.keys(recipe.files).sort();
    process.stdout.write(`wrote ${out}: ${names.join(', ')}\n`);
    if (format === 'pytorch') process.stdout.write(`run: python ${path.join(out, 'finetune.py')} --help\n`);
    return 0;
  },
};

function help(): number {
  process.stdout.write([
    'usage: prunemap export-training MODEL --plan PLAN [--format pytorch|nni|torch-ao] -o DIR [--force]',
    '',
    'Writes the training hand-off for the plan into the folder DIR (docs/training.md):',
    '  pytorch   finetune.py (self-contained: torch, onnx, numpy), recipe.json and masks.json; the script',
    '            fine-tunes the pruned model with the plan\'s masks (masked retraining, or --admm) and',
    '            writes the fine-tuned model back to ONNX',
    '  nni       config_list.json and nni_config.py (NNI v3 config_list, with notes)',
    '  torch-ao  torch_ao_config.py and torch_ao_config.json (WeightNormSparsifier config, with notes)',
    'An existing non-empty DIR is replaced only with --force.',
  ].join('\n') + '\n');
  return 0;
}
