// The VS Code test harness: a real VS Code (code-server) driven by headless chromium. See
// docs/testing.md. Extension tests: runExtensionTests (or the CLI run.ts). UI tests: openWorkbench.

export { runExtensionTests, type ExtensionTestOptions } from './extension-tests';
export { openWorkbench, type Workbench, type WorkbenchOptions } from './workbench';
export { screenshot, SCREENSHOTS_DIR } from './screenshot';
export { startCodeServer, installExtension, type CodeServer, type CodeServerOptions } from './code-server';
export { SetupError, REPO_ROOT } from './paths';
