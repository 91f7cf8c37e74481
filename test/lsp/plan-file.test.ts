// Plan files over LSP: an open `*.prune.json` gets diagnostics from validation against its model,
// each placed where the problem is in the text (positions found here by searching the text);
// completion offers layer ids and scheme names; a hover on a layer shows its shapes and latency.
// A plan file next to the model is the model's plan when it is valid; with errors it is not used
// and the text view says so; fixing it on disk is picked up without reopening anything.

import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileUri, LspClient } from './support/client';
import { copyModel, inspectJson, mapJson, threeDigits, torchvision } from './support/references';

const ERROR = 1;
const WARNING = 2;

let client: LspClient;
before(async () => {
  client = await LspClient.start();
});
after(async () => {
  await client.stop();
});

const model = copyModel(torchvision('resnet18.onnx'));
const planFile = path.join(path.dirname(model), 'resnet18.prune.json');
const planUri = fileUri(planFile);
const badPlan = `{
  "model": "resnet18.onnx",
  "target": "host-cpu",
  "layers": {
    "/layer1/layer1.0/conv1/Conv": { "scheme": "pattern", "rate": 0.6 },
    "/layer1/layer1.0/conv9/Conv": { "scheme": "filter", "rate": 0.5 },
    "/layer2/layer2.0/downsample/downsample.0/Conv": { "scheme": "pattern", "rate": 0.6 },
    "/fc/Gemm": { "scheme": "block-punched", "block": [8, 4], "rate": 1.2 }
  }
}
`;

/** 0-based line and character of the first occurrence of `needle` (after `after`) in `text`. */
function positionOf(text: string, needle: string, after = ''): { line: number; character: number } {
  const offset = text.indexOf(needle, after ? text.indexOf(after) : 0);
  assert.ok(offset >= 0, needle);
  const before = text.slice(0, offset).split('\n');
  return { line: before.length - 1, character: before[before.length - 1].length };
}

describe('diagnostics', () => {
  test('each problem of an open plan file is placed where it is', async () => {
    fs.writeFileSync(planFile, badPlan);
    client.open(planUri, 'json', badPlan);
    const diagnostics = await client.diagnostics(planUri);
    const at = (d: any) => `${d.range.start.line}:${d.range.start.character}`;
    const expected = [
      [ERROR, positionOf(badPlan, '"/layer1/layer1.0/conv9/Conv"'), /no layer "\/layer1\/layer1\.0\/conv9\/Conv" in resnet18\.onnx; did you mean/],
      [ERROR, positionOf(badPlan, '"pattern"', 'downsample'), /pattern cannot prune layer .*downsample.*3×3 kernel/],
      [ERROR, positionOf(badPlan, '1.2'), /rate 1\.2 is outside \[0, 1\)/],
    ] as const;
    assert.equal(diagnostics.length, expected.length, JSON.stringify(diagnostics.map((d) => d.message)));
    for (const [severity, pos, message] of expected) {
      const d = diagnostics.find((x) => at(x) === `${pos.line}:${pos.character}`);
      assert.ok(d, `a diagnostic at ${pos.line}:${pos.character}: ${JSON.stringify(diagnostics.map((x) => [at(x), x.message]))}`);
      assert.equal(d.severity, severity);
      assert.match(d.message, message);
    }
  });

  test('the plan file has errors, so the text view shows the rule-based plan and warns', async () => {
    const view = await client.openTextView(model);
    const analysis = await client.request('prunemap/analyze', { uri: view.uri });
    assert.equal(analysis.plan.source, 'rules');
    assert.equal(analysis.plan.file, planUri);
    assert.equal(analysis.plan.problems.filter((p: any) => p.severity === 'error').length, 3);
    const warnings = (await client.diagnostics(view.uri)).filter((d) => d.severity === WARNING);
    assert.match(warnings[0].message, /resnet18\.prune\.json has 3 errors, so it is not used/);
    const fcLine = inspectJson(model).layers.find((l) => l.id === '/fc/Gemm')!.line - 1;
    assert.ok(warnings.some((w) => w.range.start.line === fcLine && /rate 1\.2/.test(w.message)), 'a problem about a layer sits on its line');
  });

  test('fixing the plan on disk makes it the plan, without reopening anything', async () => {
    const view = await client.openTextView(model);
    const mark = client.mark();
    const good = badPlan.replace(/\n {4}"\/layer1\/layer1\.0\/conv9\/Conv".*\n/, '\n').replace('"scheme": "pattern", "rate": 0.6 },\n    "/fc', '"scheme": "filter", "rate": 0.25 },\n    "/fc').replace('1.2', '0.5');
    fs.writeFileSync(planFile, good);
    await client.waitFor('request', (r) => r.method === 'workspace/inlayHint/refresh', mark.requests);
    const analysis = await client.request('prunemap/analyze', { uri: view.uri });
    assert.equal(analysis.plan.source, 'file');
    assert.deepEqual(analysis.plan.problems, []);
    const layers = analysis.plan.layers;
    assert.deepEqual([layers['/layer1/layer1.0/conv1/Conv'].scheme, layers['/layer1/layer1.0/conv1/Conv'].rate, layers['/layer1/layer1.0/conv1/Conv'].source], ['pattern', 0.6, 'file']);
    assert.deepEqual([layers['/fc/Gemm'].scheme, layers['/fc/Gemm'].block, layers['/fc/Gemm'].rate], ['block-punched', [8, 4], 0.5]);
    assert.equal(layers['/layer1/layer1.1/conv1/Conv'].scheme, 'dense', 'a layer the file does not list stays dense');
    const line = inspectJson(model).layers.find((l) => l.id === '/layer1/layer1.0/conv1/Conv')!.line - 1;
    const hint = (await client.inlayHints(view.uri)).find((h) => h.position.line === line);
    assert.match(hint.label, /^pattern · 60\.0% · /);
    // The open plan document is checked from its own text: once the editor has the good text too, no problems.
    const edited = client.mark();
    client.change(planUri, good);
    assert.deepEqual(await client.diagnostics(planUri, edited.notifications), []);
  });

  test('a plan without its model beside it says so', async () => {
    const lonely = path.join(path.dirname(planFile), '..', 'lonely.prune.json');
    const uri = fileUri(path.resolve(lonely));
    client.open(uri, 'json', '{"model": "gone.onnx", "target": "host-cpu", "layers": {}}');
    const [d] = await client.diagnostics(uri);
    assert.equal(d.severity, WARNING);
    assert.match(d.message, /cannot check the plan against its model: no model file .*gone\.onnx or .*lonely\.onnx/);
  });
});

describe('completion and hover', () => {
  const uri = fileUri(path.join(path.dirname(model), 'edit.prune.json'));
  const text = (cursorText: string) => `{\n  "model": "resnet18.onnx",\n  "target": "host-cpu",\n  "layers": {\n    ${cursorText}\n  }\n}\n`;

  test('layer ids inside "layers", replacing the string being typed', async () => {
    const doc = text('"/layer1/la');
    client.open(uri, 'json', doc);
    const position = { line: 4, character: '    "/layer1/la'.length };
    const items = await client.request('textDocument/completion', { textDocument: { uri }, position });
    const list = Array.isArray(items) ? items : items.items;
    assert.deepEqual(list.map((i: any) => i.label), inspectJson(model).layers.map((l) => l.id));
    const item = list.find((i: any) => i.label === '/layer1/layer1.0/conv1/Conv');
    assert.deepEqual(item.textEdit.range, { start: { line: 4, character: 5 }, end: position });
    assert.equal(item.textEdit.newText, '/layer1/layer1.0/conv1/Conv');
    client.close(uri);
  });

  test('scheme names as the value of "scheme", those the layer cannot take marked', async () => {
    const doc = text('"/fc/Gemm": { "scheme": "bl" }');
    client.open(uri, 'json', doc);
    const character = '    "/fc/Gemm": { "scheme": "bl'.length;
    const items = await client.request('textDocument/completion', { textDocument: { uri }, position: { line: 4, character } });
    const list = Array.isArray(items) ? items : items.items;
    assert.deepEqual(list.map((i: any) => i.label).sort(), ['block-bcr', 'block-punched', 'channel', 'dense', 'filter', 'nm', 'pattern', 'unstructured']);
    assert.match(list.find((i: any) => i.label === 'pattern').detail, /^not for this layer: pattern pruning applies to Conv layers only/);
    assert.doesNotMatch(list.find((i: any) => i.label === 'block-punched').detail, /not for this layer/);
    assert.deepEqual(list.find((i: any) => i.label === 'nm').textEdit.range, { start: { line: 4, character: character - 2 }, end: { line: 4, character } });
    client.close(uri);
  });

  test('hover on a layer entry: its shapes and its latency dense → pruned (CLI figures)', async () => {
    const doc = text('"/layer3/layer3.0/conv1/Conv": { "scheme": "filter", "rate": 0.5 }');
    client.open(uri, 'json', doc);
    const hover = await client.request('textDocument/hover', { textDocument: { uri }, position: { line: 4, character: 10 } });
    const value: string = hover.contents.value;
    assert.match(value, /\/layer3\/layer3\.0\/conv1\/Conv/);
    assert.ok(value.includes('weight `[256,128,3,3]`'), value);
    assert.ok(value.includes('`[batch,128,28,28]` → `[batch,256,14,14]`'), value);
    const dense = mapJson(model).layers['/layer3/layer3.0/conv1/Conv'].latency.denseMs;
    const m = /dense ([\d.]+) ms → pruned ([\d.]+) ms .* as filter/.exec(value);
    assert.ok(m, value);
    assert.equal(Number(m[1]), threeDigits(dense));
    assert.ok(Number(m[2]) < Number(m[1]));
    client.close(uri);
  });
});
