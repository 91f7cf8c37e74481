// "PruneMap: Prune Model…": asks where to write, runs prunemap/prune in the server with a progress
// notification that can be cancelled (a cancelled run leaves no file), then offers to reveal the
// result. The server reports progress on a work-done token this command creates.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { SETTINGS_SECTION } from '../protocol/constants';
import { PruneRequest } from '../protocol/messages';
import type { PruneReport } from '../protocol/types';
import type { Backend } from './backend';
import { withServerProgress } from './server-progress';

/** Prunes `model` to `output` (asked for when not given); returns the report, or undefined when cancelled. */
export async function pruneModel(backend: Backend, model: vscode.Uri, output?: vscode.Uri): Promise<PruneReport | undefined> {
  output ??= await askOutput(model);
  if (!output) return undefined;
  const target = output;
  const report = await withServerProgress(backend.client, `Pruning ${path.basename(model.fsPath)}`, 'Pruning cancelled; no file was written.',
    (workDoneToken, cancel) => backend.client.sendRequest(PruneRequest.type, { uri: model.toString(), output: target.toString(), force: true, workDoneToken }, cancel));
  // Only once the progress notification has closed: not beside a "Pruning… Cancel" that no longer applies.
  if (report) void announce(report);
  return report;
}

/** The output path: a save dialog starting at `<name>.pruned.onnx` (in the outputFolder setting when set). */
async function askOutput(model: vscode.Uri): Promise<vscode.Uri | undefined> {
  const name = path.basename(model.fsPath, '.onnx') + '.pruned.onnx';
  const folder = vscode.workspace.getConfiguration(SETTINGS_SECTION).get<string>('outputFolder');
  const base = folder ? vscode.Uri.file(path.resolve(path.dirname(model.fsPath), folder)) : vscode.Uri.joinPath(model, '..');
  const output = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.joinPath(base, name), filters: { 'ONNX models': ['onnx'] }, saveLabel: 'Prune' });
  if (output && output.fsPath === model.fsPath) {
    void vscode.window.showErrorMessage('The pruned model cannot replace the model itself: choose another file name.');
    return undefined;
  }
  return output;
}

async function announce(report: PruneReport): Promise<void> {
  const { totals } = report;
  const choice = await vscode.window.showInformationMessage(
    `Pruned model written: ${path.basename(report.output)} — ${(totals.rate * 100).toFixed(1)}% of weights pruned (${totals.compression.toFixed(2)}× compression).`,
    'Reveal in Explorer', 'Open',
  );
  const uri = vscode.Uri.file(report.output);
  if (choice === 'Reveal in Explorer') await vscode.commands.executeCommand('revealInExplorer', uri);
  if (choice === 'Open') await vscode.commands.executeCommand('vscode.open', uri);
}
