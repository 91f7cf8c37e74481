// `prunemap codegen` end to end on torchvision ResNet-18 with every divisible Conv block-punched
// (8,4) at 87.5%: the real compiler builds the generated model and its output matches onnxruntime
// running the pruned model. Also the CLI's one-line errors with nothing written.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findLayers } from '../../src/core/layers';
import { loadModel } from '../../src/core/onnx/load';

const ROOT = path.resolve(__dirname, '../..');
const MODEL = path.join(ROOT, 'test/corpora/torchvision/resnet18.onnx');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunemap-codegen-cli-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[], env: NodeJS.ProcessEnv = process.env) {
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), ...args], { encoding: 'utf8', env, cwd: ROOT, maxBuffer: 64 << 20 });
}

function writePlan(): string {
  const loaded = loadModel(MODEL);
  const layers: Record<string, unknown> = {};
  for (const l of findLayers(loaded.model, loaded.tensors)) {
    if (l.op === 'Conv' && l.weightShape[0] % 8 === 0 && l.weightShape[1] % 4 === 0) layers[l.id] = { scheme: 'block-punched', block: [8, 4], rate: 0.875 };
  }
  loaded.close();
  const plan = path.join(tmp, 'plan.json');
  fs.writeFileSync(plan, JSON.stringify({ model: path.relative(tmp, MODEL), target: 'host-cpu', layers }));
  return plan;
}

/** A missing corpus fails the test (npm test sets the corpora up), rather than skipping it silently. */
function requireModel(): void {
  if (!fs.existsSync(MODEL)) assert.fail(`${MODEL} is missing: run \`bash scripts/setup-reference.sh\` (npm test does it for you)`);
}

test('codegen resnet18 (8,4) at 87.5%: compiled output matches onnxruntime on the pruned model', () => {
  requireModel();
  const out = path.join(tmp, 'r18');
  const r = cli(['codegen', MODEL, '--plan', writePlan(), '-o', out, '--verify', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.verified, true);
  assert.ok(report.maxAbsError < 1e-4);
  const sparse = report.layers.filter((l: { scheme: string }) => l.scheme === 'block-punched');
  assert.equal(sparse.length, 19);
  for (const l of sparse) assert.ok(Math.abs(l.kept - 0.125) < 0.01, `${l.id} keeps ${l.kept}`);
  for (const f of ['prunemap_model.c', 'prunemap_model.h', 'model.bin', 'main.c', 'Makefile', 'prunemap_run']) assert.ok(fs.existsSync(path.join(out, f)), f);
});

test('codegen CLI: a missing compiler is one line and writes nothing', () => {
  requireModel();
  const out = path.join(tmp, 'nocc');
  const r = cli(['codegen', MODEL, '--plan', writePlan(), '-o', out, '--verify'], { ...process.env, CC: path.join(tmp, 'no-such-cc') });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^prunemap: codegen: C compiler ".*no-such-cc" not found\. /);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.ok(!fs.existsSync(out));
  assert.deepEqual(fs.readdirSync(tmp).filter((n) => n.startsWith('.nocc')), []);
});
