// `prunemap map`: the table, the --json plan, -o written atomically and never over the model, and
// the errors. Most cases call the command in this process (stdout captured); two run the CLI as a
// user does (its source through tsx in a child process) to check exit codes and one-line errors.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UsageError } from '../../src/cli/command';
import { mapCommand } from '../../src/cli/map';

const root = path.resolve(__dirname, '..', '..');
const sample = path.join(root, 'samples', 'tiny-cnn.onnx');

/** Runs `map ARGS` in this process; returns what it printed on stdout. */
function run(...args: string[]): string {
  const chunks: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  try {
    assert.equal(mapCommand.run(args), 0);
  } finally {
    process.stdout.write = write;
  }
  return chunks.join('');
}

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'src', 'cli', 'main.ts'), 'map', ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('map prints a table and the summary', () => {
  const out = run(sample);
  assert.match(out, /^tiny-cnn\.onnx · target snapdragon855-cpu \(modelled latency\) · 5 layers/);
  assert.match(out, /layer\s+op\s+scheme\s+block\s+rate\s+ms dense → pruned\s+speedup\s+reason/);
  assert.match(out, /\nstem\s+Conv\s+dense\s+0\s+[\d.]+ → [\d.]+\s+1\.00×\s+first layer/);
  assert.match(out, /\nblock1\.conv3x3\s+Conv\s+pattern\s+\d pat\s+0\.\d{4}/);
  assert.match(out, /\nclassifier\s+Gemm\s+block-punched\s+\d+×\d+\s+0\.5000/);
  assert.match(out, /\ntotal: [\d.]+ ms → [\d.]+ ms \([\d.]+× faster\) · compression 4\.00× of the prunable weights\n$/);
});

test('map --json prints the plan; --target and --compression apply', () => {
  const plan = JSON.parse(run(sample, '--json', '--target', 'host-cpu', '--compression', '3x'));
  assert.deepEqual(Object.keys(plan), ['model', 'modelSha256', 'target', 'layers', 'summary']);
  assert.equal(plan.model, 'tiny-cnn.onnx');
  assert.equal(plan.target, 'host-cpu');
  assert.match(plan.modelSha256, /^[0-9a-f]{64}$/);
  assert.ok(Math.abs(plan.summary.compression - 3) < 0.03);
  assert.equal(plan.layers['block1.conv3x3'].scheme, 'block-punched');
});

test('map -o writes the plan atomically and refuses to write over the model', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prunemap-map-'));
  try {
    const model = path.join(dir, 'tiny.onnx');
    fs.copyFileSync(sample, model);
    const out = path.join(dir, 'tiny.prune.json');
    fs.writeFileSync(out, 'old');
    assert.match(run(model, '-o', out), /wrote .*tiny\.prune\.json\n$/);
    const plan = JSON.parse(fs.readFileSync(out, 'utf8'));
    assert.equal(plan.model, 'tiny.onnx');
    assert.equal(typeof plan.$schema, 'string');
    assert.deepEqual(fs.readdirSync(dir).sort(), ['tiny.onnx', 'tiny.prune.json'], 'no temporary file left behind');
    // In another folder, `model` is the path from the plan's folder to the model.
    fs.mkdirSync(path.join(dir, 'plans'));
    run(model, '--json', '-o', path.join(dir, 'plans', 'p.json'));
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'plans', 'p.json'), 'utf8')).model, '../tiny.onnx');
    fs.rmSync(path.join(dir, 'plans'), { recursive: true });

    const before = fs.readFileSync(model);
    assert.throws(() => run(model, '-o', model), (e: unknown) => e instanceof UsageError && /^-o .*tiny\.onnx is the model itself; give another file for the plan \(e\.g\. tiny\.prune\.json\)$/.test(e.message));
    fs.linkSync(model, path.join(dir, 'link.onnx'));
    assert.throws(() => run(model, '-o', path.join(dir, 'link.onnx')), /is the model itself/, 'a hard link to the model is the model');
    assert.throws(() => run(model, '-o', path.join(dir, 'nowhere', 'p.json')), /folder .* does not exist/);
    assert.deepEqual(fs.readFileSync(model), before);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('map errors: unknown target lists the known ones; compression must be > 1', () => {
  assert.throws(() => run(sample, '--target', 'pixel9'), (e: unknown) => e instanceof UsageError && e.message === 'unknown target "pixel9"; known targets: host-cpu, snapdragon855-cpu, adreno640-gpu, snapdragon865-cpu');
  for (const bad of ['1', '0.5', 'abc', '', 'Infinity']) {
    assert.throws(() => run(sample, '--compression', bad), (e: unknown) => e instanceof UsageError && /^--compression must be a number > 1 \(e\.g\. 4 for 4×\)/.test(e.message), bad);
  }
  assert.throws(() => run(sample, '--compression', '1000'), /compression 1000× is out of reach for the rule-based mapper\. The most it gives is [\d.]+× .*ask for less\./);
});

test('map as a user runs it: exit codes and one-line errors', () => {
  const ok = cli(sample, '--json');
  assert.equal(ok.code, 0, ok.err);
  assert.equal(JSON.parse(ok.out).model, 'tiny-cnn.onnx');
  const usage = cli(sample, '--target', 'pixel9');
  assert.equal(usage.code, 2);
  assert.equal(usage.err.split('\n')[0], 'prunemap: unknown target "pixel9"; known targets: host-cpu, snapdragon855-cpu, adreno640-gpu, snapdragon865-cpu');
  const far = cli(sample, '--compression', '1000');
  assert.equal(far.code, 1);
  assert.match(far.err, /^prunemap: tiny-cnn\.onnx: compression 1000× is out of reach for the rule-based mapper\. The most it gives is [\d.]+× .*ask for less\.\n$/);
});
