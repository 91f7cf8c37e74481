// `prunemap codegen --arch arm64 --verify` on torchvision ResNet-18 with every divisible Conv
// block-punched (8,4) at 87.5%: cross-compiled with aarch64-linux-gnu-gcc, verified under
// qemu-aarch64 against onnxruntime, and checked independently of the CLI's own verify: `file` says
// the binary is a static ARM aarch64 executable, and run directly under qemu on the test's own
// input it matches onnxruntime-node on the pruned model. Also the CLI's refusal of --bench for arm64.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findLayers } from '../../src/core/layers';
import { loadModel } from '../../src/core/onnx/load';
import type { Plan } from '../../src/core/plan';
import { assertClose, fileType, ortOnPrunedModel, runUnderQemu, testInput } from '../support/arm64-reference';

const ROOT = path.resolve(__dirname, '../..');
const MODEL = path.join(ROOT, 'test/corpora/torchvision/resnet18.onnx');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunemap-codegen-arm64-cli-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), ...args], { encoding: 'utf8', cwd: ROOT, maxBuffer: 64 << 20 });
}

function writePlan(): { file: string; plan: Plan } {
  const loaded = loadModel(MODEL);
  const layers: Record<string, unknown> = {};
  for (const l of findLayers(loaded.model, loaded.tensors)) {
    if (l.op === 'Conv' && l.weightShape[0] % 8 === 0 && l.weightShape[1] % 4 === 0) layers[l.id] = { scheme: 'block-punched', block: [8, 4], rate: 0.875 };
  }
  loaded.close();
  const plan = { model: path.relative(tmp, MODEL), target: 'host-cpu', layers };
  const file = path.join(tmp, 'plan.json');
  fs.writeFileSync(file, JSON.stringify(plan));
  return { file, plan: plan as unknown as Plan };
}

/** A missing corpus fails the test (npm test sets the corpora up), rather than skipping it silently. */
function requireModel(): void {
  if (!fs.existsSync(MODEL)) assert.fail(`${MODEL} is missing: run \`bash scripts/setup-reference.sh\` (npm test does it for you)`);
}

test('codegen --arch arm64 resnet18 (8,4) at 87.5%: verified under qemu, and matches onnxruntime on an input of its own', async () => {
  requireModel();
  const { file, plan } = writePlan();
  const out = path.join(tmp, 'r18-arm64');
  const r = cli(['codegen', MODEL, '--plan', file, '-o', out, '--arch', 'arm64', '--verify', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.verified, true);
  assert.equal(report.layers.filter((l: { scheme: string }) => l.scheme === 'block-punched').length, 19);
  assert.match(fileType(path.join(out, 'prunemap_run')), /ARM aarch64.*statically linked/);

  const loaded = loadModel(MODEL);
  try {
    const layers = findLayers(loaded.model, loaded.tensors);
    const x = testInput(3 * 224 * 224, 4242);
    const input = loaded.model.graph.inputs[0];
    assertClose(runUnderQemu(out, x, tmp), await ortOnPrunedModel(loaded, layers, plan, x, input.name, [1, 3, 224, 224], tmp));
  } finally {
    loaded.close();
  }
});

test('codegen CLI: --arch arm64 --bench is refused in one line and writes nothing', () => {
  requireModel();
  const out = path.join(tmp, 'bench-arm64');
  const r = cli(['codegen', MODEL, '--plan', writePlan().file, '-o', out, '--arch', 'arm64', '--bench']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^prunemap: codegen: benchmarking is not available for arm64\. /);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.ok(!fs.existsSync(out));
});
