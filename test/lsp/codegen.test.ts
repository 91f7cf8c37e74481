// prunemap/codegen over LSP on the sample model with its rule-based plan (target host-cpu): the
// folder holds the generated sources and the compiled runner, and that runner — run here by the
// test, on an input the test makes — gives what Python's onnxruntime gives on the pruned model
// that `prunemap prune` writes for the same plan; work-done progress on the client's token;
// cancellation mid-compile ($/cancelRequest and window/workDoneProgress/cancel) leaves neither the
// folder nor a temporary one; an untrusted workspace is refused and gets no "Generate sparse
// code…" lens until trust is granted; a missing compiler is one line.

import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CancellationTokenSource, fileUri, LspClient } from './support/client';
import { cli, copyModel, fashionCnn, PYTHON, tempDir } from './support/references';

const REQUEST_CANCELLED = -32800;
const TARGET = 'host-cpu';

// The server's temporary folders go to a folder of this test's own, so "nothing left behind" can
// be checked while other processes use the system's temporary folder.
const serverTmp = tempDir('prunemap-codegen-tmp-');

let client: LspClient;
before(async () => {
  client = await startServer({ target: TARGET });
});
after(async () => {
  await client.stop();
});

/** A server with its own TMPDIR (and any other variables given), with these initializationOptions. */
async function startServer(initializationOptions: unknown, env: Record<string, string> = {}): Promise<LspClient> {
  const saved = { ...process.env };
  Object.assign(process.env, { TMPDIR: serverTmp, ...env });
  try {
    return await LspClient.start({ initializationOptions });
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  }
}

/** Python's onnxruntime on a model, for an input it draws from a seed; writes input and output as raw float32. */
function onnxRuntimeReference(model: string, dir: string): { input: string; output: string } {
  const input = path.join(dir, 'input.f32');
  const output = path.join(dir, 'reference.f32');
  const script = [
    'import sys, numpy as np, onnxruntime as ort',
    's = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])',
    'i = s.get_inputs()[0]',
    'x = np.random.default_rng(7).standard_normal([d if isinstance(d, int) else 1 for d in i.shape]).astype(np.float32)',
    'x.tofile(sys.argv[2])',
    's.run(None, {i.name: x})[0].astype(np.float32).tofile(sys.argv[3])',
  ].join('\n');
  const r = spawnSync(PYTHON, ['-c', script, model, input, output], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return { input, output };
}

const floats = (file: string) => new Float32Array(new Uint8Array(fs.readFileSync(file)).buffer);
const progressOf = (token: string | number) => client.progress.filter((p) => p.token === token).map((p) => p.value);

describe('generate and verify', () => {
  test('the folder has the sources and a runner that computes what onnxruntime computes on the pruned model', async () => {
    const model = copyModel(fashionCnn);
    const dir = path.dirname(model);
    const result = await client.request('prunemap/codegen', { uri: fileUri(model), verify: true, workDoneToken: 'codegen-1' });

    const out = path.join(dir, 'fashion-cnn.codegen');
    assert.equal(result.outputDir, out, 'the default folder is <name>.codegen beside the model');
    for (const file of ['prunemap_model.c', 'prunemap_model.h', 'model.bin', 'main.c', 'Makefile', 'prunemap_run']) {
      assert.ok(fs.existsSync(path.join(out, file)), `${file} in ${fs.readdirSync(out)}`);
      assert.ok(result.files.includes(file), file);
    }
    assert.equal(result.verified, true);
    assert.ok(result.maxAbsError < 1e-4, String(result.maxAbsError));
    assert.equal(result.bench, undefined, 'no benchmark unless asked');

    // The layers and schemes are those of the rule-based plan `prunemap map` gives for the target.
    const planFile = path.join(dir, 'plan.json');
    cli('map', model, '--target', TARGET, '-o', planFile);
    const plan = JSON.parse(fs.readFileSync(planFile, 'utf8'));
    assert.deepEqual(Object.fromEntries(result.layers.map((l: any) => [l.id, l.scheme])), Object.fromEntries(Object.entries<any>(plan.layers).map(([id, e]) => [id, e.scheme])));
    assert.ok(result.layers.some((l: any) => l.scheme === 'block-punched' && l.kept < 1));

    // Independently of the server's own check: the runner against onnxruntime on `prunemap prune`'s output.
    const pruned = path.join(dir, 'pruned.onnx');
    cli('prune', model, '--plan', planFile, '-o', pruned);
    const work = tempDir();
    const reference = onnxRuntimeReference(pruned, work);
    const ours = path.join(work, 'ours.f32');
    const run = spawnSync(path.join(out, 'prunemap_run'), [path.join(out, 'model.bin'), 'run', reference.input, ours], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const [expected, got] = [floats(reference.output), floats(ours)];
    assert.equal(got.length, expected.length);
    const scale = Math.max(...expected.map(Math.abs));
    const maxError = Math.max(...got.map((v, i) => Math.abs(v - expected[i]!)));
    assert.ok(maxError <= 1e-4 * scale, `max abs error ${maxError} (scale ${scale})`);

    const values = progressOf('codegen-1');
    assert.equal(values[0].kind, 'begin');
    assert.equal(values[0].cancellable, true);
    assert.match(values[0].title, /^Generating sparse code for fashion-cnn\.onnx$/);
    assert.equal(values.at(-1).kind, 'end');
    const percents = values.filter((v) => v.kind === 'report').map((v) => v.percentage);
    assert.deepEqual(percents, [...percents].sort((a, b) => a - b), 'percentages only grow');
    assert.ok(values.some((v) => v.kind === 'report' && /compil/.test(v.message)), 'compiling is reported');
  });

  test('a non-empty folder is replaced only with force; the model\'s own folder never', async () => {
    const model = copyModel(fashionCnn);
    const dir = path.dirname(model);
    const out = path.join(dir, 'gen');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'keep.txt'), 'mine');
    const refused = await client.requestError('prunemap/codegen', { uri: fileUri(model), outputDir: fileUri(out) });
    assert.match(refused.message, /gen already exists and is not empty; pass "force": true/);
    assert.equal(fs.readFileSync(path.join(out, 'keep.txt'), 'utf8'), 'mine');
    const own = await client.requestError('prunemap/codegen', { uri: fileUri(model), outputDir: fileUri(dir), force: true });
    assert.match(own.message, /holds the model itself/);
    assert.ok(fs.existsSync(model));
    const forced = await client.request('prunemap/codegen', { uri: fileUri(model), outputDir: fileUri(out), force: true });
    assert.equal(forced.outputDir, out);
    assert.ok(!fs.existsSync(path.join(out, 'keep.txt')));
    assert.ok(fs.existsSync(path.join(out, 'prunemap_model.c')));
  });
});

describe('cancellation', () => {
  async function cancelWhileCompiling(how: 'request' | 'progress'): Promise<void> {
    const model = copyModel(fashionCnn);
    const dir = path.dirname(model);
    const mark = client.mark();
    const source = new CancellationTokenSource();
    const pending = client.request('prunemap/codegen', { uri: fileUri(model), verify: true, bench: true }, source);
    const outcome = pending.then(() => undefined, (err) => err);
    // The sources are written (in a temporary sibling) once compiling starts: cancel then.
    const compiling = await client.waitFor('notification', (n) => n.method === '$/progress' && n.params.value.kind === 'report' && /compil/.test(n.params.value.message), mark.notifications);
    const during = fs.readdirSync(dir);
    if (how === 'request') source.cancel();
    else client.notify('window/workDoneProgress/cancel', { token: compiling.params.token });
    const err = await outcome;
    assert.ok(err, 'the code generation was not cancelled');
    assert.equal(err.code, REQUEST_CANCELLED);
    assert.equal(err.message, 'code generation for fashion-cnn.onnx cancelled; no folder was written');
    assert.ok(during.length > 1, `a temporary sibling was being written: ${during}`);
    assert.deepEqual(fs.readdirSync(dir), ['fashion-cnn.onnx'], 'no output folder and no temporary sibling');
    // (Only folders count: the sandbox this may run in drops small log files of its own there.)
    const leftFolders = fs.readdirSync(serverTmp, { withFileTypes: true }).filter((e) => e.isDirectory() || e.name.startsWith('prunemap-')).map((e) => e.name);
    assert.deepEqual(leftFolders, [], 'no temporary folder left');
    const values = progressOf(compiling.params.token);
    assert.equal(values.at(-1).kind, 'end', 'the progress was ended');
    // The server keeps serving.
    const view = await client.openTextView(model);
    assert.ok((await client.inlayHints(view.uri)).length > 0);
  }

  test('$/cancelRequest while compiling: no folder, no temporary files, and the server keeps answering', () => cancelWhileCompiling('request'));
  test('window/workDoneProgress/cancel while compiling: the same', () => cancelWhileCompiling('progress'));
});

describe('workspace trust', () => {
  const lensTitles = async (c: LspClient, uri: string) => ((await c.request('textDocument/codeLens', { textDocument: { uri } })) as any[]).map((l) => l.command.title as string);

  test('a trusted workspace (or a client that says nothing) gets the lens', async () => {
    const view = await client.openTextView(copyModel(fashionCnn));
    assert.ok((await lensTitles(client, view.uri)).includes('Generate sparse code…'));
  });

  test('untrusted: refused with one line and nothing written, no lens; granting trust brings the lens back', async () => {
    const untrusted = await startServer({ prunemap: { target: TARGET }, workspaceTrusted: false });
    try {
      const model = copyModel(fashionCnn);
      const dir = path.dirname(model);
      const err = await untrusted.requestError('prunemap/codegen', { uri: fileUri(model), verify: true });
      assert.match(err.message, /^Generating sparse code needs a trusted workspace/);
      assert.ok(!err.message.includes('\n'));
      assert.deepEqual(fs.readdirSync(dir), ['fashion-cnn.onnx']);
      const view = await untrusted.openTextView(model);
      const titles = await lensTitles(untrusted, view.uri);
      assert.ok(titles.some((t) => t.startsWith('Prune model…')), 'the other lenses are there');
      assert.ok(!titles.includes('Generate sparse code…'));

      const mark = untrusted.mark();
      untrusted.notify('prunemap/workspaceTrust', { trusted: true });
      await untrusted.waitFor('request', (r) => r.method === 'workspace/codeLens/refresh', mark.requests);
      assert.ok((await lensTitles(untrusted, view.uri)).includes('Generate sparse code…'));
    } finally {
      await untrusted.stop();
    }
  });
});

describe('errors', () => {
  test('a missing compiler is one line, and nothing is written', async () => {
    const noCompiler = await startServer({ target: TARGET }, { CC: 'prunemap-no-such-cc' });
    try {
      const model = copyModel(fashionCnn);
      const err = await noCompiler.requestError('prunemap/codegen', { uri: fileUri(model), verify: true });
      assert.match(err.message, /C compiler "prunemap-no-such-cc" not found/);
      assert.ok(!err.message.includes('\n') && !/\bat .*:\d+:\d+/.test(err.message), err.message);
      assert.deepEqual(fs.readdirSync(path.dirname(model)), ['fashion-cnn.onnx']);
    } finally {
      await noCompiler.stop();
    }
  });
});
