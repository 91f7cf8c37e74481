// Where the test VS Code (code-server) and the browser live, and the one-line check that they are
// installed, so a bad setup fails with what to run instead of a stack trace deep in Playwright.

import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '../..');

/** Must match VERSION in scripts/setup-vscode.sh. */
export const CODE_SERVER_VERSION = '4.100.3';
const INSTALL_DIR = join(REPO_ROOT, '.vscode-test', `code-server-${CODE_SERVER_VERSION}`);
export const CODE_SERVER_ENTRY = join(INSTALL_DIR, 'node_modules/code-server/out/node/entry.js');

/** Debian's chromium; PRUNEMAP_CHROMIUM points elsewhere on other systems. */
export const CHROMIUM = process.env.PRUNEMAP_CHROMIUM ?? '/usr/bin/chromium';

/** A setup problem the user fixes by installing something; its message is the whole story. */
export class SetupError extends Error {}

export function checkSetup(): void {
  const stamp = join(INSTALL_DIR, '.setup-complete');
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8').trim() !== CODE_SERVER_VERSION) {
    throw new SetupError(`code-server ${CODE_SERVER_VERSION} is not installed: run \`bash scripts/setup-vscode.sh\``);
  }
  if (!existsSync(CHROMIUM)) {
    throw new SetupError(`${CHROMIUM} is missing: run \`apt-get install -y chromium\` (or set PRUNEMAP_CHROMIUM)`);
  }
}
