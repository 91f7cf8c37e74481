// docs/editors.md, exercised: its script (the `prunemap-lsp-demo.js` block, taken from the doc as
// written) runs against the built server on a real model and prints one line per prunable layer —
// the layer's line as `prunemap inspect --json` gives it, its hint, and the latency of
// `prunemap map --json`. If the doc's flow stops working, this test fails.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT, SERVER } from './support/client';
import { inspectJson, mapJson, tempDir, threeDigits, torchvision } from './support/references';

test('the script in docs/editors.md prints every layer with its hint and latency', () => {
  const doc = fs.readFileSync(path.join(ROOT, 'docs', 'editors.md'), 'utf8');
  const block = /```js\n(\/\/ prunemap-lsp-demo\.js[\s\S]*?)```/.exec(doc);
  assert.ok(block, 'docs/editors.md has the prunemap-lsp-demo.js block');
  const script = path.join(tempDir(), 'prunemap-lsp-demo.js');
  fs.writeFileSync(script, block[1]);

  const model = torchvision('resnet18.onnx');
  const r = spawnSync(process.execPath, [script, model], {
    encoding: 'utf8',
    env: { ...process.env, PRUNEMAP_SERVER: SERVER, NODE_PATH: path.join(ROOT, 'node_modules') },
  });
  assert.equal(r.status, 0, r.stderr);
  const rows = r.stdout.trim().split('\n').map((line) => line.split('\t'));
  const layers = inspectJson(model).layers;
  const plan = mapJson(model, 'snapdragon855-cpu');
  assert.deepEqual(rows.map((row) => Number(row[0])).sort((a, b) => a - b), layers.map((l) => l.line).sort((a, b) => a - b));
  for (const [line, label, latency] of rows) {
    const id = layers.find((l) => l.line === Number(line))!.id;
    const entry = plan.layers[id];
    assert.ok(label.startsWith(entry.scheme), `${id}: ${label}`);
    assert.equal(latency, `${threeDigits(entry.latency.denseMs)} → ${threeDigits(entry.latency.prunedMs)} ms`, id);
  }
});
