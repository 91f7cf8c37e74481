// The server's shared state: settings, the model cache, the overrides, the open documents and the
// text views the server handed out (text view URI → model path; never guessed back from a URI).
// Features ask it for "the model behind this URI" and get the analysis with the current plan.

import { ErrorCodes, ResponseError, TextDocuments, type Connection } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { ModelAnalysis } from './analysis';
import type { Logger } from './log';
import { defaultCacheLimits, ModelCache } from './model-cache';
import { currentPlan, Overrides, type PlanState } from './plan-state';
import { defaultSettings, type Settings } from './settings';
import { isPlanFilePath, textViewUriOf, tryPathOfFileUri, uriKey } from './uris';

export interface ModelView {
  readonly analysis: ModelAnalysis;
  readonly plan: PlanState;
}

/** What the client told us it supports, as far as the server cares. */
export interface ClientSupport {
  inlayHintRefresh: boolean;
  codeLensRefresh: boolean;
  hierarchicalSymbols: boolean;
}

export class Session {
  settings: Settings = defaultSettings;
  readonly cache: ModelCache;
  readonly overrides = new Overrides();
  readonly documents = new TextDocuments(TextDocument);
  readonly client: ClientSupport = { inlayHintRefresh: false, codeLensRefresh: false, hierarchicalSymbols: false };
  /** False while the client says the workspace is not trusted (prunemap/workspaceTrust): no code generation then. */
  workspaceTrusted = true;
  /** uriKey(text view URI) → the URI as handed out and the model's path. */
  private readonly textViews = new Map<string, { readonly uri: string; readonly model: string }>();
  /** Per open text view: whether its text is the current analysis's text, for one document version. */
  private readonly staleMemo = new Map<string, { version: number; analysis: ModelAnalysis; stale: boolean }>();

  constructor(readonly connection: Connection, readonly log: Logger) {
    this.cache = new ModelCache(defaultCacheLimits, undefined, (a, why) => log.debug(`cache: ${why === 'changed' ? 'file changed, analysing again' : 'dropped (least recently used)'}: ${a.path}`));
  }

  /** The model at a path with its current plan (analysed now if needed; ModelError for a bad file). */
  view(modelPath: string): ModelView {
    const analysis = this.cache.get(modelPath);
    return { analysis, plan: currentPlan(analysis, this.settings, this.overrides) };
  }

  /** Records the text view of a model and returns its URI. */
  registerTextView(modelPath: string): string {
    const uri = textViewUriOf(modelPath);
    this.textViews.set(uriKey(uri), { uri, model: modelPath });
    return uri;
  }

  /** The model behind a text view URI the server handed out, else undefined. */
  textViewModel(uri: string): string | undefined {
    return this.textViews.get(uriKey(uri))?.model;
  }

  /** The model a request names: a file: URI of the model, or a text view URI the server handed out. */
  modelPathOf(uri: unknown): string {
    if (typeof uri === 'string') {
      const model = this.textViewModel(uri);
      if (model) return model;
      const file = tryPathOfFileUri(uri);
      if (file) return file;
    }
    throw new ResponseError(ErrorCodes.InvalidParams, `expected the file: URI of an .onnx model (or of its text view), got ${JSON.stringify(uri)}`);
  }

  /** Open text view documents of a model. */
  openTextViews(modelPath: string): TextDocument[] {
    return this.documents.all().filter((d) => this.textViewModel(d.uri) === modelPath);
  }

  /** Open plan files that name a model (by their location: `<name>.prune.json` beside it, or their `model` field). */
  openPlanFiles(): TextDocument[] {
    return this.documents.all().filter((d) => {
      const file = tryPathOfFileUri(d.uri);
      return file !== undefined && isPlanFilePath(file);
    });
  }

  /** Models with an open text view or plan file, and those in the cache. */
  modelsInUse(): string[] {
    const models = new Set(this.cache.paths());
    for (const d of this.documents.all()) {
      const m = this.textViewModel(d.uri);
      if (m) models.add(m);
    }
    return [...models];
  }

  /**
   * The view behind an open text view document, or undefined when the document is not a text view
   * the server handed out. `stale` when the document's text is not the model's current text view
   * (the model changed on disk since the client fetched it): annotations would land on wrong lines.
   */
  textViewOf(uri: string): (ModelView & { readonly doc: TextDocument; readonly stale: boolean }) | undefined {
    const model = this.textViewModel(uri);
    const doc = model && this.documents.get(uri);
    if (!model || !doc) return undefined;
    const view = this.view(model);
    const key = uriKey(uri);
    const memo = this.staleMemo.get(key);
    let stale: boolean;
    if (memo && memo.version === doc.version && memo.analysis === view.analysis) stale = memo.stale;
    else {
      stale = normalise(doc.getText()) !== normalise(view.analysis.text);
      this.staleMemo.set(key, { version: doc.version, analysis: view.analysis, stale });
    }
    return { ...view, doc, stale };
  }

  forgetDocument(uri: string): void {
    this.staleMemo.delete(uriKey(uri));
  }
}

/** Line endings and a missing final newline are the client's business, not a different text. */
function normalise(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(/\n+$/, '');
}
