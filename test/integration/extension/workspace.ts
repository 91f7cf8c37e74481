// What PruneMap's extension-host tests share: where the repository, the built CLI and the reference
// Python are, the workspace the runner opens (copies of the models), and polling for UI state.

import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import * as vscode from 'vscode';

export const REPO = path.resolve(__dirname, '../../../..');
export const CLI = path.join(REPO, 'dist/cli.js');
export const PYTHON = path.join(REPO, '.venv-ref/bin/python');

export function workspaceFile(name: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the runner opens a workspace with copies of the models');
  return vscode.Uri.joinPath(folder.uri, name);
}

/** Runs the built CLI with the extension host's Node (Electron as Node). */
export function cli(...args: string[]): string {
  return execFileSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' } });
}

export async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  // Polls without a time limit of its own: the runner's safety timeout fails a run that hangs.
  for (let attempt = 1; ; attempt++) {
    const value = await Promise.resolve().then(probe).catch((err: unknown) => {
      if (attempt % 25 === 0) console.log(`still waiting for ${what}: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    });
    if (value !== undefined) return value;
    if (attempt % 25 === 0) console.log(`still waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
