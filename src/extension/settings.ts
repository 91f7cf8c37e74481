// The `prunemap.*` settings the commands change (target device, target compression). The server
// reads every setting itself (initializationOptions and workspace/didChangeConfiguration); a change
// made here is also sent as prunemap/setTarget so it applies before the next request.

import * as vscode from 'vscode';
import { SETTINGS_SECTION } from '../protocol/constants';
import { SetTargetRequest } from '../protocol/messages';
import type { Backend } from './backend';

let backendRef: Backend | undefined;

export function registerSettings(backend: Backend): void {
  backendRef = backend;
}

function config(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration(SETTINGS_SECTION);
}

/** Where a setting change goes: the workspace when one is open, else the user's settings. */
function scope(): vscode.ConfigurationTarget {
  return vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
}

/** The device profiles, as package.json's `prunemap.target` setting lists them (a unit test keeps it equal to the profiles). */
function targets(): { id: string; description: string }[] {
  const ext = vscode.extensions.getExtension('prunemap.prunemap');
  const property = ext?.packageJSON?.contributes?.configuration?.properties?.['prunemap.target'];
  const ids: string[] = property?.enum ?? [];
  const descriptions: string[] = property?.enumDescriptions ?? [];
  return ids.map((id, i) => ({ id, description: descriptions[i] ?? '' }));
}

/** A target's name for people ("Snapdragon 855 CPU (…) (modelled)"), or its id when unknown. */
export function targetName(id: string): string {
  return targets().find((t) => t.id === id)?.description || id;
}

export function currentTarget(): string {
  return config().get<string>('target') ?? 'snapdragon855-cpu';
}

export function currentCompression(): number {
  return config().get<number>('compression') ?? 4;
}

/** Sets the target device (asks with a quick pick when none is given). */
export async function selectTarget(target?: string): Promise<void> {
  if (target === undefined) {
    const active = currentTarget();
    const pick = await vscode.window.showQuickPick(
      targets().map((t) => ({ label: t.id, description: t.id === active ? '(current)' : undefined, detail: t.description })),
      { placeHolder: 'Target device for latency estimates and the rule-based plan' },
    );
    if (!pick) return;
    target = pick.label;
  }
  await config().update('target', target, scope());
  await backendRef?.client.sendRequest(SetTargetRequest.type, { target });
}

/** Sets the target compression of the rule-based plan (asks when none is given). */
export async function setCompression(value?: number): Promise<void> {
  if (value === undefined) {
    const text = await vscode.window.showInputBox({
      prompt: 'Target compression over the prunable weights (e.g. 4 keeps a quarter of them)',
      value: String(currentCompression()),
      validateInput: (s) => (Number(s) > 1 && Number(s) <= 64 ? undefined : 'Enter a number above 1 and at most 64'),
    });
    if (text === undefined) return;
    value = Number(text);
  }
  await config().update('compression', value, scope());
}
