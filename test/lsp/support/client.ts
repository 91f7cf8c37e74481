// A small generic LSP client for the tests and the benchmark: spawns `node dist/server.js --stdio`
// and speaks JSON-RPC over its stdin/stdout (vscode-jsonrpc's Content-Length framing). It records
// every notification and server→client request (log messages, diagnostics, progress, refresh
// requests) so tests can assert on them, and answers the server's requests as a plain editor would.
// It follows the flow docs/editors.md describes: initialize → prunemap/textView → didOpen → features.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  CancellationTokenSource, createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection,
} from 'vscode-jsonrpc/node';

export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const SERVER = path.join(ROOT, 'dist', 'server.js');

export interface Recorded {
  readonly method: string;
  readonly params: any;
}

/** The LSP error a failed request rejects with. */
export interface LspError {
  readonly code: number;
  readonly message: string;
}

export interface StartOptions {
  readonly initializationOptions?: unknown;
  /** Client capabilities; the default claims what an editor such as VS Code supports. */
  readonly capabilities?: Record<string, unknown>;
  /** Answer to workspace/configuration requests. */
  readonly configuration?: unknown;
}

export const fullCapabilities = {
  window: { workDoneProgress: true },
  workspace: { inlayHint: { refreshSupport: true }, codeLens: { refreshSupport: true }, configuration: true },
  textDocument: {
    documentSymbol: { hierarchicalDocumentSymbolSupport: true },
    hover: { contentFormat: ['markdown', 'plaintext'] },
    inlayHint: {},
    codeLens: {},
    completion: {},
    publishDiagnostics: {},
  },
};

export class LspClient {
  readonly notifications: Recorded[] = [];
  readonly serverRequests: Recorded[] = [];
  readonly progress: { token: string | number; value: any }[] = [];
  stderr = '';
  private readonly waiters: { check: () => boolean; resolve: () => void; reject: (err: Error) => void }[] = [];
  private versions = new Map<string, number>();

  private constructor(readonly process: ChildProcessWithoutNullStreams, readonly connection: MessageConnection, private readonly configuration: unknown) {}

  static async start(options: StartOptions = {}): Promise<LspClient> {
    if (!fs.existsSync(SERVER)) throw new Error(`${SERVER} is missing: run \`npm run build\``);
    const child = spawn(process.execPath, [SERVER, '--stdio'], { stdio: 'pipe' });
    const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
    const client = new LspClient(child, connection, options.configuration);
    child.stderr.on('data', (d) => (client.stderr += d.toString()));
    // A server that dies fails whoever waits for it, instead of leaving the test hanging.
    child.on('exit', (code, signal) => {
      for (const w of client.waiters.splice(0)) w.reject(new Error(`the server exited (code ${code}, signal ${signal}) while a test waited for it; stderr: ${client.stderr}`));
    });
    connection.onNotification((method, params) => client.record(client.notifications, method, params));
    connection.onUnhandledProgress((p) => {
      client.progress.push({ token: p.token, value: p.value });
      client.record(client.notifications, '$/progress', p);
    });
    connection.onRequest((method, params) => {
      client.record(client.serverRequests, method, params);
      if (method === 'workspace/configuration') return ((params as any)?.items ?? []).map(() => client.configuration ?? null);
      return null;
    });
    connection.listen();
    await connection.sendRequest('initialize', {
      processId: process.pid,
      rootUri: null,
      capabilities: options.capabilities ?? fullCapabilities,
      initializationOptions: options.initializationOptions,
    });
    connection.sendNotification('initialized', {});
    return client;
  }

  request<R = any>(method: string, params: unknown, cancel?: CancellationTokenSource): Promise<R> {
    // vscode-jsonrpc takes a trailing undefined for a positional parameter: pass the token only when there is one.
    return cancel ? this.connection.sendRequest<R>(method, params, cancel.token) : this.connection.sendRequest<R>(method, params);
  }

  /** The request's LSP error (fails when the request succeeds). */
  async requestError(method: string, params: unknown): Promise<LspError> {
    try {
      const result = await this.request(method, params);
      throw new Error(`expected ${method} to fail, got ${JSON.stringify(result).slice(0, 300)}`);
    } catch (err) {
      const e = err as { code?: unknown; message: string };
      if (typeof e.code !== 'number') throw err;
      return { code: e.code, message: e.message };
    }
  }

  notify(method: string, params: unknown): void {
    void this.connection.sendNotification(method, params);
  }

  /** prunemap/textView, then textDocument/didOpen with the returned text (as docs/editors.md does). */
  async openTextView(model: string): Promise<{ uri: string; text: string }> {
    const view = await this.request<{ uri: string; text: string }>('prunemap/textView', { uri: fileUri(model) });
    this.open(view.uri, 'onnx-text', view.text);
    return view;
  }

  open(uri: string, languageId: string, text: string): void {
    this.versions.set(uri, 1);
    this.notify('textDocument/didOpen', { textDocument: { uri, languageId, version: 1, text } });
  }

  /** Replaces a document's whole text. */
  change(uri: string, text: string): void {
    const version = (this.versions.get(uri) ?? 1) + 1;
    this.versions.set(uri, version);
    this.notify('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ text }] });
  }

  close(uri: string): void {
    this.notify('textDocument/didClose', { textDocument: { uri } });
  }

  inlayHints(uri: string, lines = 1e6): Promise<any[]> {
    return this.request('textDocument/inlayHint', { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: lines, character: 0 } } });
  }

  hover(uri: string, line: number, character = 4): Promise<any> {
    return this.request('textDocument/hover', { textDocument: { uri }, position: { line, character } });
  }

  /**
   * Resolves once a recorded notification or server request satisfies `match` (checked on every new
   * one). Rejects if the server exits, or after `safetyMs` — not a speed limit, only so that a
   * message that never comes fails the test with its name instead of hanging the run.
   */
  async waitFor(kind: 'notification' | 'request', match: (r: Recorded) => boolean, from = 0, safetyMs = 120_000): Promise<Recorded> {
    const list = kind === 'notification' ? this.notifications : this.serverRequests;
    const find = () => list.slice(from).find(match);
    const found = find();
    if (found) return found;
    if (!this.alive) throw new Error(`the server has exited; stderr: ${this.stderr}`);
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        const waiter = { check: () => !!find(), resolve, reject };
        this.waiters.push(waiter);
        timer = setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          reject(new Error(`no matching ${kind} from the server (${match.toString().slice(0, 200)})`));
        }, safetyMs);
      });
    } finally {
      clearTimeout(timer);
    }
    return find() as Recorded;
  }

  /** The diagnostics last published for a URI, waiting for the first publication. */
  async diagnostics(uri: string, from = 0): Promise<any[]> {
    await this.waitFor('notification', (n) => n.method === 'textDocument/publishDiagnostics' && n.params.uri === uri, from);
    const all = this.notifications.filter((n) => n.method === 'textDocument/publishDiagnostics' && n.params.uri === uri);
    return all[all.length - 1].params.diagnostics;
  }

  /** Number of recorded notifications / server requests so far (a starting point for waitFor). */
  mark(): { notifications: number; requests: number } {
    return { notifications: this.notifications.length, requests: this.serverRequests.length };
  }

  get alive(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  async stop(): Promise<void> {
    if (!this.alive) return;
    const exited = new Promise((resolve) => this.process.once('exit', resolve));
    try {
      await this.request('shutdown', null);
      this.notify('exit', null);
    } catch {
      this.process.kill();
    }
    await exited;
    this.connection.dispose();
  }

  private record(list: Recorded[], method: string, params: unknown): void {
    list.push({ method, params });
    for (const w of [...this.waiters]) {
      if (w.check()) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  }
}

export function fileUri(file: string): string {
  return pathToFileURL(file).href;
}

export { CancellationTokenSource };
