// The model cache: analyses keyed by path and checked against size, mtime and inode, so a model
// that changes on disk is analysed again; bounded by count and by size, least recently used first.
// In-process on real model files (the cache is plain code), then end to end: a model replaced on
// disk under an open text view makes the server say the view is out of date, and a fresh text
// view gets the new model's annotations.

import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyseModel, type ModelAnalysis } from '../../src/server/analysis';
import { ModelCache } from '../../src/server/model-cache';
import { LspClient } from './support/client';
import { copyModel, inspectJson, tempDir, torchvision } from './support/references';

describe('ModelCache', () => {
  const dir = tempDir();
  const copy = (name: string, as = name) => {
    const file = path.join(dir, as);
    fs.copyFileSync(torchvision(name), file);
    return file;
  };
  const [a, b, c] = [copy('mlp.onnx'), copy('rnn.onnx'), copy('lstm.onnx')];

  function counted(limits = { maxModels: 2, maxBytes: 1 << 30 }) {
    const analysed: string[] = [];
    const dropped: [string, string][] = [];
    const cache = new ModelCache(limits, (file) => {
      analysed.push(path.basename(file));
      return analyseModel(file);
    }, (x, why) => dropped.push([path.basename(x.path), why]));
    return { cache, analysed, dropped };
  }

  test('the least recently used model is dropped beyond maxModels', () => {
    const { cache, analysed, dropped } = counted();
    const first = cache.get(a);
    cache.get(b);
    assert.equal(cache.get(a), first, 'a hit returns the same analysis');
    cache.get(c); // b is now the least recently used
    assert.deepEqual(analysed, ['mlp.onnx', 'rnn.onnx', 'lstm.onnx']);
    assert.deepEqual(dropped, [['rnn.onnx', 'evicted']]);
    assert.deepEqual(cache.paths(), [a, c]);
    cache.get(b);
    assert.deepEqual(analysed.slice(3), ['rnn.onnx'], 'a dropped model is analysed again');
    assert.equal(cache.size, 2);
    cache.dispose();
  });

  test('maxBytes bounds the total; the most recent model always stays', () => {
    const { cache, dropped } = counted({ maxModels: 10, maxBytes: 1 });
    cache.get(a);
    cache.get(b);
    assert.deepEqual(cache.paths(), [b]);
    assert.deepEqual(dropped, [['mlp.onnx', 'evicted']]);
    cache.dispose();
  });

  test('a file changed on disk (content, or only its mtime) is analysed again', () => {
    const { cache, analysed, dropped } = counted();
    const file = copy('mlp.onnx', 'changing.onnx');
    const before: ModelAnalysis = cache.get(file);
    fs.copyFileSync(torchvision('rnn.onnx'), file);
    const after = cache.get(file);
    assert.notEqual(after, before);
    assert.deepEqual(after.summary.layers.map((l) => l.id), inspectJson(torchvision('rnn.onnx')).layers.map((l) => l.id));
    const t = new Date(Date.now() + 5000);
    fs.utimesSync(file, t, t);
    assert.equal(cache.isStale(file), true);
    assert.notEqual(cache.get(file), after);
    assert.deepEqual(analysed, ['changing.onnx', 'changing.onnx', 'changing.onnx']);
    assert.deepEqual(dropped.map(([, why]) => why), ['changed', 'changed']);
    cache.dispose();
  });

  test('a model that disappears is an error, not a stale answer', () => {
    const { cache } = counted();
    const file = copy('mlp.onnx', 'vanishing.onnx');
    cache.get(file);
    fs.unlinkSync(file);
    assert.throws(() => cache.get(file), /vanishing\.onnx: no such file/);
    assert.equal(cache.peek(file), undefined);
    cache.dispose();
  });
});

describe('a model replaced on disk under an open text view', () => {
  let client: LspClient;
  before(async () => {
    client = await LspClient.start();
  });
  after(async () => {
    await client.stop();
  });

  test('the server says the view is out of date; a fresh view has the new model\'s annotations', async () => {
    const model = copyModel(torchvision('mlp.onnx'), 'model.onnx');
    const view = await client.openTextView(model);
    assert.equal((await client.inlayHints(view.uri)).length, 3);
    const mark = client.mark();
    // Replace it the way exporters do: write a new file and rename it over the old one.
    const next = path.join(path.dirname(model), 'next.tmp');
    fs.copyFileSync(torchvision('squeezenet1_1.onnx'), next);
    fs.renameSync(next, model);

    const changed = await client.waitFor('notification', (n) => n.method === 'prunemap/textViewChanged', mark.notifications);
    assert.equal(changed.params.uri, view.uri);
    assert.deepEqual(await client.inlayHints(view.uri), [], 'no annotations on lines of the old text');
    const [stale] = await client.diagnostics(view.uri, mark.notifications);
    assert.match(stale.message, /model\.onnx changed on disk since this text view was made/);

    // As a content provider does: ask again with the text view's own URI.
    const fresh = await client.request('prunemap/textView', { uri: view.uri });
    assert.equal(fresh.uri, view.uri);
    client.change(view.uri, fresh.text);
    const lines = (await client.inlayHints(view.uri)).map((h) => h.position.line).sort((x, y) => x - y);
    assert.deepEqual(lines, inspectJson(model).layers.map((l) => l.line - 1).sort((x, y) => x - y));
    assert.equal(lines.length, 26);
  });
});
