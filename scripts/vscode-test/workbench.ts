// Opens the real VS Code workbench for UI tests: optionally installs a VSIX (as a user would), starts
// code-server, opens the folder (and a file) in headless chromium and hands back the Playwright page.
// Playwright's own waits have no time limit here (tests have none); instead a safety timer closes
// everything after timeoutMs, so a hung wait fails with a clear message rather than hanging CI.

import type { Page } from 'playwright-core';
import { launchChromium, reportPageProblems, workbenchUrl } from './browser';
import { installExtension, startCodeServer, type CodeServer } from './code-server';
import { checkSetup } from './paths';
import { DEFAULT_TIMEOUT_MS } from './safety-timeout';
import { makeTempDir } from './temp-dir';

export interface WorkbenchOptions {
  /** A VSIX to install first (into extensionsDir, or a fresh temp dir). */
  vsix?: string;
  /** An extensions dir to use (and install the VSIX into). */
  extensionsDir?: string;
  /** The workspace folder to open. */
  folder: string;
  /** A file to open in an editor. */
  file?: string;
  /** Workspace trust on (Restricted Mode) instead of disabled. */
  trust?: boolean;
  /** Extra user settings. */
  settings?: Record<string, unknown>;
  /** Safety net for the whole session, not a test limit. Default 10 min. */
  timeoutMs?: number;
}

export interface Workbench {
  page: Page;
  server: CodeServer;
  /** Closes the browser and stops code-server; safe to call twice. */
  close(): Promise<void>;
}

export async function openWorkbench(options: WorkbenchOptions): Promise<Workbench> {
  checkSetup(); // before starting anything
  const ownExtensionsDir = options.extensionsDir ? undefined : makeTempDir('prunemap-extensions-');
  const extensionsDir = options.extensionsDir ?? ownExtensionsDir!.path;
  if (options.vsix) await installExtension(options.vsix, extensionsDir);

  const server = await startCodeServer({ trust: options.trust, extensionsDir, settings: options.settings });
  const browser = await launchChromium().catch(async (error: unknown) => {
    await server.stop();
    throw error;
  });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    clearTimeout(safety);
    await browser.close().catch(() => undefined);
    await server.stop();
    ownExtensionsDir?.remove();
  };
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const safety = setTimeout(() => {
    console.error(`[vscode-test] workbench still open after ${Math.round(timeoutMs / 1000)} s (runner safety timeout): closing it`);
    void close();
  }, timeoutMs);
  safety.unref();

  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(0);
    reportPageProblems(page);
    await page.goto(workbenchUrl(server, { folder: options.folder, file: options.file }));
    await page.locator('.monaco-workbench').waitFor();
    return { page, server, close };
  } catch (error) {
    await close();
    throw error;
  }
}
