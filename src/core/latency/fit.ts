// Fits a device profile's free parameters to measured layer times: robust least squares on
// log-time, minimise Σ ρ(log estimateLayer(layer, spec, profile(θ)).ms − log measured ms), so a 10%
// miss costs the same on a 0.05 ms layer as on a 50 ms one. ρ is the soft-L1 loss
// ρ(d) = 2s²(√(1 + (d/s)²) − 1) with s = 0.1: quadratic (plain least squares) for misses up to about
// 10%, linear beyond, so the few kernels the model cannot describe (a 3-channel stem, 2×1 blocks on
// a wide layer) do not drag every parameter towards them. θ: the dense efficiency of every layer
// class observed, floor / max / saturateAt of each block scheme observed, the kept fraction of each
// flat scheme observed, the per-layer overhead, the compute/memory overlap (unless the caller fixes
// it: calibrate does, see calibrate.ts) and the kernel terms the
// base profile has (docs/latency.md). Peak and bandwidth
// stay as given (the peak is the reference the efficiencies are fractions of; bandwidth is
// measured directly by the harness). The model is not smooth (max of two terms, min(1, …) in the block efficiency), so the minimiser is
// Nelder–Mead on an unconstrained reparametrisation that keeps every value in its valid range.

import { estimateLayer, layerClassOf, type LatencyLayer } from './estimate';
import { Prng } from '../mapper/prng';
import type { BlockEfficiency, BlockScheme, DeviceProfile, FlatScheme, LayerClass } from './profiles';

export interface BlockCurve { readonly floor: number; readonly max: number; readonly saturateAt: number }
import type { SchemeSpec } from '../schemes/scheme';

export interface Observation {
  readonly layer: LatencyLayer;
  readonly spec: SchemeSpec | 'dense';
  readonly ms: number;
}

export interface FittedParameters {
  readonly dense: Partial<Record<LayerClass, number>>;
  readonly blockPunched?: BlockCurve;
  readonly blockBcr?: BlockCurve;
  /** Kept fraction of dense efficiency per flat scheme observed (filter, channel, pattern, nm, unstructured). */
  readonly flat: Partial<Record<FlatScheme, number>>;
  readonly overheadMs: number;
  /** Fraction of the smaller of compute and memory time hidden under the larger (profiles.ts). */
  readonly overlap: number;
  /** Speed of the phase-plane passes, 10^9 B/s (fitted when the base profile has `planePass`). */
  readonly planeGBs?: number;
  /** Bandwidth of activations, 10^9 B/s (fitted when the base profile has `activationBandwidth`). */
  readonly activationGBs?: number;
  /** Speed of the weights' re-reads, 10^9 B/s (fitted when the base profile has `weightStream`). */
  readonly weightGBs?: number;
  /** Speed of input reloads from L2, 10^9 B/s (fitted when the base profile has `inputReloads`). */
  readonly reloadGBs?: number;
  /** Compute speed of the filter-vector kernel relative to the pixel-vector one (fitted when the base profile has `filterVectors`). */
  readonly filterSpeedup?: number;
}

export interface FitResult {
  readonly parameters: FittedParameters;
  /** `base` with the fitted values in place (why texts unchanged: the caller writes them). */
  readonly profile: DeviceProfile;
  /** Root mean square of log(predicted / measured) over the observations. */
  readonly rmsLogError: number;
  /** Mean |predicted − measured| / measured over the observations (in-sample). */
  readonly mape: number;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const logit = (p: number) => Math.log(p / (1 - p));
/** saturateAt = 2^(1 + 11·sigmoid(x)): between 2 and 4096 elements per block. */
const LOG2_SAT_MIN = 1, LOG2_SAT_SPAN = 11;
/** Scale of the soft-L1 loss on log-time residuals (about a 10% miss). */
const LOSS_SCALE = 0.1;
/** A fitted speed in 10^9 B/s, kept in [0.1, 1000]: 1000 means the term costs nothing measurable. */
export const MAX_GBS = 1000;
const speed = (x: number) => Math.exp(Math.min(Math.log(MAX_GBS), Math.max(Math.log(0.1), x)));
/** A fitted speed ratio, kept in [0.1, 10]. */
const ratio = (x: number) => Math.exp(Math.min(Math.log(10), Math.max(Math.log(0.1), x)));
/** Random restarts after the multi-start fit, and their size in the reparametrised space. */
const KICKS = 8, KICK_SIZE = 0.3;
const softL1 = (d: number) => 2 * LOSS_SCALE * LOSS_SCALE * (Math.sqrt(1 + (d / LOSS_SCALE) ** 2) - 1);

export interface FitOptions {
  /** Hold the compute/memory overlap at this value instead of fitting it. */
  readonly overlap?: number;
}

/** Fits `base`'s free parameters to the observations (see the file comment). */
export function fitProfile(base: DeviceProfile, observations: readonly Observation[], options: FitOptions = {}): FitResult {
  const fixedOverlap = options.overlap;
  if (observations.length === 0) throw new Error('fitProfile needs at least one observation');
  const classes = [...new Set(observations.map((o) => layerClassOf(o.layer)))].sort() as LayerClass[];
  const schemes = new Set(observations.map((o) => (o.spec === 'dense' ? 'dense' : o.spec.scheme)));
  const curves = (['block-punched', 'block-bcr'] as BlockScheme[]).filter((s) => schemes.has(s));
  const flats = (['filter', 'channel', 'pattern', 'nm', 'unstructured'] as FlatScheme[]).filter((s) => schemes.has(s));
  const hasBlock = curves.length > 0;

  // θ = [logit eff per class…, (logit max, logit floor/max, sat) per block scheme, logit keep per
  //      flat scheme, log overhead, logit overlap (unless fixed), kernel terms…]
  const decode = (x: readonly number[]): FittedParameters => {
    const dense: Partial<Record<LayerClass, number>> = {};
    classes.forEach((c, i) => (dense[c] = sigmoid(x[i])));
    let i = classes.length;
    const curve = (): BlockCurve => {
      const max = sigmoid(x[i++]);
      const floor = max * sigmoid(x[i++]);
      const saturateAt = 2 ** (LOG2_SAT_MIN + LOG2_SAT_SPAN * sigmoid(x[i++]));
      return { floor, max, saturateAt };
    };
    const blockPunched = curves.includes('block-punched') ? curve() : undefined;
    const blockBcr = curves.includes('block-bcr') ? curve() : undefined;
    const flat: Partial<Record<FlatScheme, number>> = {};
    for (const s of flats) flat[s] = sigmoid(x[i++]);
    const overheadMs = Math.exp(x[i++]);
    const overlap = fixedOverlap ?? sigmoid(x[i++]);
    const planeGBs = base.planePass ? speed(x[i++]) : undefined;
    const activationGBs = base.activationBandwidth ? speed(x[i++]) : undefined;
    const weightGBs = base.weightStream ? speed(x[i++]) : undefined;
    const filterSpeedup = base.filterVectors ? ratio(x[i++]) : undefined;
    const reloadGBs = base.inputReloads ? speed(x[i++]) : undefined;
    return { dense, blockPunched, blockBcr, flat, overheadMs, overlap, planeGBs, activationGBs, weightGBs, filterSpeedup, reloadGBs };
  };
  const loss = (x: readonly number[]) => {
    const p = withParameters(base, decode(x));
    let sum = 0;
    for (const o of observations) {
      sum += softL1(Math.log(estimateLayer(o.layer, o.spec, p).ms / o.ms));
    }
    return sum / observations.length;
  };

  // Several starts for the block curve (the loss has local minima along saturateAt), each refined
  // by restarts from its best point: Nelder–Mead's simplex can collapse before the minimum.
  const starts = (hasBlock ? [3, 6, 9] : [0]).map((log2Sat) => {
    const x: number[] = classes.map(() => logit(0.5));
    for (const _ of curves) x.push(logit(0.9), logit(0.6), logit((log2Sat - LOG2_SAT_MIN) / LOG2_SAT_SPAN));
    for (const _ of flats) x.push(logit(0.6));
    x.push(Math.log(Math.max(1e-4, base.overheadMs)));
    if (fixedOverlap === undefined) x.push(logit(0.5));
    if (base.planePass) x.push(Math.log(base.planePass.gbs));
    if (base.activationBandwidth) x.push(Math.log(base.activationBandwidth.gbs));
    if (base.weightStream) x.push(Math.log(base.weightStream.gbs));
    if (base.filterVectors) x.push(Math.log(base.filterVectors.speedup));
    if (base.inputReloads) x.push(Math.log(base.inputReloads.gbs));
    return x;
  });
  let best = { x: starts[0], f: Infinity };
  for (const start of starts) {
    let local = { x: start, f: loss(start) };
    for (let restart = 0; restart < 20; restart++) {
      const r = nelderMead(loss, local.x, restart === 0 ? 1.5 : 0.5, 400 * local.x.length);
      const improved = local.f - r.f;
      if (r.f < local.f) local = r;
      if (restart > 1 && improved < 1e-12) break;
    }
    if (local.f < best.f) best = local;
  }
  // Kicks: the simplex settles in shallow local minima of this non-smooth loss (the max of two terms);
  // restarting it from seeded random perturbations of the best point, keeping only improvements,
  // gets out of them (a fit to noiseless formula timings then recovers the true parameters).
  const random = new Prng(1);
  for (let kick = 0; kick < KICKS; kick++) {
    const x = best.x.map((v) => v + KICK_SIZE * random.normal());
    const r = nelderMead(loss, x, 0.5, 400 * x.length);
    if (r.f < best.f) best = nelderMead(loss, r.x, 0.5, 400 * x.length);
  }
  const parameters = decode(best.x);
  const profile = withParameters(base, parameters);
  let abs = 0;
  for (const o of observations) abs += Math.abs(estimateLayer(o.layer, o.spec, profile).ms - o.ms) / o.ms;
  let squares = 0;
  for (const o of observations) squares += Math.log(estimateLayer(o.layer, o.spec, profile).ms / o.ms) ** 2;
  return { parameters, profile, rmsLogError: Math.sqrt(squares / observations.length), mape: abs / observations.length };
}

/** `base` with fitted values substituted (classes and block parameters that were not fitted keep base's). */
export function withParameters(base: DeviceProfile, f: FittedParameters): DeviceProfile {
  const dense = { ...base.dense };
  for (const [c, eff] of Object.entries(f.dense) as [LayerClass, number][]) dense[c] = { ...dense[c], eff };
  const curve = (s: BlockScheme, c: BlockCurve | undefined): BlockEfficiency => (c ? { ...base.sparse[s], ...c } : base.sparse[s]);
  const sparse = { ...base.sparse, 'block-punched': curve('block-punched', f.blockPunched), 'block-bcr': curve('block-bcr', f.blockBcr) };
  for (const [s, keep] of Object.entries(f.flat ?? {}) as [FlatScheme, number][]) sparse[s] = { ...sparse[s], keep };
  const planePass = base.planePass && f.planeGBs !== undefined ? { ...base.planePass, gbs: f.planeGBs } : base.planePass;
  const activationBandwidth = base.activationBandwidth && f.activationGBs !== undefined ? { ...base.activationBandwidth, gbs: f.activationGBs } : base.activationBandwidth;
  const weightStream = base.weightStream && f.weightGBs !== undefined ? { ...base.weightStream, gbs: f.weightGBs } : base.weightStream;
  const filterVectors = base.filterVectors && f.filterSpeedup !== undefined ? { ...base.filterVectors, speedup: f.filterSpeedup } : base.filterVectors;
  const inputReloads = base.inputReloads && f.reloadGBs !== undefined ? { ...base.inputReloads, gbs: f.reloadGBs } : base.inputReloads;
  return { ...base, overheadMs: f.overheadMs, overlap: f.overlap, planePass, activationBandwidth, weightStream, inputReloads, filterVectors, dense, sparse };
}

/** Nelder–Mead simplex minimisation (standard coefficients), from x0 with initial step `step`. */
export function nelderMead(f: (x: readonly number[]) => number, x0: readonly number[], step: number, maxEvaluations: number): { x: number[]; f: number } {
  const n = x0.length;
  let simplex = [x0.slice(), ...x0.map((_, i) => x0.map((v, j) => (i === j ? v + step : v)))].map((x) => ({ x, f: f(x) }));
  let evaluations = simplex.length;
  const combine = (a: readonly number[], b: readonly number[], t: number) => a.map((v, i) => v + t * (b[i] - v));
  while (evaluations < maxEvaluations) {
    simplex.sort((a, b) => a.f - b.f);
    const bestF = simplex[0].f, worst = simplex[n];
    if (Math.abs(worst.f - bestF) <= 1e-14 * (1 + Math.abs(bestF)) && spread(simplex.map((s) => s.x)) < 1e-9) break;
    const centroid = Array.from({ length: n }, (_, i) => simplex.slice(0, n).reduce((s, p) => s + p.x[i], 0) / n);
    const reflected = combine(centroid, worst.x, -1);
    const fr = f(reflected); evaluations++;
    if (fr < bestF) {
      const expanded = combine(centroid, worst.x, -2);
      const fe = f(expanded); evaluations++;
      simplex[n] = fe < fr ? { x: expanded, f: fe } : { x: reflected, f: fr };
    } else if (fr < simplex[n - 1].f) {
      simplex[n] = { x: reflected, f: fr };
    } else {
      const outside = fr < worst.f;
      const contracted = combine(centroid, outside ? reflected : worst.x, 0.5);
      const fc = f(contracted); evaluations++;
      if (fc < (outside ? fr : worst.f)) simplex[n] = { x: contracted, f: fc };
      else {
        const b = simplex[0].x;
        simplex = simplex.map((s, i) => (i === 0 ? s : (() => { const x = combine(b, s.x, 0.5); evaluations++; return { x, f: f(x) }; })()));
      }
    }
  }
  simplex.sort((a, b) => a.f - b.f);
  return { x: simplex[0].x, f: simplex[0].f };
}

function spread(points: readonly (readonly number[])[]): number {
  let s = 0;
  for (const p of points) for (let i = 0; i < p.length; i++) s = Math.max(s, Math.abs(p[i] - points[0][i]));
  return s;
}
