// Changing the plan over LSP: prunemap/setLayer changes the layer's inlay hint, hover and the
// analyze result and makes the server ask the client to refresh inlay hints and code lenses; an
// invalid override (unknown layer or scheme, bad rate, a scheme the layer cannot take) is one clear
// error and changes nothing; reset goes back to the rule-based entry; setTarget switches every
// figure to the CLI's `map --target` figures; savePlan writes a plan file that becomes the plan.

import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileUri, LspClient } from './support/client';
import { cli, copyModel, inspectJson, mapJson, threeDigits, torchvision } from './support/references';

const INVALID_PARAMS = -32602;

let client: LspClient;
let model: string;
let view: { uri: string; text: string };
const inspect = inspectJson(torchvision('resnet18.onnx'));
const lineOf = (id: string) => inspect.layers.find((l) => l.id === id)!.line - 1;
const conv3x3 = '/layer2/layer2.0/conv2/Conv';
const conv1x1 = '/layer2/layer2.0/downsample/downsample.0/Conv';

before(async () => {
  client = await LspClient.start();
  model = copyModel(torchvision('resnet18.onnx'));
  view = await client.openTextView(model);
});
after(async () => {
  await client.stop();
});

async function hintAt(line: number): Promise<string> {
  const hints = await client.inlayHints(view.uri);
  return hints.find((h) => h.position.line === line)?.label;
}

describe('setLayer', () => {
  test('an override changes the hint, the hover and analyze, and asks the client to refresh', async () => {
    const mark = client.mark();
    const result = await client.request('prunemap/setLayer', { uri: fileUri(model), layer: conv3x3, scheme: 'block-punched', params: { block: [8, 4] }, rate: 0.875 });
    assert.equal(result.layer, conv3x3);
    assert.deepEqual([result.entry.scheme, result.entry.block, result.entry.rate, result.entry.source], ['block-punched', [8, 4], 0.875, 'override']);
    const { denseMs, prunedMs } = result.entry.latency;
    assert.ok(prunedMs < denseMs, 'pruning at 87.5% makes the layer faster');
    await client.waitFor('request', (r) => r.method === 'workspace/inlayHint/refresh', mark.requests);
    await client.waitFor('request', (r) => r.method === 'workspace/codeLens/refresh', mark.requests);

    assert.equal(await hintAt(lineOf(conv3x3)), `block-punched 8×4 · 87.5% · ${(denseMs / prunedMs).toFixed(1)}×`);
    const hover = (await client.hover(view.uri, lineOf(conv3x3))).contents.value;
    assert.match(hover, /block-punched 8×4 at 87\.5% \(your override\)/);
    assert.ok(hover.includes(`dense ${threeDigits(denseMs)} ms → pruned ${threeDigits(prunedMs)} ms`));
    assert.match(hover, /The rule-based mapper would choose/);

    const analysis = await client.request('prunemap/analyze', { uri: view.uri });
    assert.deepEqual(analysis.plan.layers[conv3x3], result.entry);
    assert.deepEqual(analysis.plan.totals, result.totals);
    // The dense figure is the layer's, whatever the scheme: the CLI's.
    assert.equal(denseMs, mapJson(model).layers[conv3x3].latency.denseMs);
  });

  test('omitted fields keep the current values; N:M takes its own rate', async () => {
    const rate = await client.request('prunemap/setLayer', { uri: view.uri, layer: conv3x3, rate: 0.5 });
    assert.deepEqual([rate.entry.scheme, rate.entry.block, rate.entry.rate], ['block-punched', [8, 4], 0.5]);
    const nm = await client.request('prunemap/setLayer', { uri: view.uri, layer: conv3x3, scheme: 'nm' });
    assert.deepEqual([nm.entry.scheme, nm.entry.n, nm.entry.m, nm.entry.rate], ['nm', 2, 4, 0.5]);
    assert.equal(await hintAt(lineOf(conv3x3)), `nm 2:4 · 50.0% · ${(nm.entry.latency.denseMs / nm.entry.latency.prunedMs).toFixed(1)}×`);
  });

  test('invalid overrides: one clear line each, and the plan is unchanged', async () => {
    const before = await client.request('prunemap/analyze', { uri: view.uri });
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ layer: '/layer2/layer2.0/conv9/Conv', scheme: 'filter', rate: 0.5 }, /no layer "\/layer2\/layer2\.0\/conv9\/Conv" in resnet18\.onnx; did you mean "\/layer2\/layer2\.0\/conv\d\/Conv"\?/],
      [{ layer: conv1x1, scheme: 'pattern', rate: 0.6 }, /^layer ".*downsample.*" in resnet18\.onnx: pattern at rate 0\.6 is infeasible: pattern pruning needs a 3×3 kernel and group 1; this layer is 1×1$/],
      [{ layer: conv3x3, scheme: 'block-punched', params: { block: [1024, 4] }, rate: 0.5 }, /block 1024×4 is larger than this layer's/],
      [{ layer: conv3x3, scheme: 'filter', rate: 1.5 }, /rate 1\.5 is outside \[0, 1\)/],
      [{ layer: conv3x3, scheme: 'blockpunched', rate: 0.5 }, /unknown scheme "blockpunched"; did you mean "block-punched"\?/],
      [{ layer: conv3x3, scheme: 'nm', params: { block: [8, 4] } }, /"block" is not used by scheme nm/],
      [{ layer: conv3x3, scheme: 'dense', rate: 0.3 }, /a dense layer has rate 0/],
      [{ layer: conv3x3, scheme: 'nm', params: { n: 2, m: 4 }, rate: 0.6 }, /2:4 sparsity prunes exactly 0\.5 of the weights; rate 0\.6 does not match/],
      [{ layer: 42 }, /"layer" must be a layer id/],
    ];
    for (const [params, message] of cases) {
      const err = await client.requestError('prunemap/setLayer', { uri: view.uri, ...params });
      assert.equal(err.code, INVALID_PARAMS, JSON.stringify(params));
      assert.match(err.message, message);
      assert.ok(!err.message.includes('\n') && !/\bat .*\.js:\d+/.test(err.message), `one line, no stack: ${err.message}`);
    }
    assert.deepEqual(await client.request('prunemap/analyze', { uri: view.uri }), before);
  });

  test('reset drops the override: back to the rule-based entry', async () => {
    const result = await client.request('prunemap/setLayer', { uri: view.uri, layer: conv3x3, reset: true });
    const rules = mapJson(model).layers[conv3x3];
    assert.deepEqual([result.entry.scheme, result.entry.rate, result.entry.source], [rules.scheme, rules.rate, 'rules']);
    assert.deepEqual(result.entry.latency, rules.latency);
  });

  test('layerDetails: the entry, the mapper\'s choice and feasible alternatives, fastest first', async () => {
    const details = await client.request('prunemap/layerDetails', { uri: view.uri, layer: conv1x1 });
    assert.equal(details.layer.id, conv1x1);
    assert.ok(details.alternatives.length > 3);
    assert.ok(details.alternatives.every((a: any) => a.scheme !== 'pattern'), 'no pattern on a 1×1 conv');
    const ms = details.alternatives.map((a: any) => a.latency.prunedMs);
    assert.deepEqual(ms, [...ms].sort((a, b) => a - b));
    assert.match(details.markdown, /Best alternatives/);
  });
});

describe('setTarget', () => {
  test('every figure switches to the target: analyze and hovers equal `map --target`', async () => {
    const mark = client.mark();
    const result = await client.request('prunemap/setTarget', { target: 'host-cpu' });
    assert.equal(result.target, 'host-cpu');
    assert.ok(result.targets.includes('adreno640-gpu'));
    await client.waitFor('request', (r) => r.method === 'workspace/inlayHint/refresh', mark.requests);
    const expected = mapJson(model, 'host-cpu');
    const analysis = await client.request('prunemap/analyze', { uri: view.uri });
    assert.equal(analysis.plan.target, 'host-cpu');
    for (const [id, e] of Object.entries(expected.layers)) {
      assert.deepEqual([analysis.plan.layers[id].scheme, analysis.plan.layers[id].latency], [e.scheme, e.latency], id);
    }
    const hover = (await client.hover(view.uri, lineOf(conv3x3))).contents.value;
    assert.ok(hover.includes(`Latency on host-cpu`));
    assert.ok(hover.includes(`dense ${threeDigits(expected.layers[conv3x3].latency.denseMs)} ms`));
  });

  test('an unknown target is refused with the known ones', async () => {
    const err = await client.requestError('prunemap/setTarget', { target: 'snapdragon855' });
    assert.equal(err.code, INVALID_PARAMS);
    assert.match(err.message, /^unknown target "snapdragon855"; did you mean "snapdragon855-cpu"\? Targets: .*host-cpu/);
    assert.match((await client.requestError('prunemap/setTarget', { target: 42 })).message, /^unknown target 42; targets: /);
    assert.equal((await client.request('prunemap/analyze', { uri: view.uri })).plan.target, 'host-cpu');
    await client.request('prunemap/setTarget', { target: 'snapdragon855-cpu' });
  });
});

describe('savePlan', () => {
  test('writes the plan with its overrides next to the model; it becomes the plan; the CLI accepts it', async () => {
    await client.request('prunemap/setLayer', { uri: view.uri, layer: conv1x1, scheme: 'block-punched', params: { block: [16, 4] }, rate: 0.75 });
    const saved = await client.request('prunemap/savePlan', { uri: view.uri });
    const planFile = path.join(path.dirname(model), 'resnet18.prune.json');
    assert.equal(saved.uri, fileUri(planFile));
    const plan = JSON.parse(fs.readFileSync(planFile, 'utf8'));
    assert.equal(plan.model, 'resnet18.onnx');
    assert.deepEqual([plan.layers[conv1x1].scheme, plan.layers[conv1x1].block, plan.layers[conv1x1].rate], ['block-punched', [16, 4], 0.75]);
    const analysis = await client.request('prunemap/analyze', { uri: view.uri });
    assert.equal(analysis.plan.source, 'file');
    assert.deepEqual(analysis.plan.problems, []);
    assert.equal(analysis.plan.layers[conv1x1].source, 'file');
    assert.equal(analysis.plan.layers[conv1x1].rate, 0.75);
    // The CLI prunes with it: the plan is valid and means the same thing.
    const report = JSON.parse(cli('prune', model, '--plan', planFile, '-o', path.join(path.dirname(model), 'cli.onnx'), '--json'));
    assert.equal(report.layers.find((l: any) => l.id === conv1x1).plannedRate, 0.75);
  });
});
