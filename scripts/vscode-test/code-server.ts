// Starts code-server (the VS Code server + web workbench) for one test run: a free 127.0.0.1 port,
// no auth, no telemetry or gallery, fresh user data and extensions dirs in a temp dir.

import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CODE_SERVER_ENTRY, checkSetup } from './paths';
import { spawnGroup } from './process-group';
import { makeTempDir } from './temp-dir';

export interface CodeServerOptions {
  /** Keep workspace trust on (VS Code's default) instead of --disable-workspace-trust. The folder
   *  then opens in Restricted Mode, without the startup prompt that would block the run. */
  trust?: boolean;
  /** Use these installed extensions instead of an empty dir (see installExtension). */
  extensionsDir?: string;
  /** Extra environment for the server and so for the extension host it starts. */
  env?: Record<string, string>;
  /** Extra user settings. */
  settings?: Record<string, unknown>;
}

export interface CodeServer {
  /** e.g. http://127.0.0.1:41234 */
  origin: string;
  /** The vscode-remote:// URI under which the workbench sees a local absolute path. */
  remoteUri(absPath: string): string;
  /** Everything the server printed so far (for error messages). */
  output(): string;
  stop(): Promise<void>;
}

const BASE_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  // The fixtures live inside this repository: no "open the parent git repository?" toast.
  'git.openRepositoryInParentFolders': 'never',
};

export async function startCodeServer(options: CodeServerOptions = {}): Promise<CodeServer> {
  checkSetup();
  const tmp = makeTempDir('prunemap-vscode-');
  const userDataDir = join(tmp.path, 'user-data');
  const extensionsDir = options.extensionsDir ?? join(tmp.path, 'extensions');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  const settings = {
    ...BASE_SETTINGS,
    ...(options.trust ? { 'security.workspace.trust.startupPrompt': 'never' } : {}),
    ...options.settings,
  };
  writeFileSync(join(userDataDir, 'User', 'settings.json'), JSON.stringify(settings, null, 2));

  const args = [
    CODE_SERVER_ENTRY,
    '--auth', 'none',
    '--bind-addr', '127.0.0.1:0', // the OS picks a free port; we read it from the log
    '--disable-telemetry',
    '--disable-update-check',
    ...(options.trust ? [] : ['--disable-workspace-trust']),
    '--config', join(tmp.path, 'config.yaml'),
    '--user-data-dir', userDataDir,
    '--extensions-dir', extensionsDir,
  ];
  const group = spawnGroup(process.execPath, args, {
    env: { ...serverEnv(tmp.path), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stop = async () => {
    await group.stop();
    tmp.remove();
  };

  let output = '';
  const port = new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /HTTP server listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    };
    group.child.stdout!.on('data', onData);
    group.child.stderr!.on('data', onData);
    group.child.once('exit', (code, signal) =>
      reject(new Error(`code-server exited (${signal ?? code}) before listening:\n${output}`)),
    );
  });

  try {
    const origin = `http://127.0.0.1:${await port}`;
    await waitForHealthz(origin, group.child);
    const authority = new URL(origin).host;
    return {
      origin,
      remoteUri: (absPath) => `vscode-remote://${authority}${encodeURI(absPath)}`,
      output: () => output,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Installs a VSIX into an extensions dir with code-server's own CLI. */
export async function installExtension(vsix: string, extensionsDir: string): Promise<void> {
  checkSetup();
  const tmp = makeTempDir('prunemap-vscode-install-');
  try {
    await promisify(execFile)(process.execPath, [
      CODE_SERVER_ENTRY,
      '--config', join(tmp.path, 'config.yaml'),
      '--user-data-dir', join(tmp.path, 'user-data'),
      '--extensions-dir', extensionsDir,
      '--install-extension', vsix,
    ], { env: serverEnv(tmp.path) });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    throw new Error(`code-server --install-extension ${vsix} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  } finally {
    tmp.remove();
  }
}

/** code-server writes its config and logs under the XDG dirs: keep them in the temp dir, not $HOME. */
function serverEnv(tmp: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    EXTENSIONS_GALLERY: '{}', // no marketplace lookups
    XDG_CONFIG_HOME: join(tmp, 'xdg-config'),
    XDG_DATA_HOME: join(tmp, 'xdg-data'),
  };
}

async function waitForHealthz(origin: string, child: { exitCode: number | null }): Promise<void> {
  // No limit of its own: the runner's global timeout stops a server that never answers.
  for (;;) {
    if (child.exitCode !== null) throw new Error('code-server exited while starting');
    try {
      const response = await fetch(`${origin}/healthz`);
      if (response.ok) return;
    } catch {
      // Not accepting connections yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
