// "PruneMap: Generate Sparse Code…": asks for the output folder and whether to verify and benchmark,
// runs prunemap/codegen in the server with a progress notification that can be cancelled (a
// cancelled run leaves no folder), then offers to open the folder; after a benchmark it gives the
// whole-model speedup over onnxruntime and hands the per-layer timings to the overview. Only in a
// trusted workspace: the palette hides the command otherwise, and the server refuses it.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { SETTINGS_SECTION } from '../protocol/constants';
import { CodegenRequest, type CodegenResult } from '../protocol/messages';
import type { Backend } from './backend';
import { withServerProgress } from './server-progress';

/** What to run; given by scripts and tests (the command's second argument) to skip the dialogs. */
export interface CodegenOptions {
  /** The output folder; default `<name>.codegen` beside the model (or in the outputFolder setting). */
  outputDir?: vscode.Uri;
  verify?: boolean;
  bench?: boolean;
  /** Replace a non-empty output folder without asking. */
  force?: boolean;
}

/** Receives a finished benchmark (the overview shows it beside the estimates). */
export type BenchSink = (model: vscode.Uri, result: CodegenResult) => void | Promise<void>;

/** Generates code for `model`; returns the result, or undefined when the user backed out or cancelled. */
export async function generateSparseCode(backend: Backend, model: vscode.Uri, given: CodegenOptions | undefined, onBench: BenchSink): Promise<CodegenResult | undefined> {
  // In Restricted Mode no dialog first: the server refuses at once, with the reason.
  const options = given ?? (vscode.workspace.isTrusted ? await ask(model) : {});
  if (!options) return undefined;
  const title = `Generating sparse code for ${path.basename(model.fsPath)}`;
  let result: CodegenResult | undefined;
  try {
    result = await withServerProgress(backend.client, title, 'Code generation cancelled; no folder was written.', (workDoneToken, cancel) =>
      backend.client.sendRequest(CodegenRequest.type, {
        uri: model.toString(),
        outputDir: options.outputDir?.toString(),
        verify: options.verify === true,
        bench: options.bench === true,
        force: options.force === true,
        workDoneToken,
      }, cancel));
  } catch (err) {
    // The server's refusal in Restricted Mode, with the way out (other errors: the command table shows them).
    if (!vscode.workspace.isTrusted && /trusted workspace/.test(err instanceof Error ? err.message : '')) {
      void offerTrust((err as Error).message);
      return undefined;
    }
    throw err;
  }
  if (!result) return undefined;
  if (result.bench) await onBench(model, result);
  // Only once the progress notification has closed.
  void announce(result);
  return result;
}

/** The output folder and what to run; undefined when the user backs out. */
async function ask(model: vscode.Uri): Promise<CodegenOptions | undefined> {
  const name = path.basename(model.fsPath).replace(/\.onnx$/i, '') + '.codegen';
  const folder = vscode.workspace.getConfiguration(SETTINGS_SECTION).get<string>('outputFolder');
  const base = folder ? path.resolve(path.dirname(model.fsPath), folder) : path.dirname(model.fsPath);
  const typed = await vscode.window.showInputBox({
    title: 'Generate Sparse Code (1/2)',
    prompt: 'Folder for the generated C code (created; replaced after asking when it is not empty)',
    value: path.join(base, name),
    validateInput: (v) => (v.trim() === '' ? 'Give a folder' : path.isAbsolute(v.trim()) ? undefined : 'Give an absolute path'),
  });
  if (typed === undefined) return undefined;
  const outputDir = vscode.Uri.file(typed.trim());
  const modes = [
    { label: 'Generate', description: 'write the C sources', verify: false, bench: false },
    { label: 'Generate and verify', description: 'compile, and compare the output with onnxruntime', verify: true, bench: false },
    { label: 'Generate, verify and benchmark', description: 'also time every layer and the model against onnxruntime', verify: true, bench: true },
  ];
  const mode = await vscode.window.showQuickPick(modes, { title: 'Generate Sparse Code (2/2)', placeHolder: `Code for ${path.basename(model.fsPath)} into ${typed.trim()}` });
  if (!mode) return undefined;
  let force = false;
  if (await isNonEmptyFolder(outputDir)) {
    const replace = await vscode.window.showWarningMessage(`${outputDir.fsPath} is not empty. Replace it with the generated code?`, { modal: true }, 'Replace');
    if (replace !== 'Replace') return undefined;
    force = true;
  }
  return { outputDir, verify: mode.verify, bench: mode.bench, force };
}

async function isNonEmptyFolder(uri: vscode.Uri): Promise<boolean> {
  try {
    return (await vscode.workspace.fs.readDirectory(uri)).length > 0;
  } catch {
    return false;
  }
}

async function offerTrust(message: string): Promise<void> {
  const choice = await vscode.window.showErrorMessage(`PruneMap: ${message}`, 'Manage Workspace Trust');
  if (choice) await vscode.commands.executeCommand('workbench.trust.manage');
}

async function announce(result: CodegenResult): Promise<void> {
  const folder = vscode.Uri.file(result.outputDir);
  const parts = [`Sparse code written to ${path.basename(result.outputDir)} (${result.layers.length} layers)`];
  if (result.verified !== undefined) {
    parts.push(result.verified
      ? `verified against onnxruntime (max abs error ${result.maxAbsError?.toPrecision(2)})`
      : `VERIFICATION FAILED: max abs error ${result.maxAbsError?.toPrecision(3)} vs onnxruntime`);
  }
  if (result.bench) {
    const { oursMs, ortMs } = result.bench.model;
    parts.push(`whole model ${oursMs.toPrecision(3)} ms vs onnxruntime ${ortMs.toPrecision(3)} ms: ${(ortMs / oursMs).toFixed(2)}× (this machine, 1 thread)`);
  }
  const text = parts.join(' — ') + '.';
  const show = result.verified === false ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
  const choice = await show(text, 'Open Folder', 'Reveal in Explorer');
  if (choice === 'Open Folder') await vscode.commands.executeCommand('vscode.openFolder', folder, { forceNewWindow: true });
  if (choice === 'Reveal in Explorer') await vscode.commands.executeCommand('revealInExplorer', folder);
}
