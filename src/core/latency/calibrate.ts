// `prunemap calibrate`: measures the code generator's own kernels on this machine and fits the
// host-cpu latency profile to them (issue 6, item 5; docs/latency.md "Measuring host-cpu").
//   1. a grid of Conv layers — shapes taken from real networks (SqueezeNet 1.1, DenseNet-121,
//      ShuffleNetV2, MobileNetV3-small/large, EfficientNet-B0, ResNet-18's downsampling layers,
//      GoogLeNet, Inception-v3), none
//      of them a layer of the held-out models (ResNet-50, VGG-11, MobileNetV2) — dense,
//      block-punched at several blocks and rates, and the other schemes codegen has kernels for;
//   2. one C program with all of them, timed by timing-harness.ts (median of samples taken in
//      rounds), which also measures the read bandwidth;
//   3. a robust least-squares fit on log-time (fit.ts) of the dense efficiency per layer class, the
//      block schemes' floor / max / saturateAt, the other schemes' kept fraction, the per-layer
//      overhead and the kernel terms (compute and memory time add: overlap is held at 0);
//   4. the profile with basis "measured", and every fitted number's `why` saying it was measured.
// The grid is group-1 Convs under every scheme codegen has a kernel for (codegen/layer-kernels.ts);
// the layer classes it does not time (depthwise, Gemm, RNN) keep the modelled values, and their
// `why` says so.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ConvGeometry } from '../codegen/emit-conv';
import { layerClassOf } from './estimate';
import { getScheme } from '../schemes/registry';
import type { SchemeSpec } from '../schemes/scheme';
import { weightMatrices } from '../schemes/weight-matrix';
import { fitProfile, MAX_GBS, type FitResult, type Observation } from './fit';
import { getProfile, parseProfile, type DeviceProfile, type LayerClass } from './profiles';
import { DEFAULT_ROUNDS, latencyLayerOf, timeConvCases, type ConvCase, type HarnessResult } from './timing-harness';

export interface CalibrateOptions {
  /** Fewer shapes, blocks and samples: seconds instead of a few minutes. */
  readonly quick?: boolean;
  /** Threads the kernels run on (OpenMP when > 1); default 1, as `prunemap codegen`. */
  readonly threads?: number;
  /** Sampling rounds over the grid (default 5, about 9 s of samples each on the full grid): more spread the samples over more time. */
  readonly rounds?: number;
  readonly env?: NodeJS.ProcessEnv;
  /** The date to write into basisNote (tests pin it). */
  readonly now?: Date;
}

export interface Calibration {
  readonly profile: DeviceProfile;
  readonly fit: FitResult;
  readonly harness: HarnessResult;
  readonly threads: number;
}

interface GridShape {
  readonly label: string;
  readonly geometry: ConvGeometry;
  /** Also timed pruned: block-punched and the other schemes. */
  readonly sparse?: boolean;
  /** In the quick grid too. */
  readonly quick?: boolean;
}

const conv = (channels: number, size: number, filters: number, k: number, stride = 1, pad = Math.floor(k / 2)): ConvGeometry =>
  ({ channels, height: size, width: size, filters, kernel: [k, k], strides: [stride, stride], pads: [pad, pad, pad, pad] });

/** The calibration shapes: real networks' layers, none from the held-out models (bench/calibrate-eval.ts). */
export const GRID_SHAPES: readonly GridShape[] = [
  // conv3x3
  { label: 'squeezenet1_1 stem', geometry: conv(3, 224, 64, 3, 2, 0) },
  { label: 'squeezenet1_1 fire2 expand3x3', geometry: conv(16, 55, 64, 3) },
  { label: 'squeezenet1_1 fire4 expand3x3', geometry: conv(32, 27, 128, 3), sparse: true, quick: true },
  { label: 'squeezenet1_1 fire8 expand3x3', geometry: conv(64, 13, 256, 3), sparse: true },
  { label: 'densenet121 block1 conv2', geometry: conv(128, 56, 32, 3), sparse: true },
  { label: 'densenet121 block3 conv2', geometry: conv(128, 14, 32, 3), quick: true },
  { label: 'resnet18 layer2.0 conv1 (stride 2)', geometry: conv(64, 56, 128, 3, 2), sparse: true },
  { label: 'resnet18 layer4.0 conv1 (stride 2)', geometry: conv(256, 14, 512, 3, 2), sparse: true, quick: true },
  // conv1x1
  { label: 'squeezenet1_1 fire2 squeeze', geometry: conv(64, 55, 16, 1) },
  { label: 'squeezenet1_1 fire2 expand1x1', geometry: conv(16, 55, 64, 1), quick: true },
  { label: 'squeezenet1_1 classifier (wide)', geometry: conv(512, 13, 1000, 1), sparse: true },
  { label: 'densenet121 block1 conv1', geometry: conv(256, 56, 128, 1), sparse: true, quick: true },
  { label: 'densenet121 block3 conv1', geometry: conv(512, 14, 128, 1), sparse: true },
  { label: 'densenet121 transition3 (wide)', geometry: conv(1024, 14, 512, 1), sparse: true },
  { label: 'resnet18 layer2.0 downsample (stride 2)', geometry: conv(64, 56, 128, 1, 2) },
  { label: 'shufflenet_v2_x0_5 stage2 conv', geometry: conv(24, 28, 24, 1) },
  { label: 'mobilenet_v3_small block expand', geometry: conv(96, 7, 576, 1), quick: true },
  // Added 2026-11-29 21:00 UTC to cover the shape families the first grid missed (docs/latency.md
  // "Held-out accuracy"): wide layers on 7×7/8×8 maps and thin 1×1 expansions/projections on
  // 28–56 px maps, from EfficientNet-B0, MobileNetV3-large, GoogLeNet, Inception-v3, DenseNet-121
  // and ShuffleNetV2 x1.0 — none of them a held-out layer's shape.
  { label: 'googlenet inception5b 3x3 (7x7 map)', geometry: conv(192, 7, 384, 3), sparse: true },
  { label: 'googlenet inception4e 3x3', geometry: conv(160, 14, 320, 3) },
  { label: 'inception_v3 Mixed_7b 3x3dbl (8x8 map)', geometry: conv(448, 8, 384, 3), sparse: true },
  { label: 'densenet121 block4 conv2 (7x7 map)', geometry: conv(128, 7, 32, 3) },
  { label: 'efficientnet_b0 block3 expand', geometry: conv(40, 28, 240, 1), sparse: true },
  { label: 'efficientnet_b0 block3 project', geometry: conv(240, 28, 40, 1) },
  { label: 'mobilenet_v3_large block2 expand', geometry: conv(24, 56, 72, 1) },
  { label: 'mobilenet_v3_large block2 project', geometry: conv(72, 56, 24, 1) },
  { label: 'efficientnet_b0 block6 expand (7x7 map)', geometry: conv(192, 7, 1152, 1), sparse: true },
  { label: 'efficientnet_b0 block6 project (7x7 map)', geometry: conv(1152, 7, 192, 1) },
  { label: 'googlenet inception5b 1x1 (7x7 map)', geometry: conv(832, 7, 384, 1), sparse: true },
  { label: 'densenet121 block4 conv1 (7x7 map)', geometry: conv(992, 7, 128, 1) },
  { label: 'inception_v3 Mixed_6b 1x1 (17x17 map)', geometry: conv(768, 17, 192, 1) },
  { label: 'shufflenet_v2_x1_0 stage3 conv', geometry: conv(116, 14, 116, 1) },
  // conv (other kernels): GoogLeNet's inception 5×5 branches
  { label: 'googlenet inception3a 5x5', geometry: conv(16, 28, 32, 5), quick: true },
  { label: 'googlenet inception3b 5x5', geometry: conv(32, 28, 96, 5), sparse: true },
];

/** Block-punched blocks: the mapper's candidates plus small blocks, which pin the efficiency floor. */
const BLOCKS: readonly (readonly [number, number])[] = [[2, 1], [2, 2], [4, 2], [4, 4], [8, 4], [8, 8], [16, 4], [16, 8]];
const QUICK_BLOCKS: readonly (readonly [number, number])[] = [[2, 1], [4, 2], [8, 4], [16, 8]];

/** The other schemes codegen has kernels for (layer-kernels.ts), at a typical rate each. */
const OTHER_SCHEMES: readonly SchemeSpec[] = [
  { scheme: 'block-bcr', block: [4, 2], rate: 0.75 },
  { scheme: 'block-bcr', block: [8, 4], rate: 0.75 },
  { scheme: 'block-bcr', block: [16, 8], rate: 0.75 },
  { scheme: 'unstructured', rate: 0.9 },
  { scheme: 'nm', n: 2, m: 4, rate: 0.5 },
  { scheme: 'pattern', rate: 0.75 },
  { scheme: 'filter', rate: 0.5 },
  { scheme: 'channel', rate: 0.5 },
];
const QUICK_OTHER = OTHER_SCHEMES.filter((s) => !(s.scheme === 'block-bcr' && s.block![0] !== 8));

/**
 * The grid's cases: every shape dense; sparse shapes block-punched at every block (rate 0.75) and
 * at rates 0.5 and 0.875 for some blocks, and under each other scheme the layer admits.
 */
export function calibrationGrid(quick = false): ConvCase[] {
  const cases: ConvCase[] = [];
  for (const s of GRID_SHAPES) {
    if (quick && !s.quick) continue;
    const add = (spec?: SchemeSpec) => cases.push({ label: s.label, geometry: s.geometry, spec });
    add();
    if (!s.sparse) continue;
    for (const block of quick ? QUICK_BLOCKS : BLOCKS) add({ scheme: 'block-punched', block, rate: 0.75 });
    for (const rate of [0.5, 0.875]) {
      for (const block of quick ? [[8, 4] as const] : [[4, 2] as const, [8, 4] as const, [16, 8] as const]) add({ scheme: 'block-punched', block, rate });
    }
    const geometry = { op: 'Conv', kernelShape: [...s.geometry.kernel], group: 1, matrices: weightMatrices(latencyLayerOf(s.geometry)) };
    for (const spec of quick ? QUICK_OTHER : OTHER_SCHEMES) if (getScheme(spec.scheme)!.feasible(geometry, spec).ok) add(spec);
  }
  return cases;
}

/** Runs the grid, fits, and returns the measured profile (not written: the CLI does that). */
export function calibrate(options: CalibrateOptions = {}): Calibration {
  const harness = timeConvCases(calibrationGrid(options.quick), { threads: options.threads ?? 1, budgetMs: options.quick ? 25 : 120, rounds: options.rounds, env: options.env });
  return fitCalibration(harness, options);
}

/**
 * The measured profile fitted to the grid's timings (`harness`, from calibrationGrid's cases in
 * order): calibrate's second half, apart so the held-out benchmark can time the grid in the same
 * program run as its own kernels.
 */
export function fitCalibration(harness: HarnessResult, options: CalibrateOptions = {}): Calibration {
  const base = getProfile('host-cpu')!;
  const threads = options.threads ?? 1;
  const observations: Observation[] = harness.timed.map((t) => ({ layer: latencyLayerOf(t.case.geometry), spec: t.spec, ms: t.ms }));
  // The efficiencies are fractions of the nominal peak at these threads (base's per-thread peak).
  const peakGmacs = round((base.peakGmacs / base.threads) * threads, 4);
  // The kernel terms are fitted too (docs/latency.md "Kernel terms"); the why texts come in describe().
  const start: DeviceProfile = {
    ...base, threads, peakGmacs, bandwidthGBs: round(harness.bandwidthGBs, 3),
    planePass: { gbs: base.planePass?.gbs ?? 20, why: 'fitted' },
    activationBandwidth: { gbs: base.activationBandwidth?.gbs ?? 20, why: 'fitted' },
    weightStream: { gbs: base.weightStream?.gbs ?? 8, why: 'fitted' },
    filterVectors: { speedup: base.filterVectors?.speedup ?? 1.5, why: 'fitted' },
    inputReloads: { gbs: base.inputReloads?.gbs ?? 50, l1Bytes: l1DataCacheBytes(), why: 'fitted' },
  };
  const fit = fitProfile(start, observations, { overlap: CALIBRATED_OVERLAP });
  const profile = parseProfile(describe(fit, start, base, harness, harness.timed.length, threads, options));
  return { profile, fit, harness, threads };
}

const round = (x: number, digits: number) => Number(x.toPrecision(digits));

/** This machine's L1 data cache per core, from Linux's sysfs; 32 KiB (x86-64 and most arm64 cores) where it cannot be read. */
export function l1DataCacheBytes(): number {
  try {
    const dir = '/sys/devices/system/cpu/cpu0/cache';
    for (const index of fs.readdirSync(dir).filter((d) => d.startsWith('index'))) {
      const read = (f: string) => fs.readFileSync(path.join(dir, index, f), 'utf8').trim();
      if (read('level') !== '1' || read('type') === 'Instruction') continue;
      const size = /^(\d+)K$/.exec(read('size'));
      if (size) return Number(size[1]) * 1024;
    }
  } catch {
    // not Linux, or no sysfs: the default below
  }
  return 32 * 1024;
}

/**
 * The generated kernels' compute and memory time add up: each kernel runs its arithmetic with its
 * output stores to lines outside the caches, and the store buffer stalls it (ResNet-18's
 * downsample: 0.0125 ms of arithmetic with stores to one cached row, 0.036 ms with its real
 * output, docs/latency.md). Left free, the overlap traded off against the activation and weight
 * speeds: two calibrations minutes apart fitted 0 and 0.75 from equally good in-sample losses, and
 * the 0.75 profile missed held-out layers by 22% against 14–16%.
 */
const CALIBRATED_OVERLAP = 0;

/** The fitted profile with its basis, sources and a `why` for every number. */
function describe(fit: FitResult, start: DeviceProfile, base: DeviceProfile, harness: HarnessResult, kernels: number, threads: number, options: CalibrateOptions): DeviceProfile {
  const date = (options.now ?? new Date()).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
  const rounds = options.rounds ?? DEFAULT_ROUNDS;
  const p = fit.parameters;
  const modelled = (why: string) => (why.startsWith('Modelled, not measured') ? why : `Modelled, not measured (the calibration grid has no such layers yet): ${why}`);
  const dense = { ...start.dense };
  const measured = new Set<LayerClass>();
  for (const [c, eff] of Object.entries(p.dense) as [LayerClass, number][]) {
    measured.add(c);
    const ofClass = harness.timed.filter((t) => layerClassOf(latencyLayerOf(t.case.geometry)) === c);
    const n = ofClass.filter((t) => t.spec === 'dense').length;
    dense[c] = {
      eff: round(eff, 3),
      why: `Measured: fitted to ${n} dense and ${ofClass.length - n} pruned generated ${c} kernels timed on this machine (${date}): ${(eff * start.peakGmacs).toFixed(1)} GMAC/s of the nominal ${start.peakGmacs} on ${threads} thread${threads > 1 ? 's' : ''}.`,
    };
  }
  for (const c of Object.keys(dense) as LayerClass[]) if (!measured.has(c)) dense[c] = { ...dense[c], why: modelled(base.dense[c].why) };
  const sparse = { ...start.sparse };
  const timedAs = (scheme: string) => harness.timed.filter((t) => t.spec !== 'dense' && t.spec.scheme === scheme);
  for (const s of ['filter', 'channel', 'pattern', 'nm', 'unstructured'] as const) {
    const keep = p.flat[s];
    const n = timedAs(s).length;
    sparse[s] = keep === undefined || n === 0
      ? { ...sparse[s], why: modelled(base.sparse[s].why) }
      : { keep: round(keep, 3), why: `Measured: fitted to ${n} generated ${s} kernels (codegen's ${s === 'filter' || s === 'channel' ? 'compact dense' : s === 'pattern' ? 'pattern' : 'row-sparse (CSR)'} kernel) timed on this machine (${date}); relative to codegen's dense kernel.` };
  }
  for (const [s, c] of [['block-punched', p.blockPunched], ['block-bcr', p.blockBcr]] as const) {
    const timed = timedAs(s);
    if (!c || timed.length === 0) {
      sparse[s] = { ...sparse[s], why: modelled(base.sparse[s].why) };
      continue;
    }
    const blocks = [...new Set(timed.map((t) => (t.spec as SchemeSpec).block!.join('×')))].join(', ');
    // floor is keep at a 1×1 block; when the curve saturates by the smallest timed block, no timed
    // block sees it and the fit may leave it anywhere (even ~0): write max, the value every timed
    // block got (a flat curve) rather than extrapolate an unmeasured drop to smaller blocks.
    const smallest = Math.min(...timed.map((t) => (t.spec as SchemeSpec).block![0] * (t.spec as SchemeSpec).block![1]));
    const floor = c.saturateAt <= Math.max(2, smallest) * 1.01 ? c.max : c.floor;
    sparse[s] = {
      floor: round(floor, 3), max: round(c.max, 3), saturateAt: round(c.saturateAt, 3),
      why: `Measured: fitted to ${timed.length} generated ${s} kernels (blocks ${blocks}) timed on this machine (${date}); keep is relative to codegen's dense kernel (block 8×4, every unit kept).`,
    };
  }
  return {
    ...start,
    name: `This machine's CPU (${os.cpus()[0]?.model.trim() || 'unknown model'}), measured: ${threads} thread${threads > 1 ? 's' : ''}, fp32`,
    basis: 'measured',
    basisNote: `Measured on this machine on ${date} by \`prunemap calibrate${options.quick ? ' --quick' : ''} --threads ${threads}${options.rounds ? ` --rounds ${options.rounds}` : ''}\`: ${kernels} generated Conv kernels (codegen's layer-kernels.ts, dense and every scheme it has a kernel for) compiled with \`${harness.compileCommand}\` and timed (${threads > 1 ? 'wall time' : 'thread CPU time'}, median of samples taken in ${rounds} rounds); the dense efficiencies, the sparse schemes' kept efficiencies, overhead, phase-plane pass speed, activation bandwidth, weight re-read speed, input reload speed and the filter-vector kernel's relative speed are a robust (soft-L1) least-squares fit on log-time (in-sample error: ${(fit.mape * 100).toFixed(1)}% mean absolute, ${fit.rmsLogError.toFixed(3)} rms log); compute and memory time add (overlap ${CALIBRATED_OVERLAP}: measured, not fitted). Bandwidth is measured. Layer classes the harness does not time (depthwise, gemm, rnn) keep modelled values; their why says so.`,
    sources: [
      `peakGmacs: nominal, not measured — ${threads} × ${round(base.peakGmacs / base.threads, 4)} GMAC/s per core (docs/latency.md: 2.445 GHz × 8 AVX2 lanes × 2 FMA pipes on this machine class); a reference scale: efficiencies are fractions of it.`,
      `bandwidthGBs: measured — sum of a 128 MiB buffer with ${threads} thread${threads > 1 ? 's' : ''}, median of 7 passes.`,
      `Timings: ${kernels} kernels compiled with \`${harness.compileCommand}\`; per kernel the median of ${rounds} to ${8 * rounds} samples taken in ${rounds} rounds over all kernels, each round after a warm-up call.`,
    ],
    overheadMs: Math.round(p.overheadMs * 1e4) / 1e4,
    overlap: Math.round(p.overlap * 1e3) / 1e3,
    planePass: {
      gbs: round(p.planeGBs!, 3),
      why: `Measured: fitted to the same ${kernels} kernels (${date}). Every generated Conv kernel except a 1×1 stride-1 unpadded one first copies its input into phase planes (codegen/conv-planes.ts: memset of the padding, a copy per row, a shuffle for stride 2) and, when plane rows are wider than output rows, copies its results out of them afterwards; these passes run before and after the arithmetic, so their bytes (planes filled, results copied) are charged at this speed on top of the max of compute and memory.`,
    },
    activationBandwidth: {
      gbs: round(p.activationGBs!, 3),
      why: `Measured: fitted to the same ${kernels} kernels (${date}). Activations are read and written from the caches (a layer's input and output fit the 32 MiB L3 and are warm, in the harness as in a model run), not at the ${start.bandwidthGBs} GB/s DRAM read bandwidth.${p.activationGBs! >= MAX_GBS * 0.999 ? ` The fit ran to its ${MAX_GBS} GB/s bound: with the plane passes and weight re-reads counted, the activations' own traffic costs nothing measurable.` : ''}`,
    },
    weightStream: {
      gbs: round(p.weightGBs!, 3),
      why: `Measured: fitted to the same ${kernels} kernels (${date}). The pixel-vector block kernel runs every block row over one super tile of output tiles (as many as keep one tile's input, all channels, within 256 KiB of L2, at most 16 and at least 96 positions) before the next, so a Conv's weights and indexes are read once per super tile: wide layers on small maps (7×7, 14×14 with 512+ channels) re-read megabytes of weights from beyond L2 several times (those that get the filter-vector kernel read them once). Those bytes are charged at this effective speed, which is below the DRAM read bandwidth: each weight is a scalar broadcast load feeding a few FMAs, so the re-reads stall the arithmetic rather than stream.`,
    },
    inputReloads: {
      gbs: round(p.reloadGBs!, 3),
      l1Bytes: start.inputReloads!.l1Bytes,
      why: `Measured: fitted to the same ${kernels} kernels (${date}); l1Bytes is this machine's L1 data cache (sysfs). The pixel-vector kernels load an input vector for every kept multiply-add of a tile, shared by the register block's filters (4, 2 or 1 of the block kernel's; 1 for the row kernels of unstructured, N:M and pattern), and when a tile's input, every channel and phase plane, is larger than L1 the fraction 1 − l1Bytes / input of those loads come from L2: their 32-byte vectors are charged at this speed, outside the max. It is why the row kernels slow down on wide layers (a 90%-unstructured 3×3 Conv from 512 channels ran at half the GMAC/s of one from 64) and pattern and 4×2 blocks with them.`,
    },
    filterVectors: {
      speedup: round(p.filterSpeedup!, 3),
      why: `Measured: fitted to the same ${kernels} kernels (${date}). Layers whose block rows are 8 or 16 filters, on small maps or with much work per output, get the block kernel's filter-vector form (codegen/emit-conv-filters.ts): it computes nothing past the map and reads each weight vector once per tile of 12 outputs, so its multiply-adds run at this multiple of the pixel-vector form's efficiency.`,
    },
    supports: { ...start.supports },
    dense,
    sparse,
  };
}
