// Settings (section `prunemap`, docs/protocol.md) over LSP: from initializationOptions and from
// workspace/didChangeConfiguration (pushed, or pulled with workspace/configuration); the plan and
// latency follow `target` and `compression` exactly as `prunemap map --target --compression` does;
// `blockCandidates` limits the blocks; `outputFolder` is where prunes go; a bad value is one warning
// in the log and its default is used; logs reach the client as window/logMessage only.

import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileUri, LspClient } from './support/client';
import { cli, copyModel, torchvision } from './support/references';

const WARNING = 2;
const model = torchvision('resnet18.onnx');

async function withClient(options: Parameters<typeof LspClient.start>[0], body: (c: LspClient) => Promise<void>): Promise<void> {
  const client = await LspClient.start(options);
  try {
    await body(client);
  } finally {
    await client.stop();
  }
  assert.equal(client.stderr, '');
}

describe('settings', () => {
  test('initializationOptions: target and compression give the plan of `map --target --compression`', () =>
    withClient({ initializationOptions: { prunemap: { target: 'host-cpu', compression: 2 } } }, async (client) => {
      const analysis = await client.request('prunemap/analyze', { uri: fileUri(model) });
      assert.deepEqual([analysis.plan.target, analysis.plan.compression], ['host-cpu', 2]);
      const expected = JSON.parse(cli('map', model, '--target', 'host-cpu', '--compression', '2', '--json'));
      for (const [id, e] of Object.entries<any>(expected.layers)) {
        const got = analysis.plan.layers[id];
        assert.deepEqual([got.scheme, got.rate, got.block, got.latency], [e.scheme, e.rate, e.block, e.latency], id);
      }
    }));

  test('bad values: one warning each in the log, defaults used', () =>
    withClient({ initializationOptions: { target: 'pixel-9', compression: 0.5, blockCandidates: [[8]], logLevel: 'loud' } }, async (client) => {
      const analysis = await client.request('prunemap/analyze', { uri: fileUri(model) });
      assert.deepEqual([analysis.plan.target, analysis.plan.compression], ['snapdragon855-cpu', 4]);
      const warnings = client.notifications.filter((n) => n.method === 'window/logMessage' && n.params.type === WARNING).map((n) => n.params.message);
      assert.equal(warnings.length, 4, warnings.join('\n'));
      assert.match(warnings[0], /prunemap\.target is "pixel-9", not a known target \(host-cpu, .*\); using "snapdragon855-cpu"/);
      assert.match(warnings[1], /prunemap\.compression must be a number > 1/);
      assert.match(warnings[2], /prunemap\.blockCandidates must be a non-empty list/);
      assert.match(warnings[3], /prunemap\.logLevel must be one of error, warn, info, debug/);
    }));

  test('didChangeConfiguration, pushed and pulled, switches the target and refreshes', () =>
    withClient({ configuration: { target: 'snapdragon865-cpu' } }, async (client) => {
      const view = await client.openTextView(model);
      let mark = client.mark();
      client.notify('workspace/didChangeConfiguration', { settings: { prunemap: { target: 'adreno640-gpu' } } });
      await client.waitFor('request', (r) => r.method === 'workspace/inlayHint/refresh', mark.requests);
      assert.equal((await client.request('prunemap/analyze', { uri: view.uri })).plan.target, 'adreno640-gpu');
      const hover = await client.hover(view.uri, (await client.inlayHints(view.uri))[0].position.line);
      assert.match(hover.contents.value, /Latency on adreno640-gpu/);

      mark = client.mark();
      client.notify('workspace/didChangeConfiguration', { settings: null });
      await client.waitFor('request', (r) => r.method === 'workspace/configuration', mark.requests);
      await client.waitFor('request', (r) => r.method === 'workspace/inlayHint/refresh', mark.requests);
      assert.equal((await client.request('prunemap/analyze', { uri: view.uri })).plan.target, 'snapdragon865-cpu');
    }));

  test('blockCandidates limits the blocks the plan and the alternatives use', () =>
    withClient({ initializationOptions: { target: 'host-cpu', blockCandidates: [[16, 8]] } }, async (client) => {
      const analysis = await client.request('prunemap/analyze', { uri: fileUri(model) });
      const blocks = Object.values<any>(analysis.plan.layers).filter((e) => e.block).map((e) => e.block.join('×'));
      assert.ok(blocks.length > 0);
      assert.deepEqual([...new Set(blocks)], ['16×8']);
      const details = await client.request('prunemap/layerDetails', { uri: fileUri(model), layer: '/layer4/layer4.1/conv2/Conv' });
      assert.deepEqual([...new Set(details.alternatives.filter((a: any) => a.block).map((a: any) => a.block.join('×')))], ['16×8']);
    }));

  test('outputFolder (relative to the model) is where prunes go; debug logs reach the client only', () =>
    withClient({ initializationOptions: { outputFolder: 'pruned', logLevel: 'debug' } }, async (client) => {
      const copy = copyModel(torchvision('squeezenet1_1.onnx'));
      fs.mkdirSync(path.join(path.dirname(copy), 'pruned'));
      const report = await client.request('prunemap/prune', { uri: fileUri(copy) });
      assert.equal(report.output, path.join(path.dirname(copy), 'pruned', 'squeezenet1_1.pruned.onnx'));
      assert.ok(fs.existsSync(report.output));
      await client.requestError('prunemap/analyze', { uri: fileUri(path.join(path.dirname(copy), 'missing.onnx')) });
      const debug = client.notifications.filter((n) => n.method === 'window/logMessage' && n.params.type === 4);
      assert.ok(debug.some((n) => /missing\.onnx: no such file/.test(n.params.message)), 'errors are logged at debug level');
    }));
});
