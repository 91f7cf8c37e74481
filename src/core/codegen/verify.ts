// Checks the compiled model against onnxruntime-node running the pruned model (the model with the
// plan's masks applied, as `prunemap prune` writes it) on one generated input. onnxruntime-node is
// required lazily: it is a native module the rest of the tool does not need.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ModelError } from '../errors';
import { type ChildResult, runChild } from './child-process';
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

/** Runs dir/prunemap_run on `input`, returning the model's output (blocking; host binaries only). */
export function runCompiled(dir: string, input: Float32Array, outputSize: number): Float32Array {
  const io = ioFiles(os.tmpdir(), dir, input);
  try {
    const r = spawnSync(path.join(dir, RUNNER_BINARY), io.args, { encoding: 'utf8' });
    return readOutput(dir, { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error as NodeJS.ErrnoException | undefined }, io.outFile, outputSize);
  } finally {
    io.cleanup();
  }
}

export interface RunOptions {
  /** Command words before the binary, e.g. qemu-aarch64 for an arm64 build (target.ts). */
  readonly launcher?: readonly string[];
  readonly signal?: AbortSignal;
  /** Folder for the input/output files (default: the system temp folder). */
  readonly tmpDir?: string;
}

/** Runs dir/prunemap_run on `input` as a child process (killed on abort), returning the model's output. */
export async function runCompiledAsync(dir: string, input: Float32Array, outputSize: number, options: RunOptions = {}): Promise<Float32Array> {
  const [exe, ...pre] = [...(options.launcher ?? []), path.join(dir, RUNNER_BINARY)];
  const io = ioFiles(options.tmpDir ?? os.tmpdir(), dir, input);
  try {
    return readOutput(dir, await runChild(exe, [...pre, ...io.args], { signal: options.signal }), io.outFile, outputSize);
  } finally {
    io.cleanup();
  }
}

/** A temporary folder holding `input` as in.bin, and the runner's arguments to read it and write out.bin. */
function ioFiles(parent: string, dir: string, input: Float32Array) {
  const tmp = fs.mkdtempSync(path.join(parent, 'prunemap-verify-'));
  const inFile = path.join(tmp, 'in.bin'), outFile = path.join(tmp, 'out.bin');
  const cleanup = () => fs.rmSync(tmp, { recursive: true, force: true });
  try {
    fs.writeFileSync(inFile, input);
  } catch (err) {
    cleanup();
    throw err;
  }
  return { args: [path.join(dir, 'model.bin'), 'run', inFile, outFile], outFile, cleanup };
}

function readOutput(dir: string, r: ChildResult, outFile: string, outputSize: number): Float32Array {
  if (r.status !== 0) throw new ModelError(`the compiled model failed: ${(r.stderr || r.error?.message || `status ${r.status ?? r.signal}`).trim().split('\n')[0]}`, dir, 'This is a codegen bug; please report it with the model.');
  const bytes = fs.readFileSync(outFile);
  if (bytes.length !== outputSize * 4) throw new ModelError(`the compiled model wrote ${bytes.length} bytes, expected ${outputSize * 4}`, dir, 'This is a codegen bug.');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

export async function verifyAgainstOrt(dir: string, prunedModel: string, inputName: string, inputShape: number[], outputSize: number, options: RunOptions = {}): Promise<VerifyResult> {
  const ort = loadOrt();
  const input = generatedInput(inputShape.reduce((a, b) => a * b, 1));
  const ours = await runCompiledAsync(dir, input, outputSize, options);
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
