// The codegen job (src/core/codegen/job.ts) on a small hand-built Conv model: progress in order,
// the result's files and figures; cancellation — before the compiler starts and while it runs —
// kills the compiler's whole process group and leaves no output folder, no temporary sibling and
// nothing in the temp folder; missing or failing compilers (host and arm64), a missing qemu and
// arm64 --bench are one-line errors that write nothing.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ModelError } from '../../src/core/errors';
import { findLayers } from '../../src/core/layers';
import { loadModel } from '../../src/core/onnx/load';
import type { Plan } from '../../src/core/plan';
import { runCodegenJob, type CodegenJobOptions } from '../../src/core/codegen/job';
import { attr, floatTensor, graph, modelBytes, node, valueInfo } from '../support/build-model';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'prunemap-codegen-job-'));
process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));
let counter = 0;
const fresh = (name = 'case') => path.join(root, `${name}${++counter}`);

/** Conv 8→16 3×3 pad 1 on 1×8×10×10, then Relu. */
function writeModel(): { file: string; plan: Plan } {
  const file = fresh('model') + '.onnx';
  const w = Array.from({ length: 16 * 8 * 9 }, (_, i) => Math.sin(i * 0.37) * 0.3);
  fs.writeFileSync(file, modelBytes(graph({
    node: [node('Conv', ['x', 'w', 'b'], ['c'], [attr.ints('kernel_shape', [3, 3]), attr.ints('pads', [1, 1, 1, 1])], 'conv'), node('Relu', ['c'], ['y'])],
    initializer: [floatTensor('w', [16, 8, 3, 3], w), floatTensor('b', [16], Array.from({ length: 16 }, (_, i) => i * 0.01))],
    input: [valueInfo('x', 1, [1, 8, 10, 10])],
    output: [valueInfo('y', 1, [1, 16, 10, 10])],
  })));
  const loaded = loadModel(file);
  const [conv] = findLayers(loaded.model, loaded.tensors);
  loaded.close();
  return { file, plan: { model: path.basename(file), target: 'host-cpu', layers: { [conv.id]: { scheme: 'block-punched', block: [8, 4], rate: 0.5 } } } as Plan };
}

/**
 * Runs `body` with process.env changed as given (undefined deletes) and TMPDIR pointing at a fresh
 * empty folder, which is returned so the test can check the job left nothing in it.
 */
async function withEnv<T>(changes: Record<string, string | undefined>, body: (tmpDir: string) => Promise<T>): Promise<{ result: T; tmpDir: string }> {
  const tmpDir = fresh('tmpdir');
  fs.mkdirSync(tmpDir);
  const all = { ...changes, TMPDIR: tmpDir };
  const saved = Object.fromEntries(Object.keys(all).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(all)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  try {
    return { result: await body(tmpDir), tmpDir };
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
}

/** Nothing of `out` exists: neither the folder nor a temporary sibling (".out.tmp-…"). */
function assertNothingWritten(out: string): void {
  assert.ok(!fs.existsSync(out), `${out} exists`);
  assert.deepEqual(fs.readdirSync(path.dirname(out)).filter((n) => n.startsWith(`.${path.basename(out)}`)), []);
}

/** A job that must fail with a one-line ModelError matching `pattern`, writing nothing anywhere. */
async function assertOneLineError(env: Record<string, string | undefined>, options: CodegenJobOptions, pattern: RegExp): Promise<void> {
  const { file, plan } = writeModel();
  const out = fresh('out');
  const { tmpDir } = await withEnv(env, () => assert.rejects(runCodegenJob(file, plan, 'plan.json', out, options), (e: unknown) => {
    assert.ok(e instanceof ModelError, String(e));
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes('\n'), e.message);
    return true;
  }));
  assertNothingWritten(out);
  assert.deepEqual(fs.readdirSync(tmpDir), []);
}

/** False once the process is gone (or a zombie waiting for its parent). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

test('codegen job: progress in order, the files written and the verify figures', async () => {
  const { file, plan } = writeModel();
  const out = fresh('out');
  const seen: [number, string][] = [];
  const r = await runCodegenJob(file, plan, 'plan.json', out, { verify: true, onProgress: (f, m) => seen.push([f, m]) });
  assert.deepEqual(seen.map(([, m]) => m), ['generating', 'compiling', 'verifying', 'done']);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i][0] > seen[i - 1][0], JSON.stringify(seen));
  assert.equal(seen.at(-1)![0], 1);
  assert.equal(r.outputDir, out);
  assert.deepEqual(r.files, ['Makefile', 'main.c', 'model.bin', 'prunemap_model.c', 'prunemap_model.h', 'prunemap_run']);
  assert.deepEqual(fs.readdirSync(out).sort(), r.files);
  // (8,4) blocks at 50% of a 16×8 filter matrix: half the weights stay.
  assert.deepEqual(r.layers.map((l) => [l.scheme, l.kept]), [['block-punched', 0.5]]);
  assert.equal(r.verified, true);
  assert.ok(r.maxAbsError! <= 1e-4 * r.outputScale!, `max error ${r.maxAbsError} vs scale ${r.outputScale}`);
  assert.equal(r.bench, undefined);
});

test('codegen job: without verify nothing is compiled, for the host', async () => {
  const { file, plan } = writeModel();
  const r = await runCodegenJob(file, plan, 'plan.json', fresh('out'));
  assert.deepEqual(r.files, ['Makefile', 'main.c', 'model.bin', 'prunemap_model.c', 'prunemap_model.h']);
  assert.equal(r.verified, undefined);
});

test('codegen job: aborted as compiling starts, it throws AbortError and leaves nothing', async () => {
  const { file, plan } = writeModel();
  const out = fresh('out');
  const controller = new AbortController();
  const { tmpDir } = await withEnv({}, () => assert.rejects(
    runCodegenJob(file, plan, 'plan.json', out, { verify: true, signal: controller.signal, onProgress: (_f, m) => { if (m === 'compiling') controller.abort(); } }),
    (e: Error) => e.name === 'AbortError'));
  assertNothingWritten(out);
  assert.deepEqual(fs.readdirSync(tmpDir), []);
});

test('codegen job: aborted while the compiler runs, the compiler and its children are killed and nothing is left', async () => {
  const { file, plan } = writeModel();
  const out = fresh('out');
  // A compiler that records its pid and its child's, then waits: the abort surely lands mid-compile.
  const marks = fresh('marks');
  fs.mkdirSync(marks);
  const cc = path.join(marks, 'slow-cc');
  fs.writeFileSync(cc, `#!/bin/sh\necho $$ > "${marks}/cc.pid"\nsleep 60 &\necho $! > "${marks}/child.pid.tmp" && mv "${marks}/child.pid.tmp" "${marks}/child.pid"\nwait\nexec cc "$@"\n`, { mode: 0o755 });
  const controller = new AbortController();
  let poll: NodeJS.Timeout | undefined;
  const onProgress = (_f: number, m: string) => {
    if (m !== 'compiling') return;
    poll = setInterval(() => {
      if (fs.existsSync(path.join(marks, 'child.pid'))) {
        clearInterval(poll);
        controller.abort();
      }
    }, 20);
  };
  const { tmpDir } = await withEnv({ CC: cc }, () => assert.rejects(
    runCodegenJob(file, plan, 'plan.json', out, { verify: true, signal: controller.signal, onProgress }),
    (e: Error) => e.name === 'AbortError'));
  clearInterval(poll);
  assert.ok(controller.signal.aborted);
  assertNothingWritten(out);
  assert.deepEqual(fs.readdirSync(tmpDir), []);
  for (const name of ['cc.pid', 'child.pid']) {
    const pid = Number(fs.readFileSync(path.join(marks, name), 'utf8'));
    // The grandchild is reaped by init, which may take a moment after the kill.
    for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(!alive(pid), `${name} ${pid} still runs`);
  }
});

test('codegen job: a missing host compiler is one line and writes nothing', async () => {
  await assertOneLineError({ CC: '/nonexistent/cc' }, { verify: true }, /^codegen: C compiler "\/nonexistent\/cc" not found\. Install a C compiler or set CC/);
});

test('codegen job: a failing host compiler (CFLAGS=-bogus) is one line quoting its error and writes nothing', async () => {
  await assertOneLineError({ CC: undefined, CFLAGS: '-bogus' }, { verify: true }, /^codegen: `cc -bogus .*` failed: .*error.*-bogus.*Check CC\/CFLAGS/);
});

test('codegen job: a missing arm64 cross compiler names its Debian package', async () => {
  await assertOneLineError({ CC_ARM64: '/nonexistent/aarch64-gcc' }, { arch: 'arm64' }, /^codegen: C compiler "\/nonexistent\/aarch64-gcc" not found\. Install it \(Debian\/Ubuntu: apt-get install gcc-aarch64-linux-gnu\) or set CC_ARM64\.$/);
});

test('codegen job: a failing arm64 compiler (CFLAGS_ARM64=-bogus) is one line and writes nothing', async () => {
  await assertOneLineError({ CC_ARM64: undefined, CFLAGS_ARM64: '-bogus' }, { arch: 'arm64' }, /^codegen: `aarch64-linux-gnu-gcc -bogus .*` failed: .*error.*Check CC_ARM64\/CFLAGS_ARM64/);
});

test('codegen job: arm64 --verify without qemu-aarch64 names qemu-user', async () => {
  // A PATH holding only the cross compiler.
  const bin = fresh('bin');
  fs.mkdirSync(bin);
  fs.symlinkSync('/usr/bin/aarch64-linux-gnu-gcc', path.join(bin, 'aarch64-linux-gnu-gcc'));
  await assertOneLineError({ PATH: bin, CC_ARM64: undefined }, { arch: 'arm64', verify: true }, /^codegen: "qemu-aarch64" not found .*apt-get install qemu-user/);
});

test('codegen job: arm64 with bench is refused in one line', async () => {
  await assertOneLineError({}, { arch: 'arm64', bench: true }, /^codegen: benchmarking is not available for arm64\. Timings under qemu emulation mean nothing/);
});

test('codegen job: bench reports each layer as it is timed and returns positive timings', async () => {
  const { file, plan } = writeModel();
  const seen: string[] = [];
  const r = await runCodegenJob(file, plan, 'plan.json', fresh('out'), { bench: true, onProgress: (_f, m) => seen.push(m) });
  assert.deepEqual([...new Set(seen)], ['generating', 'compiling', 'benchmarking layer 1/1', 'done']);
  assert.deepEqual(r.bench!.layers.map((l) => l.scheme), ['block-punched']);
  for (const t of [r.bench!.layers[0].oursMs, r.bench!.layers[0].ortMs, r.bench!.layers[0].denseOursMs, r.bench!.model.oursMs, r.bench!.model.ortMs]) assert.ok(t > 0, String(t));
});

test('codegen job: an existing non-empty output folder is refused before any work, and left as it was', async () => {
  const { file, plan } = writeModel();
  const out = fresh('out');
  fs.mkdirSync(out);
  fs.writeFileSync(path.join(out, 'keep.txt'), 'mine');
  const seen: string[] = [];
  await assert.rejects(runCodegenJob(file, plan, 'plan.json', out, { verify: true, onProgress: (_f, m) => seen.push(m) }),
    (e: unknown) => e instanceof ModelError && /output folder exists\. Choose another -o or pass --force/.test(e.message));
  assert.deepEqual(seen, []);
  assert.deepEqual(fs.readdirSync(out), ['keep.txt']);
});
