// prunemap/prune over LSP on real models: work-done progress (a token the server creates, or the
// client's own), a report and an output file byte-identical to what `prunemap prune` writes for the
// same plan, which Python's onnxruntime loads and runs and the independent structure checker
// (scripts/reference/check_structure.py) accepts; cancellation mid-prune ($/cancelRequest and
// window/workDoneProgress/cancel) leaves no output and the server keeps answering; refused outputs.

import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CancellationTokenSource, fileUri, LspClient } from './support/client';
import { cli, copyModel, PYTHON, torchvision } from './support/references';

const REQUEST_CANCELLED = -32800;
const sha = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

let client: LspClient;
before(async () => {
  client = await LspClient.start();
});
after(async () => {
  await client.stop();
});

/** Loads the model in Python's onnxruntime and runs it once on zeros (symbolic dims = 1). */
function runsInOnnxRuntime(model: string): { ok: boolean; output: string } {
  const script = [
    'import sys, numpy as np, onnxruntime as ort',
    's = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])',
    'feeds = {i.name: np.zeros([d if isinstance(d, int) else 1 for d in i.shape], dtype=np.float32) for i in s.get_inputs()}',
    'out = s.run(None, feeds)',
    'print("ran", [o.shape for o in out])',
  ].join('\n');
  const r = spawnSync(PYTHON, ['-c', script, model], { encoding: 'utf8' });
  return { ok: r.status === 0, output: r.stdout + r.stderr };
}

function checkStructure(dense: string, pruned: string, plan: string): { ok: boolean; layers: { id: string; ok: boolean; violations: string[] }[] } {
  const r = spawnSync(PYTHON, [path.join(__dirname, '..', '..', 'scripts', 'reference', 'check_structure.py'), '--dense', dense, '--pruned', pruned, '--plan', plan, '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** Progress values of one token, in order. */
const progressOf = (token: string | number) => client.progress.filter((p) => p.token === token).map((p) => p.value);

describe('prune with progress', () => {
  test('server-created progress; the output equals the CLI\'s, runs in onnxruntime and has the plan\'s structure', async () => {
    const model = copyModel(torchvision('mobilenet_v2.onnx'));
    const dir = path.dirname(model);
    const mark = client.mark();
    const report = await client.request('prunemap/prune', { uri: fileUri(model) });

    const create = client.serverRequests.slice(mark.requests).find((r) => r.method === 'window/workDoneProgress/create');
    assert.ok(create, 'the server asked the client for a progress token');
    const values = progressOf(create.params.token);
    assert.equal(values[0].kind, 'begin');
    assert.equal(values[0].cancellable, true);
    assert.match(values[0].title, /Pruning mobilenet_v2\.onnx/);
    assert.equal(values[values.length - 1].kind, 'end');
    const percents = values.filter((v) => v.kind === 'report').map((v) => v.percentage);
    assert.ok(percents.length > 10, `reports: ${percents.length}`);
    assert.deepEqual(percents, [...percents].sort((a, b) => a - b), 'percentages only grow');
    assert.equal(percents[percents.length - 1], 100);

    assert.equal(report.output, path.join(dir, 'mobilenet_v2.pruned.onnx'));
    // The CLI, given the same (rule-based, default-target) plan, writes the same bytes and reports the same.
    const cliOut = path.join(dir, 'cli.onnx');
    const cliReport = JSON.parse(cli('prune', model, '-o', cliOut, '--json'));
    assert.deepEqual(report.layers, cliReport.layers);
    assert.deepEqual(report.totals, cliReport.totals);
    assert.equal(sha(report.output), sha(cliOut));

    const run = runsInOnnxRuntime(report.output);
    assert.ok(run.ok, run.output);
    const planFile = path.join(dir, 'plan.json');
    cli('map', model, '-o', planFile);
    const structure = checkStructure(model, report.output, planFile);
    assert.ok(structure.ok, JSON.stringify(structure.layers.filter((l) => !l.ok)));
  });

  test('the client\'s own workDoneToken, a plan file and an output path', async () => {
    const model = copyModel(torchvision('squeezenet1_1.onnx'));
    const dir = path.dirname(model);
    const planFile = path.join(dir, 'custom.prune.json');
    const layers = { '/features/features.3/expand3x3/Conv': { scheme: 'filter', rate: 0.5 }, '/classifier/classifier.1/Conv': { scheme: 'unstructured', rate: 0.3 } };
    fs.writeFileSync(planFile, JSON.stringify({ model: 'squeezenet1_1.onnx', target: 'host-cpu', layers }));
    const output = path.join(dir, 'out', 'small.onnx');
    fs.mkdirSync(path.dirname(output));
    const report = await client.request('prunemap/prune', { uri: fileUri(model), plan: fileUri(planFile), output: fileUri(output), workDoneToken: 'client-token-1' });
    assert.equal(report.output, output);
    assert.deepEqual(report.layers.map((l: any) => [l.id, l.scheme, l.plannedRate]), Object.entries(layers).map(([id, e]) => [id, e.scheme, e.rate]));
    const values = progressOf('client-token-1');
    assert.deepEqual([values[0].kind, values[values.length - 1].kind], ['begin', 'end']);
    const structure = checkStructure(model, output, planFile);
    assert.ok(structure.ok, JSON.stringify(structure));
    assert.ok(runsInOnnxRuntime(output).ok);
  });
});

describe('cancellation', () => {
  async function cancelMidway(how: 'request' | 'progress'): Promise<void> {
    const model = copyModel(torchvision('densenet121.onnx'));
    const dir = path.dirname(model);
    const mark = client.mark();
    const source = new CancellationTokenSource();
    // Progress on a token the server creates: window/workDoneProgress/cancel is for those (LSP 3.15).
    const pending = client.request('prunemap/prune', { uri: fileUri(model) }, source);
    const outcome = pending.then(() => undefined, (err) => err);
    // Cancel at the first progress report: well before the last of densenet's layers is pruned.
    const first = await client.waitFor('notification', (n) => n.method === '$/progress' && n.params.value.kind === 'report', mark.notifications);
    if (how === 'request') source.cancel();
    else client.notify('window/workDoneProgress/cancel', { token: first.params.token });
    const err = await outcome;
    assert.ok(err, 'the prune was not cancelled');
    assert.equal(err.code, REQUEST_CANCELLED);
    assert.match(err.message, /^prune of densenet121\.onnx cancelled; no output was written$/);
    assert.deepEqual(fs.readdirSync(dir), ['densenet121.onnx'], 'no output and no temporary files');
    const values = progressOf(first.params.token);
    assert.equal(values[values.length - 1].kind, 'end', 'the progress was ended');
    // The server keeps serving.
    const view = await client.openTextView(model);
    assert.ok((await client.inlayHints(view.uri)).length > 100);
  }

  test('$/cancelRequest mid-prune: no output file, and the server keeps answering', () => cancelMidway('request'));
  test('window/workDoneProgress/cancel mid-prune: the same', () => cancelMidway('progress'));
});

describe('during a prune', () => {
  test('other documents are answered before the prune ends', async () => {
    const other = await client.openTextView(torchvision('resnet18.onnx'));
    const model = copyModel(torchvision('densenet121.onnx'));
    const mark = client.mark();
    let settled = false;
    const pending = client.request('prunemap/prune', { uri: fileUri(model) }).finally(() => (settled = true));
    await client.waitFor('notification', (n) => n.method === '$/progress' && n.params.value.kind === 'report', mark.notifications);
    const hover = await client.hover(other.uri, (await client.inlayHints(other.uri))[1].position.line);
    assert.match(hover.contents.value, /dense .* ms → pruned .* ms/);
    assert.equal(settled, false, 'the hover was answered while densenet121 was still being pruned');
    const report = await pending;
    assert.ok(fs.existsSync(report.output));
  });
});

describe('refused outputs', () => {
  test('never over the input; an existing output only with force; a bad plan is one line', async () => {
    const model = copyModel(torchvision('squeezenet1_1.onnx'));
    const dir = path.dirname(model);
    const over = await client.requestError('prunemap/prune', { uri: fileUri(model), output: fileUri(model) });
    assert.equal(over.code, -32602);
    assert.match(over.message, /is the model itself; PruneMap never writes over its input/);
    const link = path.join(dir, 'link.onnx');
    fs.symlinkSync(model, link);
    assert.match((await client.requestError('prunemap/prune', { uri: fileUri(model), output: fileUri(link) })).message, /is the model itself/);

    const existing = path.join(dir, 'existing.onnx');
    fs.writeFileSync(existing, 'old');
    const exists = await client.requestError('prunemap/prune', { uri: fileUri(model), output: fileUri(existing) });
    assert.match(exists.message, /already exists; pass "force": true to replace it/);
    assert.equal(fs.readFileSync(existing, 'utf8'), 'old');
    const forced = await client.request('prunemap/prune', { uri: fileUri(model), output: fileUri(existing), force: true });
    assert.equal(forced.output, existing);
    assert.ok(runsInOnnxRuntime(existing).ok);

    const badPlan = path.join(dir, 'bad.prune.json');
    fs.writeFileSync(badPlan, '{"model": "squeezenet1_1.onnx", "target": "host-cpu", "layers": {"/features/features.0/Conv": {"scheme": "pattern", "rate": 1.5}}}');
    const bad = await client.requestError('prunemap/prune', { uri: fileUri(model), plan: fileUri(badPlan), output: fileUri(path.join(dir, 'x.onnx')) });
    assert.match(bad.message, /bad\.prune\.json:1:\d+: rate 1\.5 is outside \[0, 1\)/);
    assert.ok(!bad.message.includes('\n'));
    assert.ok(!fs.existsSync(path.join(dir, 'x.onnx')));
  });
});
