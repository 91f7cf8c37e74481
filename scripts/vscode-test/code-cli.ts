// A `code` executable for @vscode/test-electron: runTests({ vscodeExecutablePath }) starts it with
// VS Code's command-line test flags, and it runs the tests in code-server + Chromium instead of a
// desktop VS Code (which cannot be downloaded here; see docs/testing.md). It understands:
//   FOLDER  --extensionDevelopmentPath=DIR  --extensionTestsPath=FILE
// and ignores the desktop-only flags test-electron adds (--no-sandbox, --user-data-dir, …).
// test-electron always passes --disable-workspace-trust; PRUNEMAP_VSCODE_TRUST=1 in the environment
// turns workspace trust on instead (Restricted Mode suites). Exit code: 0 when the tests passed.
// Started through code-cli.sh (test-electron spawns an executable file).

import { resolve } from 'node:path';
import { runExtensionTests } from './extension-tests';
import { SetupError } from './paths';

function flag(args: readonly string[], name: string): string | undefined {
  const prefix = `--${name}=`;
  return args.find((a) => a.startsWith(prefix))?.slice(prefix.length);
}

async function main(args: readonly string[]): Promise<number> {
  const extension = flag(args, 'extensionDevelopmentPath');
  const tests = flag(args, 'extensionTestsPath');
  const folder = args.find((a) => !a.startsWith('-'));
  if (!extension || !tests || !folder) {
    console.error('usage: code-cli FOLDER --extensionDevelopmentPath=DIR --extensionTestsPath=FILE');
    return 2;
  }
  return runExtensionTests({
    extensionDevelopmentPath: resolve(extension),
    extensionTestsPath: resolve(tests),
    folder: resolve(folder),
    trust: process.env.PRUNEMAP_VSCODE_TRUST === '1',
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code === 0 ? 0 : 1),
  (error: unknown) => {
    console.error(`[code-cli] ${error instanceof SetupError ? error.message : (error as Error).stack ?? error}`);
    process.exit(1);
  },
);
