// Checks of a cross-built codegen folder that do not go through the code under test: `file` says
// what the binary is, qemu-aarch64 runs it directly (no -L: a static binary needs no libraries), and
// onnxruntime-node runs the pruned model on the same input as the reference.

import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Layer } from '../../src/core/layers';
import type { LoadedModel } from '../../src/core/onnx/load';
import type { Plan } from '../../src/core/plan';
import { buildMasks } from '../../src/core/prune/masks';
import { writePrunedModel } from '../../src/core/prune/write';

/** `file -b` of the binary, e.g. "ELF 64-bit LSB executable, ARM aarch64, …, statically linked, …". */
export function fileType(binary: string): string {
  const r = spawnSync('file', ['-b', binary], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

/** Uniform [-1, 1) values from a seed (an LCG of the test's own, not the one codegen uses). */
export function testInput(size: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: size }, () => {
    s = (s * 16807) % 2147483647;
    return (s / 2147483647) * 2 - 1;
  });
}

/** Runs `dir/prunemap_run model.bin run` under qemu-aarch64 on `input`. */
export function runUnderQemu(dir: string, input: Float32Array, scratch: string): Float32Array {
  const inFile = path.join(scratch, 'qemu-in.bin'), outFile = path.join(scratch, 'qemu-out.bin');
  fs.writeFileSync(inFile, input);
  const r = spawnSync('qemu-aarch64', [path.join(dir, 'prunemap_run'), path.join(dir, 'model.bin'), 'run', inFile, outFile], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const bytes = fs.readFileSync(outFile);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
}

/** onnxruntime-node's output for the model with the plan's masks applied. */
export async function ortOnPrunedModel(loaded: LoadedModel, layers: readonly Layer[], plan: Plan, input: Float32Array, inputName: string, inputShape: number[], scratch: string): Promise<Float32Array> {
  const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
  const pruned = path.join(scratch, 'reference-pruned.onnx');
  await writePrunedModel(loaded, buildMasks(loaded, layers, plan, 'plan'), pruned, { layers, force: true });
  const session = await ort.InferenceSession.create(pruned, { intraOpNumThreads: 1 });
  const result = await session.run({ [inputName]: new ort.Tensor('float32', input, inputShape) });
  return result[session.outputNames[0]].data as Float32Array;
}

/** max |ours − ref| ≤ 1e-4 × max |ref|. */
export function assertClose(ours: Float32Array, ref: Float32Array): void {
  assert.equal(ours.length, ref.length);
  let err = 0, scale = 0;
  for (let i = 0; i < ref.length; i++) {
    err = Math.max(err, Math.abs(ours[i] - ref[i]));
    scale = Math.max(scale, Math.abs(ref[i]));
  }
  assert.ok(!Number.isNaN(err) && err <= 1e-4 * scale, `max abs error ${err} vs output scale ${scale}`);
}
