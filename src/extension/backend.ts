// The backend: the PruneMap language server (dist/server.js) started as a child Node process over
// IPC, its output channel, and the restart policy. The extension stays thin (docs/architecture.md):
// every feature asks the server through `backend.client`.

import * as vscode from 'vscode';
import {
  CloseAction, ErrorAction, LanguageClient, State, TransportKind,
  type CloseHandlerResult, type ErrorHandler, type ErrorHandlerResult, type LanguageClientOptions, type ServerOptions,
} from 'vscode-languageclient/node';
import { SETTINGS_SECTION, TEXT_VIEW_LANGUAGE, TEXT_VIEW_SCHEME } from '../protocol/constants';
import { WorkspaceTrustNotification } from '../protocol/messages';

/** Restarts allowed within RESTART_WINDOW_MS before giving up with a message. */
const MAX_RESTARTS = 4;
const RESTART_WINDOW_MS = 3 * 60_000;

export class Backend implements vscode.Disposable {
  readonly output = vscode.window.createOutputChannel('PruneMap', { log: true });
  private current: LanguageClient | undefined;
  private readonly crashes: number[] = [];
  private readonly stateEmitter = new vscode.EventEmitter<'running' | 'stopped'>();
  /** Fires when the server (re)starts or stops for good. */
  readonly onDidChangeState = this.stateEmitter.event;

  constructor(private readonly context: vscode.ExtensionContext) {
    // The server refuses code generation until told the workspace is trusted (docs/protocol.md).
    context.subscriptions.push(vscode.workspace.onDidGrantWorkspaceTrust(() => {
      if (this.current?.state === State.Running) void this.current.sendNotification(WorkspaceTrustNotification.type, { trusted: true });
    }));
  }

  /** The running client; throws a one-line error when the backend is not running. */
  get client(): LanguageClient {
    if (!this.current || this.current.state !== State.Running) {
      throw new Error('The PruneMap backend is not running. Run "PruneMap: Restart Backend" (its log: "PruneMap: Show Output").');
    }
    return this.current;
  }

  async start(): Promise<void> {
    const serverModule = this.context.asAbsolutePath('dist/server.js');
    const run = { module: serverModule, transport: TransportKind.ipc };
    const serverOptions: ServerOptions = { run, debug: run };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [
        { scheme: TEXT_VIEW_SCHEME, language: TEXT_VIEW_LANGUAGE },
        { scheme: 'file', pattern: '**/*.prune.json' },
      ],
      outputChannel: this.output,
      initializationOptions: { [SETTINGS_SECTION]: vscode.workspace.getConfiguration(SETTINGS_SECTION), workspaceTrusted: vscode.workspace.isTrusted },
      synchronize: { configurationSection: SETTINGS_SECTION },
      errorHandler: this.errorHandler(),
    };
    this.current = new LanguageClient('prunemap', 'PruneMap backend', serverOptions, clientOptions);
    this.current.onDidChangeState((e) => {
      if (e.newState === State.Running) this.stateEmitter.fire('running');
      if (e.newState === State.Stopped) this.stateEmitter.fire('stopped');
    });
    await this.current.start();
  }

  /** Stops the server (if running) and starts a fresh one; the crash count starts over. */
  async restart(): Promise<void> {
    this.crashes.length = 0;
    const old = this.current;
    this.current = undefined;
    if (old) await old.dispose().catch(() => undefined);
    await this.start();
  }

  dispose(): void {
    void this.current?.dispose();
    this.output.dispose();
    this.stateEmitter.dispose();
  }

  /** Restart after a crash, at most MAX_RESTARTS times within RESTART_WINDOW_MS; then say so. */
  private errorHandler(): ErrorHandler {
    return {
      error: (): ErrorHandlerResult => ({ action: ErrorAction.Continue }),
      closed: (): CloseHandlerResult => {
        const now = Date.now();
        this.crashes.push(now);
        while (this.crashes.length && now - this.crashes[0] > RESTART_WINDOW_MS) this.crashes.shift();
        if (this.crashes.length > MAX_RESTARTS) {
          return {
            action: CloseAction.DoNotRestart,
            message: `The PruneMap backend stopped ${this.crashes.length} times in ${RESTART_WINDOW_MS / 60_000} minutes and was not restarted. See "PruneMap: Show Output", then run "PruneMap: Restart Backend".`,
          };
        }
        this.output.warn(`The backend stopped; restarting it (${this.crashes.length} of ${MAX_RESTARTS} restarts allowed in ${RESTART_WINDOW_MS / 60_000} minutes).`);
        return { action: CloseAction.Restart, handled: true };
      },
    };
  }
}
