// `prunemap prune` as a user runs it (the built CLI in a child process): the report (table and the
// documented --json format), the rule-based plan when no --plan is given, and every error path —
// each one line on stderr, a non-zero exit, the input byte-identical and no partial output:
// malformed plan JSON (line:column), unknown layer (closest id), infeasible scheme (its reason),
// output = input (also through a symlink), existing output without --force, a read-only output
// folder, a full disk (a 64 KiB tmpfs), and Ctrl+C during the write (exit 130).

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { corporaDir } from '../support/manifest';

const ROOT = path.resolve(__dirname, '..', '..');
const cli = path.join(ROOT, 'dist', 'cli.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunemap-prune-cli-'));
const mounts: string[] = [];
process.on('exit', () => {
  for (const m of mounts) spawnSync('umount', [m]);
  fs.rmSync(tmp, { recursive: true, force: true });
});

const mlpSource = path.join(corporaDir, 'torchvision', 'mlp.onnx');
const sha = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

function run(args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A fresh folder with a copy of mlp.onnx and a plan file with the given text. */
function workspace(planText?: string): { dir: string; model: string; plan: string } {
  const dir = fs.mkdtempSync(path.join(tmp, 'ws-'));
  const model = path.join(dir, 'mlp.onnx');
  fs.copyFileSync(mlpSource, model);
  const plan = path.join(dir, 'mlp.prune.json');
  fs.writeFileSync(plan, planText ?? JSON.stringify({
    model: 'mlp.onnx', target: 'host-cpu',
    layers: { '/up/MatMul': { scheme: 'unstructured', rate: 0.5 }, '/down/MatMul': { scheme: 'block-punched', block: [8, 4], rate: 0.75 }, '/head/Gemm': { scheme: 'dense', rate: 0 } },
  }, null, 2));
  return { dir, model, plan };
}

/** One line on stderr matching `pattern`, exit 1, the input unchanged, only the expected files in the folder. */
function assertFails(r: ReturnType<typeof run>, pattern: RegExp, ws: { dir: string; model: string }, before: string, files = ['mlp.onnx', 'mlp.prune.json']): void {
  assert.equal(r.code, 1, `exit code (stderr: ${r.stderr})`);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, `one line: ${r.stderr}`);
  assert.match(r.stderr, pattern);
  assert.equal(sha(ws.model), before, 'the input is byte-identical');
  assert.deepEqual(fs.readdirSync(ws.dir).sort(), [...files].sort(), 'no partial output');
}

test('prune --plan --json: the documented report; the output differs from the input only in weights', () => {
  const ws = workspace();
  const before = sha(ws.model);
  const r = run(['prune', ws.model, '--plan', ws.plan, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(report), ['input', 'output', 'dataFiles', 'layers', 'totals']);
  assert.equal(report.output, path.join(ws.dir, 'mlp.pruned.onnx'));
  assert.deepEqual(report.layers.map((l: { id: string }) => l.id), ['/up/MatMul', '/down/MatMul']);
  for (const l of report.layers) {
    assert.deepEqual(Object.keys(l), ['id', 'op', 'scheme', 'plannedRate', 'achievedRate', 'weights', 'kept', 'pruned', 'zeros']);
    assert.equal(l.kept + l.pruned, l.weights);
    assert.ok(Math.abs(l.achievedRate - l.plannedRate) < 0.01);
  }
  assert.deepEqual(Object.keys(report.totals), ['weights', 'pruned', 'kept', 'rate', 'compression']);
  assert.equal(report.totals.weights, 64 * 256 + 256 * 64 + 10 * 64, 'all prunable weights, the dense classifier included');
  assert.equal(report.totals.pruned, 8192 + 12288);
  assert.equal(sha(ws.model), before);
  assert.equal(fs.statSync(report.output).size, fs.statSync(ws.model).size);
});

test('prune without --plan uses the rule-based plan; the table ends with the totals; --verify runs it in onnxruntime', () => {
  const dir = fs.mkdtempSync(path.join(tmp, 'rules-'));
  const model = path.join(dir, 'mobilenet_v2.onnx');
  fs.copyFileSync(path.join(corporaDir, 'torchvision', 'mobilenet_v2.onnx'), model);
  const r = run(['prune', model, '-o', path.join(dir, 'out', 'm.onnx'), '--verify']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^.*mobilenet_v2\.onnx → .*out\/m\.onnx\n/);
  assert.match(r.stdout, /layer\s+op\s+scheme\s+planned\s+achieved\s+weights\s+kept\s+zeros/);
  assert.match(r.stdout, /block-punched/);
  assert.match(r.stdout, /\d+ layers pruned · [\d.]+M of [\d.]+M prunable weights removed \([\d.]+%\) · [\d.]+k kept · compression 4\.0\d×/);
  assert.match(r.stdout, /verify: the pruned model runs in onnxruntime; largest output change vs the dense model on a generated input: /);
});

test('malformed plan JSON: where (line:column) and what', () => {
  const ws = workspace('{\n  "model": "mlp.onnx",\n  "target": "host-cpu",\n  "layers": { "/up/MatMul": { "scheme": "unstructured", "rate": 0.5, } }\n}\n');
  const before = sha(ws.model);
  assertFails(run(['prune', ws.model, '--plan', ws.plan]), /^prunemap: .*mlp\.prune\.json:4:\d+: not valid JSON: /, ws, before);
});

test('unknown layer id: the closest id is suggested', () => {
  const ws = workspace(JSON.stringify({ model: 'mlp.onnx', target: 'host-cpu', layers: { '/up/Matmul': { scheme: 'unstructured', rate: 0.5 } } }));
  const before = sha(ws.model);
  assertFails(run(['prune', ws.model, '--plan', ws.plan]), /mlp\.prune\.json:1:\d+: .*"\/up\/Matmul".*"\/up\/MatMul"/, ws, before);
});

test('infeasible scheme: the scheme\'s reason', () => {
  const ws = workspace(JSON.stringify({ model: 'mlp.onnx', target: 'host-cpu', layers: { '/head/Gemm': { scheme: 'block-punched', block: [16, 4], rate: 0.5 } } }));
  const before = sha(ws.model);
  assertFails(run(['prune', ws.model, '--plan', ws.plan]), /block 16×4 is larger than this layer's 10 outputs/, ws, before);
});

test('output = input (also through a symlink) is refused; an existing output needs --force', () => {
  const ws = workspace();
  const before = sha(ws.model);
  assertFails(run(['prune', ws.model, '--plan', ws.plan, '-o', ws.model, '--force']), /the output is the input model/, ws, before);
  fs.symlinkSync(ws.model, path.join(ws.dir, 'link.onnx'));
  assertFails(run(['prune', ws.model, '--plan', ws.plan, '-o', path.join(ws.dir, 'link.onnx'), '--force']), /the output is the input model/, ws, before, ['mlp.onnx', 'mlp.prune.json', 'link.onnx']);
  fs.unlinkSync(path.join(ws.dir, 'link.onnx'));
  const out = path.join(ws.dir, 'mlp.pruned.onnx');
  fs.writeFileSync(out, 'an older file');
  assertFails(run(['prune', ws.model, '--plan', ws.plan]), /the output already exists\. Pass --force/, ws, before, ['mlp.onnx', 'mlp.prune.json', 'mlp.pruned.onnx']);
  assert.equal(fs.readFileSync(out, 'utf8'), 'an older file');
  assert.equal(run(['prune', ws.model, '--plan', ws.plan, '--force']).code, 0);
  assert.equal(fs.statSync(out).size, fs.statSync(ws.model).size);
});

/** Mounts a tmpfs (root only); returns undefined with the reason when that is not possible here. */
function mountTmpfs(options: string): string | { skip: string } {
  if (process.getuid?.() !== 0) return { skip: 'mounting a tmpfs needs root' };
  const dir = fs.mkdtempSync(path.join(tmp, 'mnt-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) return { skip: `mount -t tmpfs is not permitted here (${(r.stderr || r.error?.message || '').trim()})` };
  mounts.push(dir);
  return dir;
}

test('output folder not writable (read-only file system): one line, nothing written', (t) => {
  const mnt = mountTmpfs('ro,size=64k');
  if (typeof mnt !== 'string') return t.skip(mnt.skip);
  const ws = workspace();
  const before = sha(ws.model);
  assertFails(run(['prune', ws.model, '--plan', ws.plan, '-o', path.join(mnt, 'out.onnx')]), /cannot write in this folder \(read-only file system\)/, ws, before);
  assert.deepEqual(fs.readdirSync(mnt), []);
});

test('disk full (a 64 KiB tmpfs): one line, no temporary left, input unchanged', (t) => {
  const mnt = mountTmpfs('size=64k');
  if (typeof mnt !== 'string') return t.skip(mnt.skip);
  const ws = workspace();
  const before = sha(ws.model);
  assertFails(run(['prune', ws.model, '--plan', ws.plan, '-o', path.join(mnt, 'sub', 'out.onnx')]), /disk full while writing the pruned model \(no space left on device\)/, ws, before);
  assert.deepEqual(fs.readdirSync(mnt), [], 'neither the temporary nor the folder it made is left');
});

test('Ctrl+C during the write: exit 130, temporaries removed, no output', { timeout: 120_000 }, async () => {
  // VGG-11 (530 MB) so that the copy takes long enough to be interrupted.
  const model = path.join(corporaDir, 'torchvision', 'vgg11.onnx');
  const before = fs.statSync(model).mtimeMs;
  const dir = fs.mkdtempSync(path.join(tmp, 'sigint-'));
  const plan = path.join(dir, 'plan.json');
  fs.writeFileSync(plan, JSON.stringify({ model: 'vgg11.onnx', target: 'host-cpu', layers: { '/features/features.0/Conv': { scheme: 'unstructured', rate: 0.5 } } }));
  const out = path.join(dir, 'out', 'vgg11.pruned.onnx');
  const child = spawn(process.execPath, [cli, 'prune', model, '--plan', plan, '-o', out], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let sent = false;
  for (let i = 0; i < 20000 && !sent; i++) {
    const outDir = path.dirname(out);
    if (fs.existsSync(outDir) && fs.readdirSync(outDir).some((f) => f.includes('prunemap-tmp'))) {
      child.kill('SIGINT');
      sent = true;
    } else {
      await new Promise((r) => setTimeout(r, 1));
    }
  }
  const code = await exited;
  assert.ok(sent, 'the temporary output appeared and SIGINT was sent');
  assert.equal(code, 130, stderr);
  assert.match(stderr, /(^|\n)prunemap: interrupted; no output was written\n$/);
  assert.deepEqual(fs.readdirSync(dir), ['plan.json'], 'no output, no temporary, no folder it made');
  assert.equal(fs.statSync(model).mtimeMs, before);
});

test('prune --help and usage errors', () => {
  const help = execFileSync(process.execPath, [cli, 'prune', '--help'], { encoding: 'utf8' });
  assert.match(help, /^usage: prunemap prune MODEL \[--plan PLAN \| --target ID\]/);
  const r = run(['prune', mlpSource, '--target', 'toaster']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown target "toaster"; known targets: /);
});
