// prunemap/exportTrainingRecipe: the current plan (overrides included) handed to training — a
// PyTorch fine-tuning script, an NNI config_list or a torch.ao sparsifier config, made by the
// engine (src/core/export/training-recipe.ts) — written into a folder. All files are written to
// temporary siblings first and renamed into place only when every one is written, so a failure
// leaves no partial recipe; existing files are replaced only with `force`.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ErrorCodes, LSPErrorCodes, ResponseError } from 'vscode-languageserver/node';
import { exportTrainingRecipe, recipeFormats, type RecipeFormat } from '../core/export/training-recipe';
import type { Plan, PlanLayer } from '../core/plan';
import type { ExportTrainingRecipeParams } from '../protocol/messages';
import type { TrainingRecipeReport } from '../protocol/types';
import { specOf } from '../core/schemes/scheme';
import type { Session } from './session';
import { pathOfFileUri } from './uris';

export function exportRecipe(session: Session, params: ExportTrainingRecipeParams): TrainingRecipeReport {
  const model = session.modelPathOf(params?.uri);
  const format = params.format;
  if (!recipeFormats.includes(format as RecipeFormat)) {
    throw new ResponseError(ErrorCodes.InvalidParams, `unknown training recipe format ${JSON.stringify(format)}; formats: ${recipeFormats.join(', ')}`);
  }
  const folder = params.output === undefined ? path.dirname(model) : pathOfFileUri(params.output, 'output folder');
  if (fs.existsSync(folder) && !fs.statSync(folder).isDirectory()) {
    throw new ResponseError(ErrorCodes.InvalidParams, `${folder} is a file; give the folder to write the training recipe into`);
  }
  const view = session.view(model);
  const recipe = exportTrainingRecipe(model, currentPlan(view.plan.entries, view.plan.profile.id, path.basename(model)), `current plan for ${path.basename(model)}`, format);
  const files = Object.entries(recipe.files).map(([name, text]) => ({ file: insideFolder(folder, name), text }));
  const existing = files.map((f) => f.file).filter((f) => fs.existsSync(f));
  if (existing.length && params.force !== true) {
    throw new ResponseError(LSPErrorCodes.RequestFailed, `${existing.map((f) => path.basename(f)).join(', ')} already exist${existing.length === 1 ? 's' : ''} in ${folder}; pass "force": true to replace ${existing.length === 1 ? 'it' : 'them'}, or choose another folder`, { existing });
  }
  writeAllOrNothing(files);
  session.log.info(`exported a ${format} training recipe for ${model} → ${folder}`);
  return { format, folder, files: files.map((f) => f.file) };
}

/** The current plan as the engine takes it: every layer's spec (dense ones included). */
function currentPlan(entries: ReadonlyMap<string, { readonly spec: PlanLayer; readonly reason: string }>, target: string, modelName: string): Plan {
  const layers: Record<string, PlanLayer> = {};
  // defineProperty keeps an id such as "__proto__" an ordinary key.
  for (const [id, e] of entries) Object.defineProperty(layers, id, { value: { ...specOf(e.spec), reason: e.reason }, enumerable: true, configurable: true, writable: true });
  return { model: modelName, target, layers };
}

/** The recipe's file name resolved in the folder; a name reaching outside it is a bug in the exporter, never written. */
function insideFolder(folder: string, name: string): string {
  const file = path.resolve(folder, name);
  const relative = path.relative(path.resolve(folder), file);
  if (!relative || relative.startsWith('..') || path.isAbsolute(relative)) throw new Error(`the training recipe names a file outside its folder: ${JSON.stringify(name)}`);
  return file;
}

/** Every file to a temporary sibling, then each renamed into place; on any failure the temporaries are removed. */
function writeAllOrNothing(files: readonly { file: string; text: string }[]): void {
  const temps: string[] = [];
  try {
    for (const { file, text } of files) {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const temp = path.join(path.dirname(file), `.${path.basename(file)}.${crypto.randomBytes(6).toString('hex')}.tmp`);
      temps.push(temp);
      fs.writeFileSync(temp, text, { flag: 'wx' });
    }
    files.forEach(({ file }, i) => fs.renameSync(temps[i] as string, file));
    temps.length = 0;
  } finally {
    for (const temp of temps) fs.rmSync(temp, { force: true });
  }
}
