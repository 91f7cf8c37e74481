// prunemap/search, prunemap/searchResult, prunemap/adoptSearchPlan and prunemap/exportTrainingRecipe
// over LSP on the trained sample. The search runs with a small effort (a few candidates) so it is
// quick; what is checked does not depend on how good the plan is: it meets the requested speedup,
// the rule side is exactly what `prunemap map --json` prints (its own process), and the searched
// plan, adopted and saved as a plan file, is pruned by the CLI into a model Python's onnxruntime
// runs and the independent structure checker (scripts/reference/check_structure.py) accepts.
// Cancellation leaves the previous search plan and no file; the recipes' files are written for the
// current plan (an override reaches them) and replaced only with force.

import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CancellationTokenSource, fileUri, LspClient } from './support/client';
import { cli, copyModel, fashionCnn, PYTHON, tempDir } from './support/references';

const INVALID_PARAMS = -32602;
const REQUEST_FAILED = -32803;
const REQUEST_CANCELLED = -32800;
/** A few candidates only: the test checks the flow, not the search's quality. */
const QUICK = { population: 4, generations: 2, calibrationSamples: 64 };

let client: LspClient;
before(async () => {
  client = await LspClient.start({ initializationOptions: { target: 'snapdragon855-cpu' } });
});
after(async () => {
  await client.stop();
});

const progressOf = (token: string | number) => client.progress.filter((p) => p.token === token).map((p) => p.value);

/** The request's LSP error with its data (fails when the request succeeds). */
async function failure(method: string, params: unknown): Promise<{ code: number; message: string; data?: any }> {
  try {
    const result = await client.request(method, params);
    throw new Error(`expected ${method} to fail, got ${JSON.stringify(result).slice(0, 300)}`);
  } catch (err) {
    const e = err as { code?: unknown; message: string; data?: unknown };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, message: e.message, data: e.data };
  }
}

function python(script: string, ...args: string[]): string {
  const r = spawnSync(PYTHON, ['-c', script, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

describe('search, compare, adopt, save', () => {
  const model = copyModel(fashionCnn);
  const uri = fileUri(model);
  let result: any;

  test('before a search: no result, and nothing to adopt', async () => {
    assert.equal(await client.request('prunemap/searchResult', { uri }), null);
    const adopt = await failure('prunemap/adoptSearchPlan', { uri });
    assert.equal(adopt.code, REQUEST_FAILED);
    assert.match(adopt.message, /^no search plan for fashion-cnn\.onnx; run "Search Pruning Plan…"/);
  });

  test('a search for 1.2× reports progress and returns a plan reaching at least 1.2×', async () => {
    const mark = client.mark();
    result = await client.request('prunemap/search', { uri, speedup: 1.2, seed: 1, effort: QUICK });
    const create = client.serverRequests.slice(mark.requests).find((r) => r.method === 'window/workDoneProgress/create');
    assert.ok(create, 'the server asked for a progress token');
    const values = progressOf(create.params.token);
    assert.equal(values[0].kind, 'begin');
    assert.equal(values[0].cancellable, true);
    assert.equal(values[0].title, 'Searching a pruning plan for fashion-cnn.onnx');
    assert.equal(values.at(-1).kind, 'end');
    const reports = values.filter((v) => v.kind === 'report');
    assert.ok(reports.length > 0);
    for (const r of reports) assert.ok(r.percentage >= 0 && r.percentage <= 100, `percentage ${r.percentage}`);

    assert.deepEqual(result.goal, { speedup: 1.2, seed: 1 });
    assert.equal(result.target, 'snapdragon855-cpu');
    assert.equal(result.searchedTarget, 'snapdragon855-cpu');
    assert.ok(result.search.speedup >= 1.2, `searched plan: ${result.search.speedup}×`);
    // The totals are the layers' sums (6 significant digits each).
    const sum = (key: 'rules' | 'search', f: 'denseMs' | 'prunedMs') => result.layers.reduce((n: number, l: any) => n + l[key].latency[f], 0);
    assert.ok(Math.abs(sum('search', 'denseMs') / sum('search', 'prunedMs') - result.search.speedup) < 1e-3);
    assert.equal(result.adopted, false);
  });

  test('the rule side is `prunemap map --json`', () => {
    const map = JSON.parse(cli('map', model, '--json', '--target', 'snapdragon855-cpu'));
    assert.deepEqual(result.layers.map((l: any) => l.id), Object.keys(map.layers));
    for (const l of result.layers) {
      const m = map.layers[l.id];
      assert.equal(l.rules.scheme, m.scheme, l.id);
      assert.equal(l.rules.rate, m.rate, l.id);
      assert.deepEqual(l.rules.latency, m.latency, l.id);
      assert.equal(l.rules.reason, m.reason);
    }
    assert.equal(result.rules.speedup, map.summary.speedup);
    assert.equal(result.rules.compression, map.summary.compression);
  });

  test('searchResult answers the same comparison', async () => {
    assert.deepEqual(await client.request('prunemap/searchResult', { uri }), result);
  });

  test('adopted, the searched plan is the current plan; saved and pruned by the CLI, it runs and has its structure', async () => {
    const adopted = await client.request('prunemap/adoptSearchPlan', { uri });
    assert.equal(adopted.totals.speedup, result.search.speedup);
    const { plan } = await client.request('prunemap/analyze', { uri });
    for (const l of result.layers) {
      assert.equal(plan.layers[l.id].scheme, l.search.scheme, l.id);
      assert.equal(plan.layers[l.id].rate, l.search.rate, l.id);
      assert.equal(plan.layers[l.id].source, 'override');
    }
    assert.equal((await client.request('prunemap/searchResult', { uri })).adopted, true);

    const dir = path.dirname(model);
    const planFile = path.join(dir, 'searched.prune.json');
    await client.request('prunemap/savePlan', { uri, output: fileUri(planFile) });
    const saved = JSON.parse(fs.readFileSync(planFile, 'utf8'));
    for (const l of result.layers) assert.equal(saved.layers[l.id].scheme, l.search.scheme);
    const pruned = path.join(dir, 'searched.onnx');
    cli('prune', model, '--plan', planFile, '-o', pruned);
    const check = spawnSync(PYTHON, [path.join(__dirname, '..', '..', 'scripts', 'reference', 'check_structure.py'), '--dense', model, '--pruned', pruned, '--plan', planFile, '--json'], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stderr);
    const structure = JSON.parse(check.stdout);
    assert.ok(structure.ok, JSON.stringify(structure.layers.filter((l: any) => !l.ok)));
    const ran = python([
      'import sys, numpy as np, onnxruntime as ort',
      's = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])',
      'i = s.get_inputs()[0]',
      'print(s.run(None, {i.name: np.zeros([d if isinstance(d, int) else 1 for d in i.shape], np.float32)})[0].shape)',
    ].join('\n'), pruned);
    assert.match(ran, /\(1, 10\)/);
  });

  for (const how of ['request', 'progress'] as const) {
    test(`cancelled (${how === 'request' ? '$/cancelRequest' : 'window/workDoneProgress/cancel'}): the previous search plan stays, no file is written, other requests are answered meanwhile`, async () => {
      const before = await client.request('prunemap/searchResult', { uri });
      const files = fs.readdirSync(path.dirname(model)).sort();
      const mark = client.mark();
      const source = new CancellationTokenSource();
      // The default effort: long enough to cancel in the middle.
      const outcome = client.request('prunemap/search', { uri, speedup: 1.3, seed: 2 }, source).then(() => undefined, (err) => err);
      const first = await client.waitFor('notification', (n) => n.method === '$/progress' && n.params.value.kind === 'report', mark.notifications);
      const analysis = await client.request('prunemap/analyze', { uri });
      assert.equal(analysis.summary.layers.length, 10, 'answered during the search');
      if (how === 'request') source.cancel();
      else client.notify('window/workDoneProgress/cancel', { token: first.params.token });
      const err = await outcome;
      assert.ok(err, 'the search was not cancelled');
      assert.equal(err.code, REQUEST_CANCELLED);
      assert.equal(err.message, 'search for fashion-cnn.onnx cancelled; its plans are unchanged');
      assert.equal(progressOf(first.params.token).at(-1).kind, 'end');
      assert.deepEqual(await client.request('prunemap/searchResult', { uri }), before);
      assert.deepEqual(fs.readdirSync(path.dirname(model)).sort(), files);
    });
  }

  test('bad goals are refused with one line', async () => {
    const cases: [unknown, number, RegExp][] = [
      [{}, INVALID_PARAMS, /give exactly one goal/],
      [{ speedup: 2, budgetMs: 0.2 }, INVALID_PARAMS, /give exactly one goal/],
      [{ speedup: 1 }, INVALID_PARAMS, /speedup 1 must be a number above 1/],
      [{ budgetMs: -1 }, INVALID_PARAMS, /budgetMs -1 must be a positive number/],
      [{ speedup: 2, effort: { population: 0 } }, INVALID_PARAMS, /effort\.population 0 must be a positive integer/],
      // The sample's fastest plan reaches about 1.5× on this target (the engine says how far it gets).
      [{ speedup: 10, effort: QUICK }, REQUEST_FAILED, /10× speedup is out of reach on snapdragon855-cpu/],
    ];
    for (const [goal, code, message] of cases) {
      const e = await failure('prunemap/search', { uri, ...(goal as object) });
      assert.equal(e.code, code, JSON.stringify(goal));
      assert.match(e.message, message);
      assert.ok(!e.message.includes('\n'), e.message);
    }
  });
});

describe('export training recipes', () => {
  const model = copyModel(fashionCnn);
  const uri = fileUri(model);
  const overridden = { layer: '/features/conv1/conv1.0/Conv', module: 'features.conv1.0' };

  before(async () => {
    // The current plan (with an override) is what is exported.
    await client.request('prunemap/setLayer', { uri, layer: overridden.layer, scheme: 'unstructured', rate: 0.5 });
  });

  async function prunedLayerCount(): Promise<number> {
    const { plan } = await client.request('prunemap/analyze', { uri });
    return Object.values(plan.layers).filter((e: any) => e.scheme !== 'dense').length;
  }

  test('nni: config_list.json has the current plan\'s layers and rates', async () => {
    const folder = tempDir();
    const report = await client.request('prunemap/exportTrainingRecipe', { uri, format: 'nni', output: fileUri(folder) });
    assert.equal(report.folder, folder);
    assert.deepEqual(report.files.map((f: string) => path.basename(f)).sort(), ['config_list.json', 'nni_config.py']);
    assert.deepEqual(fs.readdirSync(folder).sort(), ['config_list.json', 'nni_config.py'], 'no temporary files left');
    const config = JSON.parse(fs.readFileSync(path.join(folder, 'config_list.json'), 'utf8'));
    assert.equal(config.length, await prunedLayerCount());
    const entry = config.find((c: any) => c.op_names?.[0] === overridden.module);
    assert.ok(entry, JSON.stringify(config));
    assert.equal(entry.sparse_ratio, 0.5); // unstructured 50% of 32·16·3·3 weights: exactly half
    python('import ast, sys; ast.parse(open(sys.argv[1]).read())', path.join(folder, 'nni_config.py'));
  });

  test('torch-ao: the config has the current plan\'s layers, and its Python parses', async () => {
    const folder = tempDir();
    const report = await client.request('prunemap/exportTrainingRecipe', { uri, format: 'torch-ao', output: fileUri(folder) });
    assert.deepEqual(report.files.map((f: string) => path.basename(f)).sort(), ['torch_ao_config.json', 'torch_ao_config.py']);
    // Linear layers in sparse_config (WeightNormSparsifier takes 2-D weights), Conv layers in conv_config.
    const { sparse_config: linear, conv_config: conv } = JSON.parse(fs.readFileSync(path.join(folder, 'torch_ao_config.json'), 'utf8'));
    const config = [...linear, ...conv];
    assert.equal(config.length, await prunedLayerCount());
    assert.ok(conv.some((c: any) => c.tensor_fqn === `${overridden.module}.weight` && c.sparsity_level === 0.5), JSON.stringify(config));
    python('import ast, sys; ast.parse(open(sys.argv[1]).read())', path.join(folder, 'torch_ao_config.py'));
  });

  test('pytorch: the script compiles; by default the files go next to the model', async () => {
    const report = await client.request('prunemap/exportTrainingRecipe', { uri, format: 'pytorch' });
    assert.equal(report.folder, path.dirname(model));
    const script = report.files.find((f: string) => f.endsWith('.py'));
    assert.ok(script, report.files.join(', '));
    for (const f of report.files) assert.equal(path.dirname(f), path.dirname(model));
    python('import py_compile, sys; py_compile.compile(sys.argv[1], doraise=True)', script);
  });

  test('existing files are replaced only with force; nothing is written otherwise', async () => {
    const folder = tempDir();
    await client.request('prunemap/exportTrainingRecipe', { uri, format: 'nni', output: fileUri(folder) });
    const config = path.join(folder, 'config_list.json');
    fs.writeFileSync(config, 'mine');
    const refused = await failure('prunemap/exportTrainingRecipe', { uri, format: 'nni', output: fileUri(folder) });
    assert.equal(refused.code, REQUEST_FAILED);
    assert.match(refused.message, /config_list\.json, nni_config\.py already exist in .*; pass "force": true to replace them/);
    assert.deepEqual([...refused.data.existing].sort(), [config, path.join(folder, 'nni_config.py')]);
    assert.equal(fs.readFileSync(config, 'utf8'), 'mine');
    await client.request('prunemap/exportTrainingRecipe', { uri, format: 'nni', output: fileUri(folder), force: true });
    assert.ok(Array.isArray(JSON.parse(fs.readFileSync(config, 'utf8'))));
    assert.deepEqual(fs.readdirSync(folder).sort(), ['config_list.json', 'nni_config.py']);
  });

  test('an unknown format, or a file as the folder, is refused', async () => {
    const bad = await failure('prunemap/exportTrainingRecipe', { uri, format: 'keras' });
    assert.equal(bad.code, INVALID_PARAMS);
    assert.match(bad.message, /unknown training recipe format "keras"; formats: pytorch, nni, torch-ao/);
    const file = await failure('prunemap/exportTrainingRecipe', { uri, format: 'nni', output: uri });
    assert.equal(file.code, INVALID_PARAMS);
    assert.match(file.message, /is a file; give the folder/);
  });
});
