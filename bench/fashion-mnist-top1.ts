// Top-1 of a fashion-mnist model on the FULL test set (10,000 images, Debian's dataset-fashion-mnist),
// run in onnxruntime-node: shared by bench/accuracy.ts and bench/search.ts.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as ort from 'onnxruntime-node';

const DATA_DIR = '/usr/share/datasets/fashion-mnist';

export interface TestSet { readonly images: Float32Array; readonly labels: Uint8Array; readonly count: number }

/** The test images as pixel / 255 ([count, 1, 28, 28]) and their labels. */
export function testSet(): TestSet {
  const img = gunzipSync(fs.readFileSync(path.join(DATA_DIR, 't10k-images-idx3-ubyte.gz')));
  const lab = gunzipSync(fs.readFileSync(path.join(DATA_DIR, 't10k-labels-idx1-ubyte.gz')));
  const count = img.readUInt32BE(4);
  const images = new Float32Array(count * 784);
  for (let i = 0; i < images.length; i++) images[i] = img[16 + i] / 255;
  return { images, labels: lab.subarray(8, 8 + count), count };
}

/** Fraction of the test set whose arg-max logit is the label; `model` is a file or its bytes. */
export async function top1(model: string | Uint8Array, data: TestSet): Promise<number> {
  const options = { intraOpNumThreads: 2 };
  const session = typeof model === 'string' ? await ort.InferenceSession.create(model, options) : await ort.InferenceSession.create(model, options);
  const batch = 500;
  let correct = 0;
  for (let start = 0; start < data.count; start += batch) {
    const n = Math.min(batch, data.count - start);
    const input = new ort.Tensor('float32', data.images.subarray(start * 784, (start + n) * 784), [n, 1, 28, 28]);
    const out = await session.run({ [session.inputNames[0]]: input });
    const logits = out[session.outputNames[0]].data as Float32Array;
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let c = 1; c < 10; c++) if (logits[i * 10 + c] > logits[i * 10 + best]) best = c;
      if (best === data.labels[start + i]) correct++;
    }
  }
  await session.release();
  return correct / data.count;
}
