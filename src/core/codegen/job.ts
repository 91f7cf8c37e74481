// One codegen run — generate, and optionally compile, verify against onnxruntime and benchmark —
// as an async job shared by the CLI (`prunemap codegen`) and the language server. Every external
// tool runs as a child process, so the caller's event loop stays free; progress is reported as a
// fraction and a short message; an aborted signal kills the running child and the job throws an
// AbortError, leaving neither the output folder nor any temporary folder behind.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ModelError } from '../errors';
import { findLayers } from '../layers';
import { loadModel } from '../onnx/load';
import type { Plan } from '../plan';
import { buildMasks } from '../prune/masks';
import { writePrunedModel } from '../prune/write';
import { benchmark } from './bench';
import { abortError, throwIfCancelled } from './child-process';
import { compileRunnerAsync } from './compile';
import { generateCode } from './generate';
import { checkOutputDir, writeOutputDir } from './output-dir';
import { checkTools, targetFor } from './target';
import { verifyAgainstOrt, type VerifyResult } from './verify';

export interface CodegenJobOptions {
  readonly verify?: boolean; readonly bench?: boolean; readonly threads?: number; readonly force?: boolean;
  readonly arch?: 'host' | 'arm64';
  readonly signal?: AbortSignal;
  /** fraction 0..1 and a short message: "generating", "compiling", "verifying", "benchmarking layer 3/21" */
  readonly onProgress?: (fraction: number, message: string) => void;
}

export interface CodegenJobResult {
  readonly outputDir: string;
  readonly files: string[];            // names written in outputDir
  readonly layers: { id: string; scheme: string; kept: number }[];
  readonly verified?: boolean; readonly maxAbsError?: number;
  /** Largest |onnxruntime output| that maxAbsError is judged against (with verified). */
  readonly outputScale?: number;
  readonly bench?: { layers: { id: string; scheme: string; oursMs: number; ortMs: number; denseOursMs: number }[]; model: { oursMs: number; ortMs: number } };
}

/**
 * Generates C code for `modelPath` with `plan`'s sparse layers into `outputDir` (whole or not at
 * all). The binary is compiled for --verify/--bench, and always for arm64 (the cross-built binary
 * is the point there). `planWhere` names the plan in messages.
 */
export async function runCodegenJob(modelPath: string, plan: Plan, planWhere: string, outputDir: string, options: CodegenJobOptions = {}): Promise<CodegenJobResult> {
  const { signal } = options;
  try {
    return await run(modelPath, plan, planWhere, outputDir, options);
  } catch (err) {
    // Whatever was in flight when the signal fired (a child, onnxruntime, the pruned-model writer), the caller sees one kind of error.
    if (signal?.aborted) throw abortError();
    throw err;
  }
}

async function run(modelPath: string, plan: Plan, planWhere: string, outputDir: string, options: CodegenJobOptions): Promise<CodegenJobResult> {
  const { signal, verify = false, bench = false, threads = 1, arch = 'host' } = options;
  const progress = (fraction: number, message: string) => {
    throwIfCancelled(signal);
    options.onProgress?.(fraction, message);
  };
  throwIfCancelled(signal);
  if (!Number.isInteger(threads) || threads < 1) throw new ModelError(`threads must be a positive integer, got ${threads}`, 'codegen', 'Pass 1 or more.');
  if (arch === 'arm64' && bench) {
    throw new ModelError('benchmarking is not available for arm64', 'codegen', 'Timings under qemu emulation mean nothing: run `make && ./prunemap_run model.bin bench 20` in the output folder on an arm64 device.');
  }
  const target = targetFor(arch);
  checkTools(target, verify);
  const compile = verify || bench || arch !== 'host';
  const out = path.resolve(outputDir);
  checkOutputDir(out, !!options.force);

  const loaded = loadModel(modelPath);
  // Holds the pruned model (onnxruntime's side of verify and bench), the compiler's temporary files and the runner's input/output.
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'prunemap-codegen-'));
  try {
    progress(0, 'generating');
    const layers = findLayers(loaded.model, loaded.tensors);
    const masks = buildMasks(loaded, layers, plan, planWhere);
    const gen = generateCode(loaded, layers, masks, { threads, denseTwins: bench, arch });
    const pruned = path.join(scratch, 'pruned.onnx');
    if (verify || bench) await writePrunedModel(loaded, masks, pruned, { layers, signal });

    const { verified, timings } = await writeOutputDir(out, gen.files, !!options.force, async (dir) => {
      let verified: VerifyResult | undefined;
      if (!compile) return { verified };
      progress(0.2, 'compiling');
      await compileRunnerAsync(dir, target.compiler, { threads, signal, tmpDir: scratch });
      if (verify) {
        progress(bench ? 0.4 : 0.7, 'verifying');
        const outputSize = gen.outputShape.reduce((a, b) => a * b, 1);
        verified = await verifyAgainstOrt(dir, pruned, gen.inputName, gen.inputShape, outputSize, { launcher: target.launcher, signal, tmpDir: scratch });
      }
      const start = verify ? 0.5 : 0.4;
      const timings = bench
        ? await benchmark(dir, pruned, gen, loaded, layers, masks, { threads, signal, onProgress: (f, m) => progress(start + f * (0.99 - start), m) })
        : undefined;
      return { verified, timings };
    }, signal);
    options.onProgress?.(1, 'done');
    return {
      outputDir: out,
      files: fs.readdirSync(out).sort(),
      layers: gen.layers.map((l) => ({ id: l.id, scheme: l.scheme, kept: l.kept })),
      ...(verified ? { verified: verified.ok, maxAbsError: verified.maxAbsError, outputScale: verified.outputScale } : {}),
      ...(timings ? { bench: timings } : {}),
    };
  } finally {
    loaded.close();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
