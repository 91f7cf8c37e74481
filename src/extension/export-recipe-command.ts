// "PruneMap: Export Training Recipe…": a quick pick of the format (PyTorch fine-tuning script, NNI
// config_list, torch.ao sparsifier config), a folder dialog starting next to the model, then
// prunemap/exportTrainingRecipe writes the files for the current plan. Files already in the folder
// are replaced only after the user agrees.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { ExportTrainingRecipeRequest, type ExportTrainingRecipeParams } from '../protocol/messages';
import type { TrainingRecipeReport } from '../protocol/types';
import type { Backend } from './backend';

type RecipeFormat = ExportTrainingRecipeParams['format'];

const FORMATS: { label: string; description: string; format: RecipeFormat }[] = [
  { label: 'PyTorch fine-tuning script', description: 'a self-contained script that retrains with the plan\'s masks', format: 'pytorch' },
  { label: 'NNI config_list', description: 'for NNI\'s pruners', format: 'nni' },
  { label: 'torch.ao sparsifier config', description: 'for torch.ao.pruning\'s WeightNormSparsifier', format: 'torch-ao' },
];

export function isRecipeFormat(value: unknown): value is RecipeFormat {
  return FORMATS.some((f) => f.format === value);
}

/** Exports the current plan's training recipe; the format and folder are asked for when not given. Undefined when the user cancelled. */
export async function exportTrainingRecipe(backend: Backend, model: vscode.Uri, format?: RecipeFormat, folder?: vscode.Uri): Promise<TrainingRecipeReport | undefined> {
  format ??= (await vscode.window.showQuickPick(FORMATS, { placeHolder: `Export the current plan of ${path.basename(model.fsPath)} for training as…` }))?.format;
  if (!format) return undefined;
  const asked = folder === undefined;
  folder ??= (await vscode.window.showOpenDialog({
    canSelectFiles: false, canSelectFolders: true, canSelectMany: false,
    defaultUri: vscode.Uri.joinPath(model, '..'), openLabel: 'Export Here', title: 'Folder for the training recipe',
  }))?.[0];
  if (!folder) return undefined;
  const params: ExportTrainingRecipeParams = { uri: model.toString(), format, output: folder.toString() };
  let report: TrainingRecipeReport;
  try {
    report = await backend.client.sendRequest(ExportTrainingRecipeRequest.type, params);
  } catch (err) {
    const existing = (err as { data?: { existing?: unknown } }).data?.existing;
    if (!Array.isArray(existing)) throw err;
    const names = existing.map((f) => path.basename(String(f))).join(', ');
    const replace = await vscode.window.showWarningMessage(`${names} already ${existing.length === 1 ? 'exists' : 'exist'} in ${folder.fsPath}. Replace?`, { modal: true }, 'Replace');
    if (replace !== 'Replace') return undefined;
    report = await backend.client.sendRequest(ExportTrainingRecipeRequest.type, { ...params, force: true });
  }
  if (asked) void announce(report);
  return report;
}

async function announce(report: TrainingRecipeReport): Promise<void> {
  const label = FORMATS.find((f) => f.format === report.format)?.label ?? report.format;
  const choice = await vscode.window.showInformationMessage(`${label} written: ${report.files.map((f) => path.basename(f)).join(', ')}.`, 'Open');
  // The script or config itself, not the data files beside it.
  const first = report.files.find((f) => /\.(py|json)$/.test(f)) ?? report.files[0];
  if (choice === 'Open' && first) await vscode.window.showTextDocument(vscode.Uri.file(first), { preview: false });
}
