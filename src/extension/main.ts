// The extension's entry point: starts the backend (the language server) and registers each
// feature. Thin by design (docs/architecture.md): analysis, mapping and pruning run in the server.

import * as vscode from 'vscode';
import { registerActiveModelContext } from './active-model';
import { Backend } from './backend';
import { registerCommands } from './commands';
import { registerOverviewEditor } from './overview-editor';
import { registerSettings } from './settings';
import { registerStatusBar } from './status-bar';
import { registerTasks } from './tasks';
import { registerTextView } from './text-view';

/** What activate() returns: used by the integration tests (and other extensions). */
export interface PruneMapApi {
  readonly backend: Backend;
}

export async function activate(context: vscode.ExtensionContext): Promise<PruneMapApi> {
  const backend = new Backend(context);
  context.subscriptions.push(backend);
  await backend.start();
  registerSettings(backend);
  registerActiveModelContext(context);
  registerTextView(context, backend);
  const overviews = registerOverviewEditor(context, backend);
  const status = registerStatusBar(context, backend);
  const refresh = async () => {
    await Promise.all([overviews.refreshAll(), status.update()]);
  };
  registerCommands(context, { backend, refresh, showBench: (model, result) => overviews.showBench(model, result) });
  registerTasks(context);
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('prunemap') && void refresh()),
    backend.onDidChangeState((s) => s === 'running' && void refresh()),
    vscode.workspace.onDidGrantWorkspaceTrust(() => void refresh()), // the overview offers code generation
  );
  return { backend };
}

export function deactivate(): void {
  // The backend is disposed with the context's subscriptions.
}
