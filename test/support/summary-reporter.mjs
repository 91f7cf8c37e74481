// A node:test reporter that prints one closing line, `N passed, N failed, N skipped`, for CI logs
// and scripts to read (node's own `# pass` / `# fail` lines depend on the reporter in use).
// Counts tests as node does (suites are not tests); cancelled tests count as failed, and todo
// tests as skipped. Used by scripts/test-all.sh next to the spec reporter.

/** @param {AsyncIterable<{ type: string, data: any }>} source */
export default async function* summaryReporter(source) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const data = event.data;
    if (data.details?.type === 'suite') continue;
    if (data.skip || data.todo) skipped++;
    else if (event.type === 'test:pass') passed++;
    else failed++;
  }
  yield `\n${passed} passed, ${failed} failed, ${skipped} skipped\n`;
}
