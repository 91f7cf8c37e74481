// The PruneMap language server (dist/server.js): `node dist/server.js --stdio`, or over IPC from
// the extension (--node-ipc). It serves the text view of .onnx models (inlay hints, hovers, code
// lenses, symbols, diagnostics) and plan files (diagnostics, completion, hover), plus the custom
// requests of src/protocol/messages.ts. This file wires handlers to features; each feature is its
// own file. Every handler is guarded: one model's failure is one error reply, never a crash.

import {
  createConnection, DidChangeConfigurationNotification, DidChangeWatchedFilesNotification, ProposedFeatures,
  TextDocumentSyncKind, type Connection, type InitializeParams, type InitializeResult,
} from 'vscode-languageserver/node';
import { AdoptSearchPlanRequest, ExportTrainingRecipeRequest, SearchRequest, SearchResultRequest } from '../protocol/messages';
import { AnalyzeRequest, CodegenRequest, LayerDetailsRequest, PruneRequest, SavePlanRequest, SetLayerRequest, SetTargetRequest, TextViewChangedNotification, TextViewRequest, WorkspaceTrustNotification } from '../protocol/messages';
import { SETTINGS_SECTION } from '../protocol/constants';
import { analyze, layerDetails } from './analyze';
import { codeLenses } from './code-lens';
import { generateCode } from './codegen-job';
import { guard, guardNotification } from './errors';
import { hoverOnTextView } from './hover';
import { inlayHints } from './inlay-hints';
import { Logger } from './log';
import { defaultCacheLimits } from './model-cache';
import { modelOfPlanFile, planFileCompletion, planFileHover } from './plan-file';
import { savePlan, setLayer, setTarget } from './plan-edits';
import { planFileOf } from './plan-state';
import { prune } from './prune-job';
import { exportRecipe } from './export-recipe';
import { search } from './search-job';
import { adoptSearchPlan, searchResult } from './search-plans';
import { publishDiagnostics, refreshAnnotations } from './refresh';
import { Session } from './session';
import { parseSettings, type Settings } from './settings';
import { documentSymbols } from './symbols';
import { textView } from './text-view';
import { fileUriOf, isPlanFilePath, tryPathOfFileUri } from './uris';
import { ModelWatcher } from './watch';

declare const PRUNEMAP_VERSION: string;

function startServer(connection: Connection): void {
  const log = new Logger(connection);
  const session = new Session(connection, log);
  const { documents } = session;
  const settingWarnings: string[] = [];
  let configurationPull = false;

  const applySettings = (settings: Settings) => {
    session.settings = settings;
    log.level = settings.logLevel;
    session.cache.setLimits({ ...defaultCacheLimits, maxModels: settings.maxCachedModels });
  };

  const watcher = new ModelWatcher(guardNotification('file change', log, (model: string) => {
    for (const doc of session.openTextViews(model)) {
      // Analyses the model again if it changed; a view whose text no longer matches asks the client to fetch it again.
      let stale = true;
      try {
        stale = session.textViewOf(doc.uri)?.stale ?? true;
      } catch {
        // the model is gone or broken: the diagnostics say so
      }
      if (stale) void connection.sendNotification(TextViewChangedNotification.type, { uri: doc.uri, modelUri: fileUriOf(model) });
    }
    refreshAnnotations(session, [model]);
  }), log);
  const watchOpenModels = () => watcher.watch([...new Set(documents.all().map((d) => session.textViewModel(d.uri)).filter((m): m is string => !!m))]);

  connection.onInitialize((params: InitializeParams): InitializeResult => {
    const c = params.capabilities;
    Object.assign(session.client, {
      inlayHintRefresh: c.workspace?.inlayHint?.refreshSupport === true,
      codeLensRefresh: c.workspace?.codeLens?.refreshSupport === true,
      hierarchicalSymbols: c.textDocument?.documentSymbol?.hierarchicalDocumentSymbolSupport === true,
    });
    configurationPull = c.workspace?.configuration === true;
    applySettings(parseSettings(params.initializationOptions, (w) => settingWarnings.push(w)));
    // VS Code says whether the workspace is trusted; other editors say nothing and are trusted.
    const init = params.initializationOptions as { workspaceTrusted?: unknown } | null | undefined;
    if (init?.workspaceTrusted === false) session.workspaceTrusted = false;
    return {
      capabilities: {
        textDocumentSync: TextDocumentSyncKind.Incremental,
        hoverProvider: true,
        inlayHintProvider: { resolveProvider: false },
        codeLensProvider: { resolveProvider: false },
        documentSymbolProvider: { label: 'PruneMap' },
        completionProvider: { triggerCharacters: ['"'] },
      },
      serverInfo: { name: 'prunemap', version: typeof PRUNEMAP_VERSION === 'string' ? PRUNEMAP_VERSION : 'dev' },
    };
  });

  connection.onInitialized(() => {
    for (const w of settingWarnings) log.warn(w);
    log.info(`PruneMap language server ready (target ${session.settings.target})`);
  });

  connection.onDidChangeConfiguration(guardNotification(DidChangeConfigurationNotification.method, log, async (params) => {
    let raw: unknown = params.settings;
    if ((raw === null || raw === undefined || (typeof raw === 'object' && !(SETTINGS_SECTION in raw))) && configurationPull) {
      raw = await connection.workspace.getConfiguration(SETTINGS_SECTION);
    }
    applySettings(parseSettings(raw, (w) => log.warn(w)));
    refreshAnnotations(session);
  }));

  connection.onDidChangeWatchedFiles(guardNotification(DidChangeWatchedFilesNotification.method, log, (params) => {
    const models = new Set<string>();
    for (const change of params.changes) {
      const file = tryPathOfFileUri(change.uri);
      if (!file) continue;
      for (const model of session.modelsInUse()) if (model === file || planFileOf(model) === file) models.add(model);
    }
    if (models.size) refreshAnnotations(session, [...models]);
  }));

  // Documents: the text views the server handed out, and plan files.
  documents.onDidChangeContent((e) => {
    try {
      publishDiagnostics(session, e.document);
      watchOpenModels();
    } catch (err) {
      log.debug(`diagnostics of ${e.document.uri}: ${String(err)}`);
    }
  });
  documents.onDidSave((e) => {
    const file = tryPathOfFileUri(e.document.uri);
    if (!file || !isPlanFilePath(file)) return;
    const { model } = modelOfPlanFile(file, e.document.getText());
    if (model) refreshAnnotations(session, [model]);
  });
  documents.onDidClose((e) => {
    session.forgetDocument(e.document.uri);
    void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
    watchOpenModels();
  });

  // Standard features.
  connection.onHover(guard('textDocument/hover', log, (params) => {
    if (session.textViewModel(params.textDocument.uri)) return hoverOnTextView(session, params);
    const file = tryPathOfFileUri(params.textDocument.uri);
    return file && isPlanFilePath(file) ? planFileHover(session, params) : null;
  }));
  connection.languages.inlayHint.on(guard('textDocument/inlayHint', log, (params) => inlayHints(session, params)));
  connection.onCodeLens(guard('textDocument/codeLens', log, (params) => codeLenses(session, params)));
  connection.onDocumentSymbol(guard('textDocument/documentSymbol', log, (params) => documentSymbols(session, params)));
  connection.onCompletion(guard('textDocument/completion', log, (params) => planFileCompletion(session, params)));

  // Custom requests (src/protocol/messages.ts, docs/protocol.md).
  connection.onRequest(TextViewRequest.type, guard(TextViewRequest.method, log, (params) => textView(session, params)));
  connection.onRequest(AnalyzeRequest.type, guard(AnalyzeRequest.method, log, (params) => analyze(session, params)));
  connection.onRequest(LayerDetailsRequest.type, guard(LayerDetailsRequest.method, log, (params) => layerDetails(session, params)));
  connection.onRequest(SetLayerRequest.type, guard(SetLayerRequest.method, log, (params) => {
    const { model, ...result } = setLayer(session, params);
    refreshAnnotations(session, [model]);
    return result;
  }));
  connection.onRequest(SetTargetRequest.type, guard(SetTargetRequest.method, log, (params) => {
    const result = setTarget(session, params);
    refreshAnnotations(session);
    return result;
  }));
  connection.onRequest(SavePlanRequest.type, guard(SavePlanRequest.method, log, (params) => {
    const { model, ...result } = savePlan(session, params);
    refreshAnnotations(session, [model]);
    return result;
  }));
  connection.onRequest(PruneRequest.type, guard(PruneRequest.method, log, (params, token) => prune(session, params, token)));
  connection.onRequest(CodegenRequest.type, guard(CodegenRequest.method, log, (params, token) => generateCode(session, params, token)));
  connection.onNotification(WorkspaceTrustNotification.type, guardNotification(WorkspaceTrustNotification.method, log, (params) => {
    session.workspaceTrusted = params?.trusted === true;
    refreshAnnotations(session); // the "Generate sparse code…" lens follows trust
  }));
  connection.onRequest(SearchRequest.type, guard(SearchRequest.method, log, (params, token) => search(session, params, token)));
  connection.onRequest(SearchResultRequest.type, guard(SearchResultRequest.method, log, (params) => searchResult(session, params)));
  connection.onRequest(AdoptSearchPlanRequest.type, guard(AdoptSearchPlanRequest.method, log, (params) => {
    const { model, ...result } = adoptSearchPlan(session, params);
    refreshAnnotations(session, [model]);
    return result;
  }));
  connection.onRequest(ExportTrainingRecipeRequest.type, guard(ExportTrainingRecipeRequest.method, log, (params) => exportRecipe(session, params)));

  connection.onShutdown(() => {
    watcher.dispose();
    session.cache.dispose();
  });

  // A bug in one model's analysis must not take the server down: log it and keep serving.
  process.on('uncaughtException', (err) => log.error(`uncaught: ${err.stack ?? err.message}`));
  process.on('unhandledRejection', (reason) => log.error(`unhandled rejection: ${String(reason)}`));

  documents.listen(connection);
  connection.listen();
}

startServer(createConnection(ProposedFeatures.all));
