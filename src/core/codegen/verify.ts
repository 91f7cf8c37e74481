// Checks the compiled model against onnxruntime-node running the pruned model (the model with the
// plan's masks applied, as `prunemap prune` writes it) on one generated input. onnxruntime-node is
// required lazily: it is a native module the rest of the tool does not need.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ModelError } from '../errors';
import { RUNNER_BINARY } from './compile';

export interface VerifyResult {
  readonly ok: boolean;
  readonly maxAbsError: number;
  /** Largest |reference output|: errors are judged relative to it. */
  readonly outputScale: number;
}

export const TOLERANCE = 1e-4;

type Ort = typeof import('onnxruntime-node');

export function loadOrt(): Ort {
  try {
    return require('onnxruntime-node');
  } catch (err) {
    throw new ModelError(`onnxruntime-node could not be loaded (${(err as Error).message.split('\n')[0]})`, 'codegen', 'Install onnxruntime-node, or run without --verify/--bench.');
  }
}

/** Deterministic uniform [-1, 1) values. */
export function generatedInput(size: number, seed = 1): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: size }, () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1);
}

/** Runs dir/prunemap_run on `input`, returning the model's output. */
export function runCompiled(dir: string, input: Float32Array, outputSize: number): Float32Array {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunemap-verify-'));
  try {
    const inFile = path.join(tmp, 'in.bin'), outFile = path.join(tmp, 'out.bin');
    fs.writeFileSync(inFile, input);
    const r = spawnSync(path.join(dir, RUNNER_BINARY), [path.join(dir, 'model.bin'), 'run', inFile, outFile], { encoding: 'utf8' });
    if (r.status !== 0) throw new ModelError(`the compiled model failed: ${(r.stderr || r.error?.message || `status ${r.status ?? r.signal}`).trim().split('\n')[0]}`, dir, 'This is a codegen bug; please report it with the model.');
    const bytes = fs.readFileSync(outFile);
    if (bytes.length !== outputSize * 4) throw new ModelError(`the compiled model wrote ${bytes.length} bytes, expected ${outputSize * 4}`, dir, 'This is a codegen bug.');
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export async function verifyAgainstOrt(dir: string, prunedModel: string, inputName: string, inputShape: number[], outputSize: number): Promise<VerifyResult> {
  const ort = loadOrt();
  const input = generatedInput(inputShape.reduce((a, b) => a * b, 1));
  const ours = runCompiled(dir, input, outputSize);
  const session = await ort.InferenceSession.create(prunedModel, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const result = await session.run({ [inputName]: new ort.Tensor('float32', input, inputShape) });
  const ref = result[session.outputNames[0]].data as Float32Array;
  return compareOutputs(ours, ref);
}

/** max |ours − ref| judged against TOLERANCE × max |ref| (an all-zero reference: against TOLERANCE). */
export function compareOutputs(ours: ArrayLike<number>, ref: ArrayLike<number>): VerifyResult {
  if (ours.length !== ref.length) return { ok: false, maxAbsError: Infinity, outputScale: 0 };
  let maxAbsError = 0, outputScale = 0;
  for (let i = 0; i < ref.length; i++) {
    const e = Math.abs(ours[i] - ref[i]);
    maxAbsError = Number.isNaN(e) ? Infinity : Math.max(maxAbsError, e);
    outputScale = Math.max(outputScale, Math.abs(ref[i]));
  }
  return { ok: maxAbsError <= TOLERANCE * (outputScale || 1), maxAbsError, outputScale };
}
