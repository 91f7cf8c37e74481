// `prunemap codegen --verify` end to end on torchvision MobileNetV2 (depthwise Conv, Clip = ReLU6
// fused, residual Add, Gemm), MobileNetV3-small (HardSwish, squeeze-excite with HardSigmoid and a
// broadcast Mul) and SqueezeNet 1.1 (Concat, ceil_mode MaxPool), each with the rule-based plan of
// `prunemap map`; and MobileNetV2 with every scheme's format in one plan at --threads 2. The real
// compiler builds the model and its output must match onnxruntime running the pruned model.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const CORPUS = path.join(ROOT, 'test/corpora/torchvision');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunemap-codegen-mobilenet-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), ...args], { encoding: 'utf8', cwd: ROOT, maxBuffer: 64 << 20 });
}

/** A missing corpus fails the test (npm test sets the corpora up), rather than skipping it silently. */
function requireModel(name: string): string {
  const model = path.join(CORPUS, name);
  if (!fs.existsSync(model)) assert.fail(`${model} is missing: run \`bash scripts/setup-reference.sh\` (npm test does it for you)`);
  return model;
}

interface PlanFile { layers: Record<string, { scheme: string; [k: string]: unknown }> }

function mapPlan(model: string, name: string): string {
  const plan = path.join(tmp, `${name}.plan.json`);
  const r = cli(['map', model, '-o', plan]);
  assert.equal(r.status, 0, r.stderr);
  return plan;
}

function codegenVerify(model: string, plan: string, name: string, extra: string[] = []) {
  const r = cli(['codegen', model, '--plan', plan, '-o', path.join(tmp, name), '--verify', '--json', ...extra]);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.verified, true);
  assert.ok(report.maxAbsError < 1e-4);
  return report as { layers: { id: string; scheme: string }[] };
}

for (const [file, name] of [['mobilenet_v2.onnx', 'mnv2'], ['mobilenet_v3_small.onnx', 'mnv3'], ['squeezenet1_1.onnx', 'squeeze']]) {
  test(`codegen ${file} with the rule-based plan: compiled output matches onnxruntime on the pruned model`, () => {
    const model = requireModel(file);
    const plan = mapPlan(model, name);
    const planned = (JSON.parse(fs.readFileSync(plan, 'utf8')) as PlanFile).layers;
    const report = codegenVerify(model, plan, name);
    const pruned = Object.values(planned).filter((l) => l.scheme !== 'dense').length;
    assert.ok(pruned > 0);
    assert.equal(report.layers.filter((l) => l.scheme !== 'dense').length, pruned);
  });
}

test('codegen mobilenet_v2 with every scheme (pattern, unstructured, N:M, block-bcr, filter, channel) at --threads 2 matches onnxruntime', () => {
  const model = requireModel('mobilenet_v2.onnx');
  const plan = JSON.parse(fs.readFileSync(mapPlan(model, 'mnv2-mixed'), 'utf8')) as PlanFile;
  const specs = [{ scheme: 'unstructured', rate: 0.8 }, { scheme: 'nm', n: 2, m: 4, rate: 0.5 }, { scheme: 'block-bcr', block: [4, 4], rate: 0.6 }, { scheme: 'filter', rate: 0.3 }, { scheme: 'channel', rate: 0.3 }];
  const ids = Object.keys(plan.layers);
  let i = 0;
  for (const id of ids) {
    if (id.includes('Gemm')) plan.layers[id] = { scheme: 'unstructured', rate: 0.5 };
    else if (plan.layers[id].scheme === 'block-punched') plan.layers[id] = specs[i++ % specs.length];
  }
  plan.layers[ids[0]] = { scheme: 'pattern', rate: 0.7 }; // the 3×3 stem
  const file = path.join(tmp, 'mixed.plan.json');
  fs.writeFileSync(file, JSON.stringify({ ...plan, model }));
  const report = codegenVerify(model, file, 'mnv2-mixed', ['--threads', '2']);
  const schemes = new Set(report.layers.map((l) => l.scheme));
  for (const s of ['pattern', 'unstructured', 'nm', 'block-bcr', 'filter', 'channel', 'dense']) assert.ok(schemes.has(s), s);
});
