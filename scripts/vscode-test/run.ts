// CLI: runs an extension's tests inside a real VS Code and exits 0 (all passed) or 1.
//   node --import tsx scripts/vscode-test/run.ts --extension DIR --tests FILE --folder DIR [--trust] [--verbose]
// The extension host's output (the mocha report and its closing `N passed, N failed, N skipped`)
// goes to stdout. Relative paths are taken from the current directory.

import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runExtensionTests } from './extension-tests';
import { SetupError } from './paths';

const USAGE = 'usage: run.ts --extension DIR --tests FILE --folder DIR [--trust] [--verbose] [--timeout SECONDS]';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      extension: { type: 'string' },
      tests: { type: 'string' },
      folder: { type: 'string' },
      trust: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      timeout: { type: 'string' },
    },
  });
  if (!values.extension || !values.tests || !values.folder) {
    console.error(USAGE);
    return 2;
  }
  const code = await runExtensionTests({
    extensionDevelopmentPath: resolve(values.extension),
    extensionTestsPath: resolve(values.tests),
    folder: resolve(values.folder),
    trust: values.trust,
    verbose: values.verbose,
    timeoutMs: values.timeout ? Number(values.timeout) * 1000 : undefined,
  });
  if (code !== 0) console.error(`[vscode-test] the extension host reported exit code ${code}`);
  return code === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    // Setup problems are one line saying what to install; anything else keeps its stack.
    console.error(`[vscode-test] ${error instanceof SetupError ? error.message : (error as Error).stack ?? error}`);
    process.exit(1);
  },
);
