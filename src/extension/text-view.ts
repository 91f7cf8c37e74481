// The text view: a read-only document per model (`prunemap-text:` URIs, language onnx-text) whose
// content comes from the server (prunemap/textView). The server then annotates it with inlay hints,
// hovers, code lenses and symbols like any other document. When the model changes on disk the
// server says so and the content is fetched again.

import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { TEXT_VIEW_SCHEME } from '../protocol/constants';
import { AnalyzeRequest, TextViewChangedNotification, TextViewRequest } from '../protocol/messages';
import type { Backend } from './backend';

export class TextViewProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly backend: Backend) {
    const listen = () => backend.client.onNotification(TextViewChangedNotification.type, (p) => this.changed.fire(vscode.Uri.parse(p.uri)));
    this.subscriptions.push(listen(), backend.onDidChangeState((s) => s === 'running' && this.subscriptions.push(listen())));
  }

  async provideTextDocumentContent(uri: vscode.Uri, token: vscode.CancellationToken): Promise<string> {
    // Ask by the model's file: URI: a restarted server (or a reloaded window) no longer knows the text view URIs it gave out.
    const model = modelOfTextView(uri);
    const result = await this.backend.client.sendRequest(TextViewRequest.type, { uri: (model ?? uri).toString() }, token);
    return result.text;
  }

  dispose(): void {
    this.changed.dispose();
    for (const s of this.subscriptions) s.dispose();
  }
}

/**
 * The model file of a text view URI, undoing docs/protocol.md's naming (`x.onnx` → `x.onnx-text`,
 * any other name → `name.onnx-text`): the candidate that exists on disk, else undefined.
 */
export function modelOfTextView(uri: vscode.Uri): vscode.Uri | undefined {
  const p = uri.path;
  if (!p.endsWith('.onnx-text')) return undefined;
  const candidates = [p.slice(0, -'-text'.length), p.slice(0, -'.onnx-text'.length)];
  const found = candidates.find((c) => fs.existsSync(vscode.Uri.file(c).fsPath));
  return found === undefined ? undefined : vscode.Uri.file(found);
}

/** Opens the model's text view (read-only, language onnx-text), at the layer's line when given. */
export async function openTextView(backend: Backend, model: vscode.Uri, layer?: string): Promise<vscode.TextEditor> {
  const { uri } = await backend.client.sendRequest(TextViewRequest.type, { uri: model.toString() });
  const document = await vscode.workspace.openTextDocument(vscode.Uri.parse(uri));
  const editor = await vscode.window.showTextDocument(document, { preview: false });
  if (layer !== undefined) {
    const analysis = await backend.client.sendRequest(AnalyzeRequest.type, { uri: model.toString() });
    const row = analysis.summary.layers.find((l) => l.id === layer);
    if (row) {
      const line = new vscode.Position(Math.max(0, row.line - 1), 0); // the summary's lines are 1-based
      editor.selection = new vscode.Selection(line, line);
      editor.revealRange(new vscode.Range(line, line), vscode.TextEditorRevealType.InCenter);
    }
  }
  return editor;
}

export function registerTextView(context: vscode.ExtensionContext, backend: Backend): TextViewProvider {
  const provider = new TextViewProvider(backend);
  context.subscriptions.push(provider, vscode.workspace.registerTextDocumentContentProvider(TEXT_VIEW_SCHEME, provider));
  return provider;
}
