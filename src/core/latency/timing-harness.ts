// Times generated Conv kernels on this machine, for calibration (calibrate.ts) and its held-out
// evaluation (bench/calibrate-eval.ts). Every case becomes the kernel the code generator emits for
// that layer and scheme (codegen/layer-kernels.ts; the mask from the scheme's own generator), all
// in ONE C program compiled once. The program takes each kernel's samples in 5 rounds over all
// kernels (or more: `rounds`, to spread them over more time), a warm-up call before each kernel's
// turn, and prints their median; a sample repeats a short kernel until it lasts about 0.2 ms, so
// the clock's resolution does not matter. With one thread the clock is the thread's CPU time, not
// wall time: on a shared machine a descheduled kernel would otherwise be charged for other
// processes' turns (on a quiet machine the two agree for a compute kernel). With OpenMP threads it
// is wall time. The program also measures sustained
// read bandwidth by summing a buffer far larger than the last-level cache.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NO_ACTIVATION } from '../codegen/activation';
import { compilerFromEnv } from '../codegen/compile';
import { BUFFER_SLACK, outputSize, type ConvGeometry } from '../codegen/emit-conv';
import { C_VECTOR_HELPERS } from '../codegen/emit-model';
import { convLayerKernel } from '../codegen/layer-kernels';
import { WeightFile } from '../codegen/weight-file';
import { ModelError } from '../errors';
import { getScheme } from '../schemes/registry';
import { Prng } from '../mapper/prng';
import type { SchemeSpec } from '../schemes/scheme';
import { weightMatrices } from '../schemes/weight-matrix';
import type { LatencyLayer } from './estimate';

export interface ConvCase {
  /** Where the shape comes from, e.g. "squeezenet1_1 fire4/expand3x3". */
  readonly label: string;
  readonly geometry: ConvGeometry;
  /** The scheme, pruned by its own mask generator (on random weights); undefined times the dense kernel. */
  readonly spec?: SchemeSpec;
}

export interface TimedCase {
  readonly case: ConvCase;
  /** What the kernel computes, as the latency model takes it (rate = the exact pruned fraction). */
  readonly spec: SchemeSpec | 'dense';
  readonly ms: number;
}

export interface HarnessResult {
  readonly timed: TimedCase[];
  /** Sustained read bandwidth, 10^9 B/s, at the harness's threads. */
  readonly bandwidthGBs: number;
  /** The compile command, for the profile's basisNote. */
  readonly compileCommand: string;
}

export interface HarnessOptions {
  readonly threads?: number;
  /** Approximate time spent on each kernel's samples in 5 rounds, ms (at most 8 samples per round, at least 1). */
  readonly budgetMs?: number;
  /** Rounds over all kernels (default 5), each taking a fifth of budgetMs per kernel: more rounds spread the samples over more time. */
  readonly rounds?: number;
  readonly env?: NodeJS.ProcessEnv;
}

/** Rounds over all kernels by default: a burst of load from other processes then hits a few samples of many kernels, not all of one. */
export const DEFAULT_ROUNDS = 5;

/** Bytes the bandwidth probe reads: 128 MiB, four times this machine class's 32 MiB L3. */
const PROBE_FLOATS = 32 << 20;

/** The layer as estimateLayer sees it: a group-1 2-D Conv at batch 1. */
export function latencyLayerOf(g: ConvGeometry): LatencyLayer {
  const [oh, ow] = outputSize(g);
  const [kh, kw] = g.kernel;
  return {
    op: 'Conv',
    weightShape: [g.filters, g.channels, kh, kw],
    group: 1,
    kernel: [kh, kw],
    strides: [...g.strides],
    node: { opType: 'Conv', inputs: [], outputs: [], attributes: [] } as unknown as LatencyLayer['node'],
    recurrentTensor: undefined,
    inputShape: [1, g.channels, g.height, g.width],
    outputShape: [1, g.filters, oh, ow],
    macs: g.filters * g.channels * kh * kw * oh * ow,
  };
}

/** The scheme's own mask (schemes/*.ts) for random weights of this layer. */
function schemeMask(g: ConvGeometry, w: Float32Array, spec: SchemeSpec): Uint8Array {
  const layer = latencyLayerOf(g);
  const scheme = getScheme(spec.scheme);
  if (!scheme) throw new Error(`unknown scheme ${spec.scheme}`);
  return scheme.mask({ op: 'Conv', kernelShape: [...g.kernel], group: 1, matrices: weightMatrices(layer) }, [w], spec)[0];
}

/** Emits, compiles and runs the timing program for `cases`; blocking (calibration is a CLI job). */
export function timeConvCases(cases: readonly ConvCase[], options: HarnessOptions = {}): HarnessResult {
  const threads = options.threads ?? 1;
  const budgetMs = options.budgetMs ?? 150;
  const store = new WeightFile();
  const rnd = new Prng(20261129); // seeded: a run's weights and masks are repeatable
  const kernels: string[] = [];
  const specs: (SchemeSpec | 'dense')[] = [];
  let planeFloats = 8, tmpFloats = 8, inFloats = 8, outFloats = 8;
  cases.forEach((c, i) => {
    const g = c.geometry;
    const K = g.kernel[0] * g.kernel[1];
    const w = Float32Array.from({ length: g.filters * g.channels * K }, () => rnd.next() * 2 - 1);
    const mask = c.spec ? schemeMask(g, w, c.spec) : undefined;
    // The kernel codegen would emit for this layer and scheme (layer-kernels.ts), no bias, no
    // activation, as for an inner layer: g_x has BUFFER_SLACK floats past its end, so a 1×1 stride-1
    // kernel reads its input in place as it does in a generated model.
    const { kernel } = convLayerKernel(`k${i}`, g, w, mask, c.spec, undefined, NO_ACTIVATION, store, threads, true);
    kernels.push(kernel.source);
    planeFloats = Math.max(planeFloats, kernel.planeFloats);
    tmpFloats = Math.max(tmpFloats, kernel.tmpFloats);
    inFloats = Math.max(inFloats, g.channels * g.height * g.width);
    outFloats = Math.max(outFloats, g.filters * kernel.outHeight * kernel.outWidth);
    if (mask && c.spec) {
      let kept = 0;
      for (let j = 0; j < mask.length; j++) kept += mask[j];
      specs.push({ ...c.spec, rate: 1 - kept / mask.length });
    } else specs.push('dense');
  });
  const rounds = Math.max(1, Math.floor(options.rounds ?? DEFAULT_ROUNDS));
  const source = harnessSource(kernels, { planeFloats, tmpFloats, inFloats, outFloats, threads, rounds });

  const compiler = compilerFromEnv(options.env ?? process.env);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prunemap-calibrate-'));
  try {
    fs.writeFileSync(path.join(dir, 'calibrate.c'), source);
    fs.writeFileSync(path.join(dir, 'weights.bin'), store.bytes());
    const [exe, ...ccWords] = compiler.cc.split(/\s+/).filter(Boolean);
    const linkFlags = (compiler as { linkFlags?: string[] }).linkFlags ?? [];
    const args = [...ccWords, ...compiler.flags, ...(threads > 1 ? ['-fopenmp'] : []), '-o', 'calibrate', 'calibrate.c', ...linkFlags, '-lm'];
    const compileCommand = [exe, ...args].join(' ');
    const cc = spawnSync(exe, args, { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20, env: options.env ?? process.env });
    if (cc.error) {
      const code = (cc.error as NodeJS.ErrnoException).code;
      throw new ModelError(code === 'ENOENT' ? `C compiler "${exe}" not found` : `C compiler "${exe}" could not run (${cc.error.message})`, 'calibrate', 'Install a C compiler or set CC (e.g. CC=gcc).');
    }
    if (cc.status !== 0) {
      const lines = (cc.stderr || cc.stdout || '').split('\n').map((l) => l.trim()).filter(Boolean);
      const first = lines.find((l) => /error/i.test(l)) ?? lines[0] ?? `exit status ${cc.status ?? cc.signal}`;
      throw new ModelError(`\`${compileCommand}\` failed: ${first}`, 'calibrate', 'Check CC/CFLAGS.');
    }
    const env = { ...(options.env ?? process.env), OMP_NUM_THREADS: String(threads) };
    const run = spawnSync(path.join(dir, 'calibrate'), ['weights.bin', String(budgetMs)], { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20, env });
    if (run.status !== 0) {
      throw new ModelError(`the timing program failed: ${(run.stderr || String(run.signal ?? run.status)).trim().split('\n')[0]}`, 'calibrate', 'This is a bug; please report it with the command line.');
    }
    const ms = new Array<number>(cases.length).fill(NaN);
    let bandwidthGBs = NaN;
    for (const line of run.stdout.split('\n')) {
      const f = line.trim().split(/\s+/);
      if (f[0] === 'kernel') ms[Number(f[1])] = Number(f[2]);
      if (f[0] === 'bandwidth') bandwidthGBs = Number(f[1]);
    }
    if (ms.some((x) => !(x > 0)) || !(bandwidthGBs > 0)) throw new ModelError('the timing program printed incomplete results', 'calibrate', 'This is a bug; please report it with the command line.');
    return { timed: cases.map((c, i) => ({ case: c, spec: specs[i], ms: ms[i] })), bandwidthGBs, compileCommand };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

interface Buffers { planeFloats: number; tmpFloats: number; inFloats: number; outFloats: number; threads: number; rounds: number }

/** The C program: emit-model.ts's helpers, the kernels, a table of them and the timing loop. */
function harnessSource(kernels: readonly string[], b: Buffers): string {
  const omp = b.threads > 1;
  return [
    '/* Generated by prunemap calibrate: times generated Conv kernels. */',
    '#include <stdio.h>',
    '#include <stdlib.h>',
    '#include <string.h>',
    '#include <time.h>',
    ...(omp ? ['#include <omp.h>'] : []),
    '',
    // The helpers emit-model.ts defines before its kernels.
    ...C_VECTOR_HELPERS,
    'static float *WF;',
    'static int *WI;',
    `static float g_planes[${b.planeFloats}] __attribute__((aligned(32)));`,
    `static float g_tmp[${b.tmpFloats}] __attribute__((aligned(32)));`,
    `static float g_x[${b.inFloats + BUFFER_SLACK}] __attribute__((aligned(32)));`,
    `static float g_y[${b.outFloats + BUFFER_SLACK}] __attribute__((aligned(32)));`,
    '',
    ...kernels,
    'static void (*const kernels[])(const float *restrict, float *restrict) = {',
    ...kernels.map((_, i) => `  k${i},`),
    '};',
    '',
    `static double now_ms(void) { struct timespec t; clock_gettime(${omp ? 'CLOCK_MONOTONIC' : 'CLOCK_THREAD_CPUTIME_ID'}, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }`,
    'static int by_value(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }',
    'static double median(double *v, int n) { qsort(v, n, sizeof *v, by_value); return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2; }',
    '',
    '/* Sum of a buffer far larger than the caches: sustained read bandwidth, 10^9 B/s. */',
    'static double bandwidth(void) {',
    `  const long n = ${PROBE_FLOATS}L;`,
    '  float *a = aligned_alloc(32, sizeof(float) * n);',
    '  if (!a) return -1;',
    '  for (long i = 0; i < n; i++) a[i] = (float)(i & 1023);',
    '  double t[7]; volatile float sink = 0;',
    '  for (int r = 0; r < 7; r++) {',
    '    double t0 = now_ms(); float total = 0;',
    omp ? '    #pragma omp parallel for reduction(+:total) schedule(static)' : '',
    '    for (long c = 0; c < n; c += 4096) {',
    '      v8f s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};',
    '      for (long i = c; i < c + 4096; i += 32) { s0 += ld(a + i); s1 += ld(a + i + 8); s2 += ld(a + i + 16); s3 += ld(a + i + 24); }',
    '      v8f s = s0 + s1 + s2 + s3; float h = 0; for (int k = 0; k < 8; k++) h += s[k];',
    '      total += h;',
    '    }',
    '    t[r] = now_ms() - t0; sink += total;',
    '  }',
    '  free(a);',
    '  return (double)sizeof(float) * n / (median(t, 7) * 1e6);',
    '}',
    '',
    'int main(int argc, char **argv) {',
    '  if (argc < 3) { fprintf(stderr, "usage: %s WEIGHTS BUDGET_MS\\n", argv[0]); return 2; }',
    '  FILE *f = fopen(argv[1], "rb"); unsigned char h[12]; unsigned nf, ni;',
    '  if (!f || fread(h, 1, 12, f) != 12 || memcmp(h, "PMW1", 4) != 0) { fprintf(stderr, "cannot read %s\\n", argv[1]); return 1; }',
    '  nf = h[4] | h[5] << 8 | h[6] << 16 | (unsigned)h[7] << 24; ni = h[8] | h[9] << 8 | h[10] << 16 | (unsigned)h[11] << 24;',
    '  WF = aligned_alloc(32, ((nf + 7) / 8) * 32 + 32); WI = malloc(sizeof(int) * ni + 4);',
    '  if (!WF || !WI || fread(WF, 4, nf, f) != nf || fread(WI, 4, ni, f) != ni) { fprintf(stderr, "cannot read %s\\n", argv[1]); return 1; }',
    '  fclose(f);',
    '  const double budget = atof(argv[2]) > 0 ? atof(argv[2]) : 150;',
    '  unsigned s = 1;',
    `  for (int i = 0; i < ${b.inFloats}; i++) { s = s * 1103515245u + 12345u; g_x[i] = (float)(s >> 8) / 16777216.0f * 2.0f - 1.0f; }`,
    '  printf("bandwidth %.4f\\n", bandwidth());',
    `  static double t[${kernels.length}][${b.rounds * 8}]; static int inner[${kernels.length}], per[${kernels.length}];`,
    `  for (int k = 0; k < ${kernels.length}; k++) {`,
    '    double t0 = now_ms(); kernels[k](g_x, g_y); double once = now_ms() - t0; /* warm-up, and the sample plan */',
    '    if (once < 1e-4) once = 1e-4;',
    '    inner[k] = once >= 0.2 ? 1 : (int)(0.2 / once) + 1;',
    `    int n = (int)(budget / (once * inner[k])); per[k] = (n + ${DEFAULT_ROUNDS - 1}) / ${DEFAULT_ROUNDS}; if (per[k] < 1) per[k] = 1; if (per[k] > 8) per[k] = 8; /* per round */`,
    '  }',
    `  for (int r = 0; r < ${b.rounds}; r++) {`,
    `    for (int k = 0; k < ${kernels.length}; k++) {`,
    '      kernels[k](g_x, g_y); /* warm the caches for this kernel again */',
    '      for (int j = 0; j < per[k]; j++) { double t0 = now_ms(); for (int i = 0; i < inner[k]; i++) kernels[k](g_x, g_y); t[k][r * per[k] + j] = (now_ms() - t0) / inner[k]; }',
    '    }',
    '  }',
    `  for (int k = 0; k < ${kernels.length}; k++) printf("kernel %d %.6f\\n", k, median(t[k], ${b.rounds} * per[k]));`,
    '  return 0;',
    '}',
    '',
  ].filter((l) => l !== '').join('\n');
}
