// The bundled sample is what `npm start` runs and what the accuracy benchmark measures: it must be
// really trained (top-1 on the committed test slice, in onnxruntime-node, against the slice's own
// labels), take float32[N,1,28,28] in [0,1] and give logits [N,10], and go through map → prune
// into a model that still runs.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';

const root = path.resolve(__dirname, '..', '..');
const model = path.join(root, 'samples', 'fashion-cnn.onnx');
const cli = path.join(root, 'dist', 'cli.js');

/** samples/fashion-mnist-slice.bin: "FMS1", uint32 LE count, rows, cols, then pixels, then labels. */
function readSlice() {
  const b = fs.readFileSync(path.join(root, 'samples', 'fashion-mnist-slice.bin'));
  assert.equal(b.subarray(0, 4).toString('latin1'), 'FMS1');
  const [count, rows, cols] = [b.readUInt32LE(4), b.readUInt32LE(8), b.readUInt32LE(12)];
  const pixels = b.subarray(16, 16 + count * rows * cols);
  const labels = b.subarray(16 + count * rows * cols, 16 + count * rows * cols + count);
  return { count, images: Float32Array.from(pixels, (p) => p / 255), labels };
}

async function top1(file: string, slice: ReturnType<typeof readSlice>): Promise<number> {
  const session = await ort.InferenceSession.create(file);
  const out = await session.run({ image: new ort.Tensor('float32', slice.images, [slice.count, 1, 28, 28]) });
  const logits = out.logits;
  assert.deepEqual(logits.dims, [slice.count, 10]);
  const data = logits.data as Float32Array;
  let correct = 0;
  for (let i = 0; i < slice.count; i++) {
    let best = 0;
    for (let c = 1; c < 10; c++) if (data[i * 10 + c] > data[i * 10 + best]) best = c;
    if (best === slice.labels[i]) correct++;
  }
  await session.release();
  return correct / slice.count;
}

test('the sample is trained: top-1 on the committed 512-image test slice is at least 88%', async () => {
  const slice = readSlice();
  assert.equal(slice.count, 512);
  // Full test set: >= 90% (samples/README.md); a 512-image slice varies by a few points around it.
  assert.ok((await top1(model, slice)) >= 0.88);
});

test('the sample has 3×3, 1×1, depthwise and FC layers, and survives map → prune', async () => {
  const summary = JSON.parse(execFileSync(process.execPath, [cli, 'inspect', model, '--json'], { encoding: 'utf8' }));
  const convs = summary.layers.filter((l: { op: string }) => l.op === 'Conv');
  assert.ok(convs.some((l: { kernel: number[]; group: number }) => l.kernel.join() === '3,3' && l.group === 1));
  assert.ok(convs.some((l: { kernel: number[] }) => l.kernel.join() === '1,1'));
  assert.ok(convs.some((l: { group: number; weightShape: number[] }) => l.group > 1 && l.group === l.weightShape[0]));
  assert.ok(summary.layers.filter((l: { op: string }) => l.op === 'Gemm' || l.op === 'MatMul').length >= 2);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prunemap-sample-'));
  execFileSync(process.execPath, [cli, 'map', model, '-o', path.join(dir, 'plan.json')]);
  execFileSync(process.execPath, [cli, 'prune', model, '--plan', path.join(dir, 'plan.json'), '-o', path.join(dir, 'pruned.onnx')]);
  const acc = await top1(path.join(dir, 'pruned.onnx'), readSlice());
  assert.ok(acc > 0.1, `the pruned sample runs and is better than chance (${acc})`);
  fs.rmSync(dir, { recursive: true });
});
