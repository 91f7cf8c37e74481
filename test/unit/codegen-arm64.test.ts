// The arm64 target: the codegen job cross-compiles with aarch64-linux-gnu-gcc and verifies under
// qemu-aarch64. Checked independently of the job's own verify: `file` says the binary is a static
// ARM aarch64 executable, and run directly under qemu on the test's own input it matches
// onnxruntime-node on the pruned model; the generated Makefile cross-builds the same binary.
// On a hand-built Conv model (also with OpenMP threads) and on samples/fashion-cnn.onnx.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findLayers } from '../../src/core/layers';
import { loadModel } from '../../src/core/onnx/load';
import type { Plan } from '../../src/core/plan';
import { runCodegenJob } from '../../src/core/codegen/job';
import { assertClose, fileType, ortOnPrunedModel, runUnderQemu, testInput } from '../support/arm64-reference';
import { attr, floatTensor, graph, modelBytes, node, valueInfo } from '../support/build-model';

const ROOT = path.resolve(__dirname, '../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunemap-codegen-arm64-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
let counter = 0;
const fresh = (name: string) => path.join(tmp, `${name}${++counter}`);

/** Conv 8→16 3×3 stride 2 pad 1 on 1×8×11×9, Relu, Conv 16→8 1×1. */
function tinyModel(): string {
  const file = fresh('tiny') + '.onnx';
  const values = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.cos(i * 0.73 + seed) * 0.4);
  fs.writeFileSync(file, modelBytes(graph({
    node: [
      node('Conv', ['x', 'w1', 'b1'], ['c1'], [attr.ints('kernel_shape', [3, 3]), attr.ints('strides', [2, 2]), attr.ints('pads', [1, 1, 1, 1])], 'a'),
      node('Relu', ['c1'], ['r1']),
      node('Conv', ['r1', 'w2'], ['y'], [attr.ints('kernel_shape', [1, 1])], 'b'),
    ],
    initializer: [floatTensor('w1', [16, 8, 3, 3], values(16 * 8 * 9, 1)), floatTensor('b1', [16], values(16, 2)), floatTensor('w2', [8, 16, 1, 1], values(8 * 16, 3))],
    input: [valueInfo('x', 1, [1, 8, 11, 9])],
    output: [valueInfo('y', 1, [1, 8, 6, 5])],
  })));
  return file;
}

/** A plan punching (8,4) blocks at `rate` in every Conv whose filters and channels divide by 8 and 4. */
function blockPunchedPlan(modelFile: string, rate: number): Plan {
  const loaded = loadModel(modelFile);
  const layers: Record<string, unknown> = {};
  for (const l of findLayers(loaded.model, loaded.tensors)) {
    if (l.op === 'Conv' && l.group === 1 && l.weightShape[0] % 8 === 0 && l.weightShape[1] % 4 === 0) layers[l.id] = { scheme: 'block-punched', block: [8, 4], rate };
  }
  loaded.close();
  return { model: path.basename(modelFile), target: 'host-cpu', layers } as unknown as Plan;
}

/** Cross-builds with verify, then checks the binary independently (file, qemu vs onnxruntime). */
async function checkArm64(modelFile: string, plan: Plan, threads = 1): Promise<string> {
  const out = fresh('out');
  const r = await runCodegenJob(modelFile, plan, 'plan.json', out, { arch: 'arm64', verify: true, threads });
  assert.equal(r.verified, true, `max abs error ${r.maxAbsError}`);
  assert.ok(r.maxAbsError! <= 1e-4 * r.outputScale!);
  assert.ok(r.files.includes('prunemap_run'));
  assert.match(fileType(path.join(out, 'prunemap_run')), /ARM aarch64.*statically linked/);

  const loaded = loadModel(modelFile);
  try {
    const layers = findLayers(loaded.model, loaded.tensors);
    const input = loaded.model.graph.inputs[0];
    assert.ok(input.type?.kind === 'tensor' && input.type.shape);
    const shape = input.type.shape.map((d) => (typeof d === 'number' ? d : 1)); // the symbolic batch is 1
    const x = testInput(shape.reduce((a, b) => a * b, 1), 12345);
    const scratch = fresh('scratch');
    fs.mkdirSync(scratch);
    assertClose(runUnderQemu(out, x, scratch), await ortOnPrunedModel(loaded, layers, plan, x, input.name, shape, scratch));
  } finally {
    loaded.close();
  }
  return out;
}

test('arm64: a small two-Conv model, block-punched at 50%, cross-built and verified under qemu', async () => {
  const file = tinyModel();
  const out = await checkArm64(file, blockPunchedPlan(file, 0.5));
  // The Makefile alone (no environment) cross-builds the same sources.
  const copy = fresh('make');
  fs.cpSync(out, copy, { recursive: true });
  fs.rmSync(path.join(copy, 'prunemap_run'));
  const env = { ...process.env };
  for (const k of ['CC', 'CFLAGS', 'LDFLAGS']) delete env[k];
  const make = spawnSync('make', ['-s'], { cwd: copy, env, encoding: 'utf8' });
  assert.equal(make.status, 0, make.stderr);
  assert.match(fileType(path.join(copy, 'prunemap_run')), /ARM aarch64.*statically linked/);
});

test('arm64: with 2 OpenMP threads (libgomp linked statically) the output still matches', async () => {
  const file = tinyModel();
  await checkArm64(file, blockPunchedPlan(file, 0.75), 2);
});

test('arm64: samples/fashion-cnn.onnx with its dense Convs block-punched at 75%, verified under qemu', async () => {
  const model = path.join(ROOT, 'samples/fashion-cnn.onnx');
  await checkArm64(model, blockPunchedPlan(model, 0.75));
});
