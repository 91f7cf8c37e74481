// Runs an extension's tests inside the real VS Code extension host (Node), as `code
// --extensionDevelopmentPath --extensionTestsPath` does on desktop: the workbench URL carries both
// paths, the extension host loads the tests module and calls its run(), and the workbench reports
// the result through window.codeAutomationExit and the host's console through codeAutomationLog.

import type { Browser } from 'playwright-core';
import { launchChromium, reportPageProblems, workbenchUrl } from './browser';
import { startCodeServer, type CodeServer } from './code-server';
import { checkSetup } from './paths';
import { DEFAULT_TIMEOUT_MS, withSafetyTimeout } from './safety-timeout';

export interface ExtensionTestOptions {
  /** The extension's folder (with its package.json). */
  extensionDevelopmentPath: string;
  /** The compiled module exporting run(): Promise<void>. */
  extensionTestsPath: string;
  /** The workspace folder to open. */
  folder: string;
  /** Workspace trust on (Restricted Mode) instead of disabled; see CodeServerOptions.trust. */
  trust?: boolean;
  /** Extra environment for the extension host. */
  env?: Record<string, string>;
  /** Safety net, not a test limit: fail loudly if no result arrives by then. Default 10 min. */
  timeoutMs?: number;
  /** Where the extension host's output goes, line by line; default: stdout. */
  log?: (line: string) => void;
  /** Also print the workbench's routine startup lines (see WORKBENCH_NOISE). */
  verbose?: boolean;
}

/**
 * codeAutomationLog carries the workbench's own log as well as the extension host's console, with
 * nothing to tell them apart. These routine workbench lines are dropped unless verbose; anything
 * else (errors, warnings, unknown lines) is printed.
 */
const WORKBENCH_NOISE = [
  /^Resolv(ing|ed) connection token/,
  /^Creating a socket \(renderer-/,
  /^\[Service Worker\] registered/,
  /^Ignoring fetching additional builtin extensions from gallery/,
  /^Updating additional builtin extensions cache/,
  /^ChatSessionStore: /,
];

/** Resolves with the exit code VS Code reports (0 = all tests passed). */
export async function runExtensionTests(options: ExtensionTestOptions): Promise<number> {
  checkSetup(); // before starting anything
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const open: { server?: CodeServer; browser?: Browser } = {};
  try {
    return await withSafetyTimeout('extension tests', options.timeoutMs ?? DEFAULT_TIMEOUT_MS, run(options, log, open));
  } finally {
    await open.browser?.close().catch(() => undefined);
    await open.server?.stop();
  }
}

async function run(
  options: ExtensionTestOptions,
  log: (line: string) => void,
  open: { server?: CodeServer; browser?: Browser },
): Promise<number> {
  const server = (open.server = await startCodeServer({ trust: options.trust, env: options.env }));
  const browser = (open.browser = await launchChromium());
  const page = await browser.newPage();
  reportPageProblems(page);

  let exit!: (code: number) => void;
  const exitCode = new Promise<number>((resolve, reject) => {
    exit = resolve;
    page.on('crash', () => reject(new Error('the workbench page crashed')));
  });
  await page.exposeFunction('codeAutomationExit', (code: number) => exit(code));
  await page.exposeFunction('codeAutomationLog', (_level: string, message: unknown) => {
    const text = Array.isArray(message) ? message.map(String).join(' ') : String(message);
    if (!options.verbose && WORKBENCH_NOISE.some((noise) => noise.test(text))) return;
    for (const line of text.split('\n')) log(line);
  });
  await page.goto(
    workbenchUrl(server, {
      folder: options.folder,
      extensionDevelopmentPath: options.extensionDevelopmentPath,
      extensionTestsPath: options.extensionTestsPath,
    }),
  );
  return exitCode;
}
