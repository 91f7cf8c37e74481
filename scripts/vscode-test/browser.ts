// Opens the code-server workbench in Debian's headless chromium through playwright-core.

import { chromium, type Browser, type Page } from 'playwright-core';
import type { CodeServer } from './code-server';
import { CHROMIUM, checkSetup } from './paths';
import { makeTempDir } from './temp-dir';

/** Flags known to work here (docs/testing.md); playwright gives every launch a fresh profile. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox', // we run as root, where chromium's sandbox refuses to start
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchChromium(): Promise<Browser> {
  checkSetup();
  // Chromium keeps crash reports and a dconf cache under the XDG dirs: keep them out of $HOME.
  const xdg = makeTempDir('prunemap-chromium-');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
    env: { ...process.env, XDG_CONFIG_HOME: xdg.path, XDG_CACHE_HOME: xdg.path },
  });
  browser.on('disconnected', () => xdg.remove());
  return browser;
}

/** What the workbench URL carries: the folder, and a payload of VS Code's CLI-like options. */
export interface WorkbenchTarget {
  folder: string;
  file?: string;
  extensionDevelopmentPath?: string;
  extensionTestsPath?: string;
}

export function workbenchUrl(server: CodeServer, target: WorkbenchTarget): string {
  const payload: [string, string][] = [];
  if (target.extensionDevelopmentPath) {
    payload.push(['extensionDevelopmentPath', server.remoteUri(target.extensionDevelopmentPath)]);
  }
  if (target.extensionTestsPath) payload.push(['extensionTestsPath', server.remoteUri(target.extensionTestsPath)]);
  if (target.file) payload.push(['openFile', server.remoteUri(target.file)]);
  const query = new URLSearchParams({ folder: target.folder });
  if (payload.length) query.set('payload', JSON.stringify(payload));
  return `${server.origin}/?${query}`;
}

/** Prints page errors and crashes: a workbench that breaks should say so in the test log. */
export function reportPageProblems(page: Page): void {
  page.on('pageerror', (error) => console.error(`[workbench] page error: ${error.message}`));
  page.on('crash', () => console.error('[workbench] the page crashed'));
}
