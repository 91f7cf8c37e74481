// Bad input over LSP: missing, hostile and non-ONNX files, bad URIs and params, unknown layers and
// documents the server never handed out. Each request fails with one clear line (no stack trace)
// and the right error code; the server process stays alive and the next request on a good model
// works; nothing but JSON-RPC reaches stdout and nothing reaches stderr.

import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { graph, modelBytes, node, valueInfo } from '../support/build-model';
import * as H from '../support/hostile';
import { fileUri, LspClient } from './support/client';
import { tempDir, torchvision } from './support/references';

const INVALID_PARAMS = -32602;
const REQUEST_FAILED = -32803;

let client: LspClient;
const dir = tempDir();
const good = torchvision('squeezenet1_1.onnx');
const write = (name: string, bytes: Uint8Array | string) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
};

before(async () => {
  client = await LspClient.start();
});
after(async () => {
  await client.stop();
  assert.equal(client.stderr, '', 'nothing on stderr');
});

/** The server is alive and serves a good model. */
async function stillServing(): Promise<void> {
  assert.ok(client.alive, 'the server process is alive');
  const result = await client.request('prunemap/analyze', { uri: fileUri(good) });
  assert.equal(result.summary.layers.length, 26);
}

function oneLine(message: string): void {
  assert.ok(!message.includes('\n'), `one line: ${message}`);
  assert.ok(!/\n\s+at |\bat \S+\.(js|ts):\d+/.test(message), `no stack trace: ${message}`);
}

describe('bad model files: prunemap/textView fails with one line and the server keeps serving', () => {
  const resnet = fs.readFileSync(torchvision('resnet18.onnx'));
  const fifo = path.join(dir, 'pipe.onnx');
  spawnSync('mkfifo', [fifo]);
  const cases: [string, () => string, RegExp][] = [
    ['a missing file', () => path.join(dir, 'missing.onnx'), /missing\.onnx: no such file/],
    ['a folder', () => fs.mkdirSync(path.join(dir, 'folder.onnx'), { recursive: true }) ?? path.join(dir, 'folder.onnx'), /folder\.onnx: .*folder/],
    ['an empty file', () => write('empty.onnx', ''), /empty\.onnx: empty file/],
    ['random bytes', () => write('random.onnx', H.randomBytes(7, 4096)), /random\.onnx: .*(malformed|truncated|wire type|protobuf)/i],
    ['a text file', () => write('notes.onnx', 'these are not the weights you are looking for\n'), /notes\.onnx: /],
    ['a truncated model', () => write('truncated.onnx', resnet.subarray(0, Math.floor(resnet.length * 0.6))), /truncated\.onnx: .*(truncated|runs past the end)/],
    ['a huge declared length', () => write('huge-length.onnx', H.graphWithLength(2n ** 40n)), /huge-length\.onnx: .*runs past the end/],
    ['10,000-deep nesting', () => write('deep.onnx', H.deepIfModel(10_000)), /deep\.onnx: /],
    ['a pipe', () => fifo, /pipe\.onnx: not a regular file/],
  ];
  for (const [what, make, message] of cases) {
    test(what, async () => {
      const file = make();
      const err = await client.requestError('prunemap/textView', { uri: fileUri(file) });
      assert.equal(err.code, REQUEST_FAILED, err.message);
      assert.match(err.message, message);
      oneLine(err.message);
      // Every request naming the model gets the same line.
      assert.equal((await client.requestError('prunemap/analyze', { uri: fileUri(file) })).message, err.message);
      await stillServing();
    });
  }
});

describe('bad requests', () => {
  test('URIs that are not file: URIs, and missing params', async () => {
    for (const params of [{ uri: 'http://example.com/m.onnx' }, { uri: 'untitled:Untitled-1' }, { uri: 42 }, {}, null]) {
      const err = await client.requestError('prunemap/textView', params);
      assert.equal(err.code, INVALID_PARAMS, JSON.stringify(params));
      assert.match(err.message, /^expected the file: URI of an? \.onnx model/);
      oneLine(err.message);
    }
    const unknownView = await client.requestError('prunemap/analyze', { uri: 'prunemap-text:/nowhere/m.onnx-text' });
    assert.equal(unknownView.code, INVALID_PARAMS, 'a text view URI the server never handed out is not guessed back');
    await stillServing();
  });

  test('unknown layers in setLayer and layerDetails name the closest id', async () => {
    for (const method of ['prunemap/setLayer', 'prunemap/layerDetails']) {
      const err = await client.requestError(method, { uri: fileUri(good), layer: '/features/features.3/squeeze/Conf', scheme: 'filter', rate: 0.5 });
      assert.equal(err.code, INVALID_PARAMS);
      assert.equal(err.message, 'no layer "/features/features.3/squeeze/Conf" in squeezenet1_1.onnx; did you mean "/features/features.3/squeeze/Conv"?');
    }
    await stillServing();
  });

  test('standard requests on documents the server does not know answer empty, not with an error', async () => {
    const uri = 'prunemap-text:/nowhere/m.onnx-text';
    client.open(uri, 'onnx-text', 'graph () => () {}\n');
    assert.deepEqual(await client.inlayHints(uri), []);
    assert.equal(await client.hover(uri, 0), null);
    assert.deepEqual(await client.request('textDocument/documentSymbol', { textDocument: { uri } }), []);
    assert.deepEqual(await client.request('textDocument/codeLens', { textDocument: { uri: 'file:///never/opened.onnx-text' } }), []);
    await stillServing();
  });

  test('a model without prunable layers: a text view without hints, and a warning saying why', async () => {
    const file = write('relu.onnx', modelBytes(graph({ name: 'g', node: [node('Relu', ['x'], ['y'], [], 'relu')], input: [valueInfo('x', 1, [1, 4])], output: [valueInfo('y', 1, [1, 4])] })));
    const view = await client.openTextView(file);
    assert.deepEqual(await client.inlayHints(view.uri), []);
    const diagnostics = await client.diagnostics(view.uri);
    assert.equal(diagnostics.length, 1);
    assert.equal(diagnostics[0].severity, 2);
    assert.match(diagnostics[0].message, /no prunable layers/);
    const analysis = await client.request('prunemap/analyze', { uri: view.uri });
    assert.match(analysis.plan.error, /no prunable layers/);
    const prune = await client.requestError('prunemap/prune', { uri: view.uri });
    assert.equal(prune.code, REQUEST_FAILED);
    assert.match(prune.message, /no prunable layers/);
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.startsWith('relu')), ['relu.onnx'], 'nothing written');
    await stillServing();
  });

  test('a model that breaks after its view was opened: the view says so, the server goes on', async () => {
    const file = path.join(dir, 'replaced.onnx');
    fs.copyFileSync(torchvision('mlp.onnx'), file);
    const view = await client.openTextView(file);
    assert.equal((await client.inlayHints(view.uri)).length, 3);
    const mark = client.mark();
    fs.writeFileSync(file, 'garbage');
    const err = await client.requestError('prunemap/analyze', { uri: view.uri });
    assert.match(err.message, /replaced\.onnx: /);
    const diagnostics = await client.diagnostics(view.uri, mark.notifications);
    assert.equal(diagnostics[0].severity, 1);
    assert.match(diagnostics[0].message, /replaced\.onnx: /);
    await stillServing();
  });
});
