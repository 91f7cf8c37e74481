// Which model a command acts on: the one it was invoked with (explorer menu, code lens), else the
// model of the active overview or text view, else one the user picks. Also keeps the context key
// `prunemap.modelActive` true while an overview or a text view is the active editor, so the command
// palette offers the model commands only then.

import * as vscode from 'vscode';
import { TEXT_VIEW_SCHEME } from '../protocol/constants';
import { AnalyzeRequest } from '../protocol/messages';
import type { Backend } from './backend';
import { modelOfTextView } from './text-view';

export const OVERVIEW_VIEW_TYPE = 'prunemap.overview';

/** The model URI of the overview tab in front, if any (the overview editor keeps it current). */
let activeOverview: vscode.Uri | undefined;
const activeModelEmitter = new vscode.EventEmitter<void>();
/** Fires when the active overview or text view changes. */
export const onDidChangeActiveModel = activeModelEmitter.event;

export function setActiveOverview(uri: vscode.Uri | undefined): void {
  activeOverview = uri;
  void updateContext();
}

/** The model URI given as a command argument: a Uri, a URI string, or `{ uri }` (code lens arguments). */
export function modelArgument(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string') return vscode.Uri.parse(arg);
  if (typeof arg === 'object' && arg !== null && typeof (arg as { uri?: unknown }).uri === 'string') return vscode.Uri.parse((arg as { uri: string }).uri);
  return undefined;
}

/** The model in front (overview or text view), without asking the user. */
export async function activeModel(backend: Backend): Promise<vscode.Uri | undefined> {
  const editor = vscode.window.activeTextEditor;
  if (editor?.document.uri.scheme === TEXT_VIEW_SCHEME) {
    const local = modelOfTextView(editor.document.uri); // no round trip when the model is where the name says
    if (local) return local;
    const { uri } = await backend.client.sendRequest(AnalyzeRequest.type, { uri: editor.document.uri.toString() });
    return vscode.Uri.parse(uri);
  }
  return activeOverview;
}

/** The command's model: its argument, the model in front, or one picked among the workspace's .onnx files. */
export async function resolveModel(backend: Backend, arg: unknown): Promise<vscode.Uri | undefined> {
  const given = modelArgument(arg) ?? (await activeModel(backend));
  if (given) return given;
  const files = await vscode.workspace.findFiles('**/*.onnx', '**/node_modules/**', 200);
  if (files.length === 0) {
    const picked = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'ONNX models': ['onnx'] }, openLabel: 'Choose model' });
    return picked?.[0];
  }
  const choice = await vscode.window.showQuickPick(
    files.map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri })),
    { placeHolder: 'Which model?' },
  );
  return choice?.uri;
}

export function registerActiveModelContext(context: vscode.ExtensionContext): void {
  context.subscriptions.push(activeModelEmitter, vscode.window.onDidChangeActiveTextEditor(() => void updateContext()));
  void updateContext();
}

async function updateContext(): Promise<void> {
  const textView = vscode.window.activeTextEditor?.document.uri.scheme === TEXT_VIEW_SCHEME;
  await vscode.commands.executeCommand('setContext', 'prunemap.modelActive', textView || activeOverview !== undefined);
  activeModelEmitter.fire();
}
