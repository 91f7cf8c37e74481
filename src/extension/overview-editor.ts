// The overview: the custom editor that opens when an .onnx file is clicked. It hosts the webview
// (webview/, HTML from overview-html.ts), turns the server's analysis into the weight-free
// ModelView the webview draws, and turns the webview's requests into server requests. The webview
// is a web page: everything it posts is parsed with parseWebviewMessage and nothing else is used.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { AnalyzeRequest, SearchResultRequest, SetLayerRequest, type AnalyzeResult, type CodegenResult } from '../protocol/messages';
import { SCHEME_IDS, parseWebviewMessage, type BenchSummary, type HostMessage, type LayerRow, type MeasuredLatency, type ModelView, type WebviewMessage } from '../protocol/webview';
import { OVERVIEW_VIEW_TYPE, setActiveOverview } from './active-model';
import type { Backend } from './backend';
import { makeNonce, overviewHtml } from './overview-html';
import { searchView } from './search-view';
import { selectTarget, targetName } from './settings';
import { openTextView } from './text-view';

/** One open overview tab. */
interface Overview {
  readonly uri: vscode.Uri;
  readonly panel: vscode.WebviewPanel;
  error?: string;
}

/** The last benchmark of a model's generated code: what the overview shows beside the estimates. */
export interface Measurements {
  readonly summary: BenchSummary;
  readonly layers: ReadonlyMap<string, MeasuredLatency>;
}

export class OverviewEditorProvider implements vscode.CustomReadonlyEditorProvider {
  private readonly open = new Set<Overview>();
  /** Model URI → its last benchmark, while the extension runs (measurements of this machine, not saved). */
  private readonly measured = new Map<string, Measurements>();

  constructor(private readonly context: vscode.ExtensionContext, private readonly backend: Backend) {}

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): void {
    const assets = vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'webview');
    const webview = panel.webview;
    webview.options = { enableScripts: true, localResourceRoots: [assets] };
    webview.html = overviewHtml({
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(assets, 'overview.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(assets, 'overview.css')).toString(),
      nonce: makeNonce(),
    });
    const overview: Overview = { uri: document.uri, panel };
    this.open.add(overview);
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.joinPath(document.uri, '..'), path.basename(document.uri.fsPath)));
    panel.onDidDispose(() => {
      this.open.delete(overview);
      watcher.dispose();
      if (panel.active) setActiveOverview(undefined);
    });
    panel.onDidChangeViewState(() => setActiveOverview(panel.active ? document.uri : undefined));
    if (panel.active) setActiveOverview(document.uri);
    watcher.onDidChange(() => void this.show(overview));
    webview.onDidReceiveMessage((raw) => {
      const message = parseWebviewMessage(raw);
      if (message) void this.handle(overview, message);
    });
  }

  /** Keeps a benchmark of the model's generated code and shows it in the model's open overviews. */
  async showBench(model: vscode.Uri, result: CodegenResult): Promise<void> {
    if (!result.bench) return;
    const layers = new Map(result.bench.layers.map((l) => [l.id, { scheme: l.scheme, oursMs: l.oursMs, ortMs: l.ortMs, denseOursMs: l.denseOursMs }]));
    const summary: BenchSummary = { oursMs: result.bench.model.oursMs, ortMs: result.bench.model.ortMs, ...(result.verified === undefined ? {} : { verified: result.verified }) };
    this.measured.set(model.toString(), { summary, layers });
    await Promise.all([...this.open].filter((o) => o.uri.toString() === model.toString()).map((o) => this.show(o)));
  }

  /** Re-sends every open overview's view (after a plan, target or settings change). */
  async refreshAll(): Promise<void> {
    await Promise.all([...this.open].map((o) => this.show(o)));
  }

  private async handle(overview: Overview, message: WebviewMessage): Promise<void> {
    const uri = overview.uri;
    switch (message.type) {
      case 'ready':
        return this.show(overview);
      case 'setLayer': {
        const { layer, scheme, rate, block, n, m } = message;
        try {
          await this.backend.client.sendRequest(SetLayerRequest.type, { uri: uri.toString(), layer, scheme, rate, params: { block, n, m } });
          overview.error = undefined;
        } catch (err) {
          overview.error = errorText(err);
        }
        return this.refreshAll();
      }
      case 'setTarget':
        await selectTarget(message.target);
        return;
      case 'openTextView':
        await openTextView(this.backend, uri, message.layer);
        return;
      case 'prune':
        await vscode.commands.executeCommand('prunemap.pruneModel', uri);
        return;
      case 'generateCode':
        await vscode.commands.executeCommand('prunemap.generateCode', uri);
        return;
      case 'openPlan':
        await vscode.commands.executeCommand('prunemap.openPlan', uri);
        return;
      case 'searchPlan':
        await vscode.commands.executeCommand('prunemap.searchPlan', uri);
        return;
      case 'adoptSearchPlan':
        await vscode.commands.executeCommand('prunemap.adoptSearchPlan', uri);
        return;
      case 'saveSearchPlan':
        await vscode.commands.executeCommand('prunemap.saveSearchPlan', uri);
        return;
    }
  }

  private async show(overview: Overview): Promise<void> {
    let message: HostMessage;
    try {
      const analysis = await this.backend.client.sendRequest(AnalyzeRequest.type, { uri: overview.uri.toString() });
      const view = modelView(analysis, overview.error, this.measured.get(overview.uri.toString()));
      const search = await this.backend.client.sendRequest(SearchResultRequest.type, { uri: overview.uri.toString() });
      if (search) view.search = searchView(search);
      message = { type: 'show', view };
    } catch (err) {
      message = { type: 'error', message: errorText(err) };
    }
    await overview.panel.webview.postMessage(message);
  }
}

/** The server's analysis as the webview's weight-free view, with the model's last benchmark when there is one. */
export function modelView(analysis: AnalyzeResult, error?: string, measured?: Measurements): ModelView {
  const { summary, plan } = analysis;
  const layers: LayerRow[] = summary.layers.map((l) => {
    const entry = plan.layers[l.id];
    return {
      id: l.id, op: l.op, inputShape: l.inputShape, outputShape: l.outputShape, weightShape: l.weightShape,
      macs: l.macs, params: l.params,
      scheme: entry?.scheme ?? 'dense', block: entry?.block, n: entry?.n, m: entry?.m, rate: entry?.rate ?? 0,
      denseMs: entry?.latency.denseMs ?? 0, prunedMs: entry?.latency.prunedMs ?? 0,
      reason: entry?.reason ?? '',
      feasibleSchemes: entry?.feasibleSchemes ?? [...SCHEME_IDS],
      ...(measured?.layers.has(l.id) ? { measured: { ...measured.layers.get(l.id)! } } : {}),
    };
  });
  return {
    fileName: path.basename(vscode.Uri.parse(analysis.uri).fsPath),
    summary: {
      params: layers.reduce((n, l) => n + l.params, 0), macs: layers.reduce((n, l) => n + l.macs, 0),
      denseMs: plan.totals.denseMs, prunedMs: plan.totals.prunedMs, speedup: plan.totals.speedup, compression: plan.totals.compression,
    },
    target: plan.target,
    basis: plan.basis,
    targets: (plan.targets ?? [plan.target]).map((id) => ({ id, name: targetName(id) })),
    layers,
    busy: false,
    error: error ?? plan.error,
    workspaceTrusted: vscode.workspace.isTrusted,
    ...(measured ? { bench: { ...measured.summary } } : {}),
  };
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function registerOverviewEditor(context: vscode.ExtensionContext, backend: Backend): OverviewEditorProvider {
  const provider = new OverviewEditorProvider(context, backend);
  context.subscriptions.push(vscode.window.registerCustomEditorProvider(OVERVIEW_VIEW_TYPE, provider, {
    supportsMultipleEditorsPerDocument: true,
    webviewOptions: { retainContextWhenHidden: false }, // the webview keeps its state with setState
  }));
  return provider;
}
