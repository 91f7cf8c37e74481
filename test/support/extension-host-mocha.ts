// Runs mocha inside the VS Code extension host: the body of every extension test entry module, whose
// run(): Promise<void> VS Code calls (its standard pattern). A suite's index is two lines:
//   import { runMochaTests } from '<path>/test/support/extension-host-mocha';
//   export function run(): Promise<void> { return runMochaTests(__dirname); }
// Loads the compiled `*.test.js` files directly in that directory (not subdirectories, so a suite
// that needs other settings, e.g. workspace trust on, lives in a folder of its own). Ends with the
// line `N passed, N failed, N skipped`, which scripts/test-all.sh reads (mocha's own summary is not
// read by CI), and rejects when a test failed.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { format } from 'node:util';
import Mocha from 'mocha';

// The extension host forwards console.log's arguments without applying printf-style formats, so
// mocha's reporter would print `%s (%dms)`: hand it whole lines instead.
Mocha.reporters.Base.consoleLog = (...args: unknown[]) => console.log(format(...args));

export function runMochaTests(testsDir: string): Promise<void> {
  // No timeout: tests have no wall-clock limits; the runner's safety timeout catches a hang.
  const mocha = new Mocha({ ui: 'tdd', reporter: 'spec', color: false, timeout: 0 });
  const files = readdirSync(testsDir).filter((name) => name.endsWith('.test.js')).sort();
  if (files.length === 0) return Promise.reject(new Error(`no *.test.js files in ${testsDir}`));
  for (const name of files) mocha.addFile(join(testsDir, name));

  return new Promise((resolve, reject) => {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const runner = mocha.run(() => {
      console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
      if (failed > 0) reject(new Error(`${failed} test(s) failed`));
      else resolve();
    });
    runner.on('pass', () => passed++);
    runner.on('fail', () => failed++); // also a failing hook
    runner.on('pending', () => skipped++);
  });
}
