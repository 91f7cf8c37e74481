// Runs PruneMap's integration tests in a real VS Code through @vscode/test-electron's runTests, whose
// "VS Code" is scripts/vscode-test/code-cli.sh (code-server + Chromium; a desktop VS Code cannot be
// downloaded here):
// bundles test/integration/extension/*.ts into test/integration/out/ (vscode and mocha external: the
// extension host provides the first, the tests share the one mocha that runs them), makes a fresh
// workspace holding copies of two real models (the sample and torchvision's SqueezeNet 1.1, which is
// not in the repository), and runs the suite against this checkout (dist/ must be built).
//
//   node --import tsx test/integration/run-extension-tests.ts [--restricted]
//
// --restricted runs test/integration/restricted/ instead, with workspace trust on (an untrusted folder).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import { runTests } from '@vscode/test-electron';

const repo = path.resolve(__dirname, '../..');
const out = path.join(__dirname, 'out');
const MODELS = [path.join(repo, 'samples/fashion-cnn.onnx'), path.join(repo, 'test/corpora/torchvision/squeezenet1_1.onnx')];

async function main(): Promise<number> {
  for (const needed of [path.join(repo, 'dist/extension.js'), path.join(repo, 'dist/server.js'), ...MODELS]) {
    if (!fs.existsSync(needed)) throw new Error(`${path.relative(repo, needed)} is missing: run \`npm run build\` and \`bash scripts/setup-reference.sh\` first`);
  }
  fs.rmSync(path.join(out, process.argv.includes('--restricted') ? 'restricted' : 'extension'), { recursive: true, force: true });
  const suite = process.argv.includes('--restricted') ? 'restricted' : 'extension';
  const tests = fs.readdirSync(path.join(__dirname, suite)).filter((f) => f.endsWith('.ts')).map((f) => path.join(__dirname, suite, f));
  await esbuild.build({
    entryPoints: tests, outdir: path.join(out, suite), bundle: true, platform: 'node', target: 'node20', format: 'cjs',
    sourcemap: true, external: ['vscode', 'mocha'], logLevel: 'warning',
  });
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'prunemap-it-'));
  try {
    for (const model of MODELS) fs.copyFileSync(model, path.join(workspace, path.basename(model)));
    fs.mkdirSync(path.join(workspace, '.vscode'));
    fs.writeFileSync(path.join(workspace, '.vscode/tasks.json'), JSON.stringify({
      version: '2.0.0',
      tasks: [{ label: 'prune sample', type: 'prunemap', command: 'prune', model: 'fashion-cnn.onnx', output: 'out/task.pruned.onnx' }],
    }, null, 2));
    return await runTests({
      vscodeExecutablePath: path.join(repo, 'scripts/vscode-test/code-cli.sh'),
      extensionDevelopmentPath: repo,
      extensionTestsPath: path.join(out, suite, 'index.js'),
      launchArgs: [workspace],
      extensionTestsEnv: suite === 'restricted' ? { PRUNEMAP_VSCODE_TRUST: '1' } : {},
    });
  } finally {
    fs.rmSync(workspace, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code === 0 ? 0 : 1),
  (err: unknown) => {
    // runTests rejects when "VS Code" exits non-zero: the failures are in the output above.
    console.error(`[integration] ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
