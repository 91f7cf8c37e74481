// Device profiles for the latency model (DOMAIN.md §6): one JSON file per device in ./profiles,
// loaded and checked here. Every figure in them is modelled (from published specifications plus
// our own efficiency design, stated with a "why" next to each number), never measured unless the
// profile's `basis` says so. docs/latency.md explains the fields and the numbers.

import adreno640Gpu from './profiles/adreno640-gpu.json';
import hostCpu from './profiles/host-cpu.json';
import snapdragon855Cpu from './profiles/snapdragon855-cpu.json';
import snapdragon865Cpu from './profiles/snapdragon865-cpu.json';

/** What the latency model distinguishes about a layer: its kernel family. */
export type LayerClass = 'conv3x3' | 'conv1x1' | 'conv' | 'depthwise' | 'gemm' | 'rnn';
export const layerClasses: readonly LayerClass[] = ['conv3x3', 'conv1x1', 'conv', 'depthwise', 'gemm', 'rnn'];

/** Sparse schemes whose efficiency is one fraction of dense. */
export type FlatScheme = 'filter' | 'channel' | 'pattern' | 'nm' | 'unstructured';
/** Sparse schemes whose efficiency depends on the block size. */
export type BlockScheme = 'block-punched' | 'block-bcr';

export interface Reasoned {
  readonly why: string;
}

/**
 * Block efficiency: keep(bf, bc) = floor + (max − floor) · min(1, log2(bf·bc) / log2(saturateAt)),
 * rising with the block's size and flat once bf·bc ≥ saturateAt (SIMD width × register tile).
 */
export interface BlockEfficiency extends Reasoned {
  readonly floor: number;
  readonly max: number;
  readonly saturateAt: number;
}

export interface DeviceProfile {
  readonly id: string;
  readonly name: string;
  readonly kind: 'cpu' | 'gpu';
  /** "modelled": derived from specifications and design choices; "measured": fitted to timings on the device. */
  readonly basis: 'modelled' | 'measured';
  readonly basisNote: string;
  /** Where the peak and bandwidth figures come from. */
  readonly sources: readonly string[];
  /** Threads (CPU) the peak is for. */
  readonly threads: number;
  /** Peak fp32 multiply-accumulates per second, in 10^9, at `threads`. */
  readonly peakGmacs: number;
  /** Sustained memory bandwidth, 10^9 bytes per second. */
  readonly bandwidthGBs: number;
  /** Fixed cost per layer (dispatch, kernel launch), milliseconds. */
  readonly overheadMs: number;
  /**
   * How much of the smaller of the compute and memory terms hides under the larger, in [0, 1]:
   * T = max(c, m) + (1 − overlap) · min(c, m). Absent means 1 (full overlap, T = max(c, m)): the
   * modelled profiles' assumption. A measured profile fits it (the generated kernels copy their
   * input into planes in a pass of its own, which computation does not hide).
   */
  readonly overlap?: number;
  /**
   * Measured profiles only (both optional; absent = the plain formula, as in every modelled
   * profile): the generated Conv kernels' own cost structure (docs/latency.md "Kernel terms").
   */
  /** Speed of the input-reorganisation passes (phase-plane fill, copy-out of padded rows), 10^9 B/s of plane bytes. */
  readonly planePass?: { readonly gbs: number } & Reasoned;
  /** Bandwidth activations move at (they stay in the last-level cache), 10^9 B/s; absent = bandwidthGBs. */
  readonly activationBandwidth?: { readonly gbs: number } & Reasoned;
  /** Speed weights are re-read at, once per super tile of a Conv's output, 10^9 B/s; absent = read once at bandwidthGBs. */
  readonly weightStream?: { readonly gbs: number } & Reasoned;
  /** Speed input vectors are reloaded at when one tile's input, every channel, overflows the L1 of `l1Bytes`, 10^9 B/s of vectors loaded; absent = never. */
  readonly inputReloads?: { readonly gbs: number; readonly l1Bytes: number } & Reasoned;
  /** Compute efficiency of codegen's filter-vector Conv kernel relative to the pixel-vector one (a factor on eff); absent = 1. */
  readonly filterVectors?: { readonly speedup: number } & Reasoned;
  /** fp32 lanes of one SIMD instruction (CPU) or of one wave (GPU). */
  readonly simdLanes: number;
  /** Which kernel families the target's code generator supports. */
  readonly supports: { readonly pattern: boolean; readonly nm: boolean } & Reasoned;
  /** Fraction of peak a dense kernel reaches, per layer class. */
  readonly dense: Readonly<Record<LayerClass, { readonly eff: number } & Reasoned>>;
  /** Fraction of the dense efficiency each sparse kernel keeps. */
  readonly sparse: Readonly<Record<FlatScheme, { readonly keep: number } & Reasoned> & Record<BlockScheme, BlockEfficiency>>;
}

const flatSchemes: readonly FlatScheme[] = ['filter', 'channel', 'pattern', 'nm', 'unstructured'];
const blockSchemes: readonly BlockScheme[] = ['block-punched', 'block-bcr'];

/** Checks a parsed profile's shape and ranges; throws naming the first bad field. */
export function parseProfile(json: unknown): DeviceProfile {
  const where = (o: unknown) => (o && typeof o === 'object' && typeof (o as { id?: unknown }).id === 'string' ? (o as { id: string }).id : 'profile');
  const id = where(json);
  const fail = (field: string, what: string): never => {
    throw new Error(`device profile ${id}: ${field} ${what}`);
  };
  const obj = (v: unknown, field: string): Record<string, unknown> =>
    v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : fail(field, 'must be an object');
  const num = (v: unknown, field: string, min: number, max: number, minExclusive = true): number => {
    if (typeof v !== 'number' || !Number.isFinite(v) || (minExclusive ? v <= min : v < min) || v > max) {
      fail(field, `must be a number in ${minExclusive ? '(' : '['}${min}, ${max}]`);
    }
    return v as number;
  };
  const str = (v: unknown, field: string): string => (typeof v === 'string' && v.length > 0 ? v : fail(field, 'must be a non-empty string'));
  const p = obj(json, 'profile');
  str(p.id, 'id');
  str(p.name, 'name');
  if (p.kind !== 'cpu' && p.kind !== 'gpu') fail('kind', 'must be "cpu" or "gpu"');
  if (p.basis !== 'modelled' && p.basis !== 'measured') fail('basis', 'must be "modelled" or "measured"');
  str(p.basisNote, 'basisNote');
  if (!Array.isArray(p.sources) || p.sources.length === 0) fail('sources', 'must be a non-empty list');
  (p.sources as unknown[]).forEach((s, i) => str(s, `sources[${i}]`));
  num(p.threads, 'threads', 0, 1024);
  num(p.peakGmacs, 'peakGmacs', 0, 1e6);
  num(p.bandwidthGBs, 'bandwidthGBs', 0, 1e5);
  num(p.overheadMs, 'overheadMs', 0, 1000, false);
  if (p.overlap !== undefined) num(p.overlap, 'overlap', 0, 1, false);
  for (const k of ['planePass', 'activationBandwidth', 'weightStream', 'inputReloads'] as const) {
    if (p[k] === undefined) continue;
    const t = obj(p[k], k);
    num(t.gbs, `${k}.gbs`, 0, 1e5);
    str(t.why, `${k}.why`);
  }
  if (p.inputReloads !== undefined) num(obj(p.inputReloads, 'inputReloads').l1Bytes, 'inputReloads.l1Bytes', 0, 1 << 30);
  if (p.filterVectors !== undefined) {
    const t = obj(p.filterVectors, 'filterVectors');
    num(t.speedup, 'filterVectors.speedup', 0, 100);
    str(t.why, 'filterVectors.why');
  }
  num(p.simdLanes, 'simdLanes', 0, 4096);
  const supports = obj(p.supports, 'supports');
  for (const k of ['pattern', 'nm']) if (typeof supports[k] !== 'boolean') fail(`supports.${k}`, 'must be true or false');
  str(supports.why, 'supports.why');
  const dense = obj(p.dense, 'dense');
  for (const c of layerClasses) {
    const e = obj(dense[c], `dense.${c}`);
    num(e.eff, `dense.${c}.eff`, 0, 1);
    str(e.why, `dense.${c}.why`);
  }
  const sparse = obj(p.sparse, 'sparse');
  for (const s of flatSchemes) {
    const e = obj(sparse[s], `sparse.${s}`);
    num(e.keep, `sparse.${s}.keep`, 0, 1);
    str(e.why, `sparse.${s}.why`);
  }
  for (const s of blockSchemes) {
    const e = obj(sparse[s], `sparse.${s}`);
    const floor = num(e.floor, `sparse.${s}.floor`, 0, 1);
    num(e.max, `sparse.${s}.max`, floor, 1, false);
    num(e.saturateAt, `sparse.${s}.saturateAt`, 1, 1 << 20);
    str(e.why, `sparse.${s}.why`);
  }
  return json as DeviceProfile;
}

const builtIn: readonly DeviceProfile[] = [hostCpu, snapdragon855Cpu, adreno640Gpu, snapdragon865Cpu].map(parseProfile);

/** Ids of the built-in profiles, in a stable order. */
export const profileIds: readonly string[] = builtIn.map((p) => p.id);

/** The target the mapper uses when none is given: the phone CPU this research line measured on. */
export const defaultTarget = 'snapdragon855-cpu';

/** The built-in profile with this id, or undefined. */
export function getProfile(id: string): DeviceProfile | undefined {
  return builtIn.find((p) => p.id === id);
}

/** Every built-in profile. */
export function allProfiles(): readonly DeviceProfile[] {
  return builtIn;
}
