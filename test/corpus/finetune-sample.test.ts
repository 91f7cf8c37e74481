// The training hand-off, end to end (issue 7, docs/training.md): a plan for the sample at ≥ 8×
// compression of the prunable weights collapses one-shot (docs/accuracy.md); the exported
// PyTorch script, run with .venv-ref's torch on the CPU (one thread, about 5 CPU-minutes), fine-tunes
// it back to within 0.5 points of dense top-1. Checked independently of the script's own prints:
// onnxruntime measures top-1 of the written model on the full 10,000-image fashion-mnist test set,
// and the zeros of every pruned layer, read back by the engine, pass the independent mask-structure
// checker with the plan's scheme and rate. The model's graph is the original's: only initializer
// values changed.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findLayers } from '../../src/core/layers';
import { loadModel } from '../../src/core/onnx/load';
import { weightTensorsOf } from '../../src/core/prune/masks';
import { geometryOf } from '../../src/core/schemes/weight-matrix';
import { checkStructure } from '../unit/schemes/structure-checker';

const ROOT = path.resolve(__dirname, '..', '..');
const PYTHON = path.join(ROOT, '.venv-ref', 'bin', 'python');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const MODEL = path.join(ROOT, 'samples', 'fashion-cnn.onnx');
const DATA = '/usr/share/datasets/fashion-mnist';
const DENSE_TOP1 = 0.9154; // samples/README.md, onnxruntime on the full test set
/**
 * The schedule (docs/training.md): 3 epochs, gradual pruning over the first half of the steps
 * (cubic ramp, 16 mask updates), distillation from the dense model, one-cycle AdamW at peak 3e-3,
 * one thread, seed 0. Measured: 89.88%, 90.99%, 91.14% after epochs 1–3, about 4.6 CPU-minutes
 * (user + sys) on a busy 2-core machine. Deterministic for a fixed seed and thread count, hence
 * both fixed here: the margin is 0.10 points, and seed 1 ends at 91.00% (docs/training.md).
 */
const SCHEDULE = ['--epochs', '3', '--lr', '3e-3', '--distill', '0.7', '--gradual', '0.5', '--prune-updates', '16', '--threads', '1', '--seed', '0'];
/**
 * The plan: the compression where the weights are — conv3 (147k of the 209k prunable weights) at
 * 0.94, conv2 (37k) at 0.85, pw3 and fc1 at 0.6, conv1 and pw2 at 0.5; stem, depthwise convs and
 * fc2 (together 1.6k) dense — unstructured: 8.07× of all prunable weights.
 */
const PLAN_LAYERS = {
  '/features/conv1/conv1.0/Conv': { scheme: 'unstructured', rate: 0.5 },
  '/features/pw2/pw2.0/Conv': { scheme: 'unstructured', rate: 0.5 },
  '/features/conv2/conv2.0/Conv': { scheme: 'unstructured', rate: 0.85 },
  '/features/pw3/pw3.0/Conv': { scheme: 'unstructured', rate: 0.6 },
  '/features/conv3/conv3.0/Conv': { scheme: 'unstructured', rate: 0.94 },
  '/classifier/fc1/Gemm': { scheme: 'unstructured', rate: 0.6 },
};

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunemap-finetune-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

const ready = fs.existsSync(PYTHON) && fs.existsSync(path.join(DATA, 't10k-images-idx3-ubyte.gz'));

test('the exported PyTorch script fine-tunes the sample at ≥ 8× back to within 0.5 points of dense top-1, keeping the plan\'s structure', { skip: ready ? false : 'needs .venv-ref and Debian\'s fashion-mnist (scripts/setup-reference.sh)' }, () => {
  const plan = path.join(tmp, 'plan.json');
  const planJson = { model: MODEL, target: 'host-cpu', layers: PLAN_LAYERS } as { layers: Record<string, { scheme: string; rate: number }> };
  fs.writeFileSync(plan, JSON.stringify(planJson));
  const recipe = path.join(tmp, 'recipe');
  execFileSync(process.execPath, [CLI, 'export-training', MODEL, '--plan', plan, '-o', recipe]);
  const out = path.join(tmp, 'finetuned.onnx');
  const log = execFileSync(PYTHON, [path.join(recipe, 'finetune.py'), '--model', MODEL, '--data', DATA, '--out', out, ...SCHEDULE], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  process.stdout.write(log.split('\n').map((l) => `# ${l}`).join('\n') + '\n');

  // Top-1 on the full test set, by onnxruntime, from the idx files (not the script's own figure).
  const measured = JSON.parse(execFileSync(PYTHON, ['-c', `
import sys, gzip, json, struct, numpy as np, onnx, onnxruntime as ort
def idx(p):
    raw = gzip.open(p).read(); n = raw[3]
    shape = struct.unpack(">" + "I" * n, raw[4:4 + 4 * n])
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * n).reshape(shape)
x = idx(sys.argv[3] + "/t10k-images-idx3-ubyte.gz").astype(np.float32)[:, None] / 255
y = idx(sys.argv[3] + "/t10k-labels-idx1-ubyte.gz")
def top1(path):
    s = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    logits = np.concatenate([s.run(None, {"image": x[i:i + 1000]})[0] for i in range(0, len(x), 1000)])
    return float((logits.argmax(1) == y).mean())
a, b = onnx.load(sys.argv[1]), onnx.load(sys.argv[2])
same_graph = a.graph.node == b.graph.node and [(t.name, t.data_type, list(t.dims)) for t in a.graph.initializer] == [(t.name, t.data_type, list(t.dims)) for t in b.graph.initializer]
print(json.dumps({"dense": top1(sys.argv[1]), "finetuned": top1(sys.argv[2]), "sameGraph": same_graph, "count": int(len(y))}))
`, MODEL, out, DATA], { encoding: 'utf8' }));
  process.stdout.write(`# onnxruntime full test set: dense ${measured.dense}, fine-tuned ${measured.finetuned}\n`);
  assert.equal(measured.count, 10000);
  assert.equal(measured.dense, DENSE_TOP1);
  assert.ok(measured.sameGraph, 'the fine-tuned model keeps the original nodes and initializer names, types and shapes');
  assert.ok(measured.finetuned >= DENSE_TOP1 - 0.005, `fine-tuned top-1 ${measured.finetuned} is more than 0.5 points below dense ${DENSE_TOP1}`);

  // Structure and rate: every planned layer's zeros, read back from the written model.
  const loaded = loadModel(out);
  try {
    const layers = findLayers(loaded.model, loaded.tensors);
    let weights = 0, zeros = 0;
    for (const layer of layers) {
      const values = weightTensorsOf(layer).map((t) => loaded.tensors.float32(t));
      const masks = values.map((v) => Uint8Array.from(v, (x) => (x === 0 ? 0 : 1)));
      weights += values.reduce((n, v) => n + v.length, 0);
      zeros += masks.reduce((n, m) => n + m.length - m.reduce((a, b) => a + b, 0), 0);
      const spec = planJson.layers[layer.id];
      if (!spec || spec.scheme === 'dense') continue;
      const problems = checkStructure(geometryOf(layer), spec as never, masks);
      assert.deepEqual(problems, [], `${layer.id} (${spec.scheme}): ${problems.slice(0, 3).join('; ')}`);
    }
    const compression = weights / (weights - zeros);
    process.stdout.write(`# compression of the prunable weights: ${compression.toFixed(3)}×\n`);
    assert.ok(compression >= 8, `compression ${compression}`);
  } finally {
    loaded.close();
  }
});
