// The rule-based mapper (DOMAIN.md §4, our reconstruction): a pruning scheme, block size and rate
// for every prunable layer, each with the reason the UI shows, and the latency model's estimate.
//   R0 leave dense: the first conv when it reads a raw image (C ≤ 4 input channels), depthwise convs,
//      and small layers (< 0.5% of the model's MACs and < 0.5% of its weights each, at most 2% of
//      either together). Prune lightly (rate ≤ 0.5): the output layers (the final classifier),
//      unless they are small (then dense) or the target compression is out of reach with the cap
//      (then it is lifted, and the reason says so).
//   R1 3×3 conv, group 1 → pattern + connectivity when the target has pattern kernels, else block-punched.
//   R2 1×1 conv, FC, other kernels, grouped convs, RNN matrices → block-punched.
//      When no block fits a layer: block-bcr, then filter, then channel pruning (each only when the
//      graph stays consistent, see graph-deps.ts), else dense — every fallback says why.
//   R3 block: among the feasible candidates (those dividing F and C when any does), the smallest
//      whose predicted speedup at the layer's rate is within 5% of the best candidate's.
//   R4 rates: the target compression over all prunable weights, spread by size and position
//      (rates.ts), capped at 0.95 (0.5 for lightly pruned layers), ≥ 5/9 for pattern layers.
// Every chosen spec passes its scheme's feasibility check; a layer whose spec would not is left
// dense with the scheme's reason, and the rates are solved again.

import { ModelError } from '../errors';
import type { Layer } from '../layers';
import { estimateLayer, layerClassOf, type LayerEstimate } from '../latency/estimate';
import { getProfile, profileIds, type DeviceProfile } from '../latency/profiles';
import type { Model } from '../onnx/model';
import type { TensorReader } from '../onnx/tensor-data';
import type { Plan, PlanLayer } from '../plan';
import { getScheme } from '../schemes/registry';
import type { Feasibility, LayerGeometry, SchemeId, SchemeSpec } from '../schemes/scheme';
import { geometryOf } from '../schemes/weight-matrix';
import { GraphDeps, type LayerPosition } from './graph-deps';
import { patternLibraryOf } from './pattern-library';
import { solveRates } from './rates';

export type Block = readonly [number, number];

export interface MapOptions {
  /** Device profile id (src/core/latency/profiles). */
  readonly target: string;
  /** Prunable weights before / after; > 1. Default 4 (overall rate 0.75). */
  readonly compression?: number;
  /** Block sizes R3 chooses from, [filters, channels]. */
  readonly blockCandidates?: readonly Block[];
  /** The plan's `model` (the file's base name) and `modelSha256`. */
  readonly modelName?: string;
  readonly modelSha256?: string;
  /** At most this many 3×3 kernels are counted to choose the pattern library (pattern-library.ts). */
  readonly patternSample?: number;
}

/** The rule set's constants (docs/cli.md "map" explains each). */
export const ruleConstants = {
  compression: 4,
  blockCandidates: [[4, 2], [4, 4], [8, 4], [8, 8], [16, 4], [16, 8]] as readonly Block[],
  /** Highest rate of any layer: beyond it accuracy collapses without long retraining. */
  rateCap: 0.95,
  /** Highest rate of a lightly pruned layer (R0). */
  lightCap: 0.5,
  /** R0 "small layer": below this share of the model's MACs and of its weights… */
  smallShare: 0.005,
  /** …while all small layers together stay below this share of both. */
  smallTotal: 0.02,
  /** R0 "first conv": reads the raw input with at most this many channels (RGB, grey, RGBA). */
  firstConvMaxChannels: 4,
  /** Pattern library size (PatDNN used 6–8). */
  patterns: 8,
  /** R3: a block within this fraction of the best predicted speedup is good enough. */
  blockTolerance: 0.05,
  /** Kernels counted for the pattern library (keeps ResNet-50 under 50 ms). */
  patternSample: 1024,
  patternFloor: 5 / 9,
} as const;

type Kind = 'dense' | 'pattern' | 'block-punched' | 'block-bcr' | 'filter' | 'channel';

interface Decision {
  readonly layer: Layer;
  readonly geometry: LayerGeometry;
  readonly weights: number;
  readonly position: LayerPosition | undefined;
  kind: Kind;
  /** R0: lightly pruned (rate ≤ lightCap). */
  light: boolean;
  /** R0 name of a lightly pruned layer ("final classifier"). */
  role?: string;
  /** The light cap was lifted because the target was out of reach with it; the compression it allowed. */
  lifted?: number;
  /** Why this scheme (R1/R2 and any fallback). */
  why: string;
  /** Block schemes: the candidates R3 chooses from. */
  blocks?: Block[];
  /** Feasible candidates left out because they do not divide the layer while others do. */
  notDividing?: Block[];
  sizeFactor: number;
  positionFactor: number;
  rate: number;
  dense?: LayerEstimate;
}

interface Context {
  readonly profile: DeviceProfile;
  readonly deps: GraphDeps;
  readonly candidates: readonly Block[];
  readonly target: number;
  readonly totalMacs: number;
  readonly totalWeights: number;
  readonly roles: Map<Layer, Role>;
  readonly small: Set<Layer>;
}

interface Chosen {
  readonly spec: SchemeSpec;
  /** R3's reason, for block schemes. */
  readonly blockWhy?: string;
}

/** The rule-based plan for a model: one entry per layer (dense ones included), with a summary. */
export function mapModel(model: Model, layers: readonly Layer[], tensors: TensorReader, options: MapOptions): Plan {
  const profile = getProfile(options.target);
  if (!profile) throw new Error(`unknown target "${options.target}"; known targets: ${profileIds.join(', ')}`);
  const target = options.compression ?? ruleConstants.compression;
  if (!(typeof target === 'number' && target > 1 && Number.isFinite(target))) throw new Error(`compression must be a number > 1, not ${target}`);
  const candidates = options.blockCandidates ?? ruleConstants.blockCandidates;
  for (const b of candidates) {
    if (!(b.length === 2 && b.every((x) => Number.isInteger(x) && x > 0))) throw new Error(`block candidate [${b.join(', ')}] is not two positive integers`);
  }
  const modelName = options.modelName ?? (model.graph.name || 'model');
  if (!layers.length) {
    throw new ModelError('no prunable layers', modelName, 'Only Conv, ConvTranspose, Gemm, MatMul, LSTM, GRU and RNN nodes with constant weights can be pruned; this model has none.');
  }
  const deps = new GraphDeps(model, layers);
  const geometries = new Map(layers.map((l) => [l, geometryOf(l)]));
  const totalMacs = layers.reduce((n, l) => n + l.macs, 0);
  const totalWeights = layers.reduce((n, l) => n + weightsOf(geometries.get(l) as LayerGeometry), 0);
  const roles = rolesOf(layers, deps);
  const small = smallLayers(layers, roles, geometries, totalMacs, totalWeights);
  const ctx: Context = { profile, deps, candidates, target, totalMacs, totalWeights, roles, small };

  const decisions = layers.map((l) => ruleZero(l, geometries.get(l) as LayerGeometry, ctx));
  for (const d of decisions) if (d.kind !== 'dense') assignScheme(d, ctx, true);

  // R4, then R3 and the final feasibility check; a layer that fails it goes dense and R4 runs again.
  let specs: Map<Decision, Chosen>;
  let library: number[] = [];
  for (;;) {
    solveRatesFor(decisions, ctx, modelName);
    const patternLayers = decisions.filter((d) => d.kind === 'pattern').map((d) => d.layer);
    if (patternLayers.length) {
      library = patternLibraryOf(patternLayers, tensors, ruleConstants.patterns, options.patternSample ?? ruleConstants.patternSample).library;
    }
    specs = new Map();
    let failed = false;
    for (const d of decisions) {
      if (d.kind === 'dense') continue;
      const chosen = specFor(d, ctx, library);
      const f = check(d.kind, d.geometry, chosen.spec);
      if (!f.ok) {
        Object.assign(d, { kind: 'dense', light: false, role: undefined, why: `${d.why}, but ${f.reason}; left dense` });
        failed = true;
        break;
      }
      specs.set(d, chosen);
    }
    if (!failed) break;
  }

  const entries: Record<string, PlanLayer> = {};
  let denseMs = 0, prunedMs = 0, allWeights = 0, keptWeights = 0;
  for (const d of decisions) {
    const chosen = specs.get(d);
    const spec = chosen?.spec;
    const dense = denseEstimate(d, profile);
    const pruned = spec ? estimateLayer(d.layer, spec, profile) : dense;
    denseMs += dense.ms;
    prunedMs += pruned.ms;
    allWeights += d.weights;
    keptWeights += d.weights * (1 - (spec?.rate ?? 0));
    const latency = { denseMs: round(dense.ms), prunedMs: round(pruned.ms) };
    const reason = [roleWhy(d), d.why, chosen?.blockWhy, spec ? rateWhy(d) : undefined].filter(Boolean).join('; ');
    entries[d.layer.id] = spec ? { ...spec, reason, latency } : { scheme: 'dense', rate: 0, reason, latency };
  }
  const compression = keptWeights > 0 ? allWeights / keptWeights : Infinity;
  return {
    model: modelName,
    ...(options.modelSha256 ? { modelSha256: options.modelSha256 } : {}),
    target: profile.id,
    layers: entries,
    summary: { denseMs: round(denseMs), prunedMs: round(prunedMs), speedup: round(denseMs / prunedMs), compression: round(compression) },
  };
}

/** R0: which layers stay dense or are pruned lightly, and why. */
function ruleZero(layer: Layer, geometry: LayerGeometry, ctx: Context): Decision {
  const weights = weightsOf(geometry);
  const position = ctx.deps.position(layer);
  const d: Decision = { layer, geometry, weights, position, kind: 'block-punched', light: false, why: '', sizeFactor: 1, positionFactor: 1, rate: 0 };
  const dense = (why: string) => Object.assign(d, { kind: 'dense' as const, why });
  const role = ctx.roles.get(layer);
  const smallWhy = () => {
    const macShare = ctx.totalMacs > 0 ? layer.macs / ctx.totalMacs : 0;
    const weightShare = ctx.totalWeights > 0 ? weights / ctx.totalWeights : 0;
    return `only ${pct(macShare)} of MACs and ${pct(weightShare)} of weights`;
  };
  switch (role) {
    case 'first-conv': {
      const c = layer.weightShape[1] * layer.group;
      return dense(`first layer: reads the raw input (${c} channel${c === 1 ? '' : 's'}); pruning it costs accuracy for little speed; left dense`);
    }
    case 'depthwise': {
      const k = layer.kernel.reduce((a, b) => a * b, 1);
      return dense(`depthwise conv: one ${layer.kernel.join('×')} kernel per channel (${k} weights per filter) leaves no blocks or patterns to exploit, and its MACs are few; left dense`);
    }
    case 'output': {
      const name = outputName(layer);
      if (ctx.small.has(layer)) return dense(`${name}: writes the model's output, and ${smallWhy()}; left dense`);
      d.light = true;
      d.role = name;
      return d;
    }
    default:
      return ctx.small.has(layer) ? dense(`small layer: ${smallWhy()}; pruning it saves little; left dense`) : d;
  }
}

function outputName(layer: Layer): string {
  return layer.op === 'Gemm' || layer.op === 'MatMul' ? 'final classifier' : 'output layer';
}

type Role = 'first-conv' | 'depthwise' | 'output';

/** R0 roles: the first conv on a raw image, depthwise convs, the output layers (the classifier). */
function rolesOf(layers: readonly Layer[], deps: GraphDeps): Map<Layer, Role> {
  const roles = new Map<Layer, Role>();
  const outputs = layers.filter((l) => deps.position(l)?.after === 0);
  // No layer writes a model output directly (e.g. a post-processing op reads it): the last Gemm/MatMul.
  if (!outputs.length) {
    const lastFc = [...layers].reverse().find((l) => l.op === 'Gemm' || l.op === 'MatMul');
    if (lastFc) outputs.push(lastFc);
  }
  for (const l of layers) {
    if (l.op === 'Conv' && deps.position(l)?.before === 0 && l.weightShape[1] * l.group <= ruleConstants.firstConvMaxChannels) roles.set(l, 'first-conv');
    else if (layerClassOf(l) === 'depthwise') roles.set(l, 'depthwise');
    else if (outputs.includes(l)) roles.set(l, 'output');
  }
  return roles;
}

/**
 * R0 small layers: under 0.5% of the model's MACs and under 0.5% of its weights each, smallest
 * (by MACs) first, while together they stay within 2% of the MACs and 2% of the weights — so a
 * model of many small layers (DenseNet) does not leave a big part of itself dense.
 */
function smallLayers(layers: readonly Layer[], roles: Map<Layer, Role>, geometries: Map<Layer, LayerGeometry>, totalMacs: number, totalWeights: number): Set<Layer> {
  const shares = layers
    .filter((l) => roles.get(l) !== 'first-conv' && roles.get(l) !== 'depthwise')
    .map((l) => ({ l, mac: totalMacs > 0 ? l.macs / totalMacs : 0, w: totalWeights > 0 ? weightsOf(geometries.get(l) as LayerGeometry) / totalWeights : 0 }))
    .filter((x) => x.mac < ruleConstants.smallShare && x.w < ruleConstants.smallShare)
    .sort((a, b) => a.mac - b.mac || a.w - b.w);
  const small = new Set<Layer>();
  let mac = 0, w = 0;
  for (const x of shares) {
    if (mac + x.mac > ruleConstants.smallTotal || w + x.w > ruleConstants.smallTotal) break;
    mac += x.mac;
    w += x.w;
    small.add(x.l);
  }
  return small;
}

/** R1/R2 and the fallbacks: the scheme family of a layer that R0 lets be pruned. */
function assignScheme(d: Decision, ctx: Context, allowPattern: boolean, noPatternWhy?: string): void {
  const l = d.layer;
  const what = describeLayer(l);
  const is3x3 = l.op === 'Conv' && layerClassOf(l) === 'conv3x3' && l.group === 1;
  const skipped: string[] = [];
  if (is3x3) {
    if (!ctx.profile.supports.pattern) skipped.push(`${ctx.profile.id} has no pattern kernels`);
    else if (d.light) skipped.push('pattern pruning removes at least 5/9, more than a lightly pruned layer may lose');
    else if (!allowPattern) skipped.push(noPatternWhy ?? 'pattern pruning not allowed');
    else {
      const f = check('pattern', d.geometry, { scheme: 'pattern', rate: 0.75, patterns: ruleConstants.patterns });
      if (f.ok) {
        Object.assign(d, { kind: 'pattern', why: `${what} → pattern + connectivity (R1)`, blocks: undefined });
        return;
      }
      skipped.push(`pattern: ${f.reason}`);
    }
  }
  const via = skipped.length ? ` (${skipped.join('; ')})` : '';
  const rule = is3x3 ? 'R1' : 'R2';
  for (const kind of ['block-punched', 'block-bcr'] as const) {
    const fit = feasibleBlocks(kind, d, ctx);
    if (typeof fit !== 'string') {
      const because = kind === 'block-bcr' ? `${via ? `${via.slice(0, -1)}; ` : ' ('}no block-punched candidate fits)` : via;
      Object.assign(d, { kind, why: `${what}${because} → ${kind} (${rule})`, blocks: fit.blocks, notDividing: fit.notDividing });
      return;
    }
    skipped.push(`${kind}: ${fit}`);
  }
  // Coarse structured pruning only where the graph stays consistent once channels are removed.
  const structured: [Kind, ReturnType<GraphDeps['filterDependency']>][] = [
    ['filter', ctx.deps.filterDependency(l)],
    ['channel', ctx.deps.channelDependency(l)],
  ];
  for (const [kind, dep] of structured) {
    if (!dep.ok) {
      skipped.push(`${kind} pruning: ${dep.reason}`);
      continue;
    }
    const f = check(kind, d.geometry, { scheme: kind as SchemeId, rate: 0.5 });
    if (f.ok) {
      Object.assign(d, { kind, why: `${what}: no block fits (${skipped.join('; ')}) → ${kind} pruning, which keeps the graph consistent here`, blocks: undefined });
      return;
    }
    skipped.push(`${kind}: ${f.reason}`);
  }
  const beats = 1 - ctx.profile.sparse.unstructured.keep;
  Object.assign(d, {
    kind: 'dense',
    light: false,
    role: undefined,
    blocks: undefined,
    why: `${what}: no structured scheme fits (${skipped.join('; ')}); unstructured pruning beats dense only above ${pct(beats)} sparsity on ${ctx.profile.id}; left dense`,
  });
}

/** The candidates a block scheme accepts for this layer (those dividing F and C when any does), or why none. */
function feasibleBlocks(kind: 'block-punched' | 'block-bcr', d: Decision, ctx: Context): { blocks: Block[]; notDividing: Block[] } | string {
  const ok: Block[] = [];
  let first: string | undefined;
  for (const b of ctx.candidates) {
    const f = check(kind, d.geometry, { scheme: kind, rate: 0.5, block: b });
    if (f.ok) ok.push(b);
    else first ??= f.reason;
  }
  if (!ok.length) return first ?? 'no block candidates';
  const divides = (b: Block) =>
    d.geometry.matrices.every((m) => m.rows % b[0] === 0 && (kind === 'block-punched' ? m.channels : m.channels * m.kernel) % b[1] === 0);
  const dividing = ok.filter(divides);
  return dividing.length ? { blocks: dividing, notDividing: ok.filter((b) => !divides(b)) } : { blocks: ok, notDividing: [] };
}

/** R4 over the current decisions; converts pattern layers to block-punched when their 5/9 floor is too much. */
function solveRatesFor(decisions: Decision[], ctx: Context, modelName: string): void {
  for (;;) {
    const pruned = decisions.filter((d) => d.kind !== 'dense');
    const denseWeights = decisions.filter((d) => d.kind === 'dense').reduce((n, d) => n + d.weights, 0);
    // Size: (w / geometric mean of the pruned layers' weights)^¼, within [0.5, 2].
    const logMean = pruned.reduce((n, d) => n + Math.log(Math.max(1, d.weights)), 0) / Math.max(1, pruned.length);
    for (const d of pruned) {
      d.sizeFactor = clamp(Math.exp((Math.log(Math.max(1, d.weights)) - logMean) / 4), 0.5, 2);
      const near = d.position ? Math.min(d.position.before, d.position.after) : Infinity;
      d.positionFactor = near <= 0 ? 0.6 : near === 1 ? 0.8 : 1;
    }
    const inputs = pruned.map((d) => ({
      weights: d.weights,
      strength: d.sizeFactor * d.positionFactor,
      floor: d.kind === 'pattern' ? ruleConstants.patternFloor : 0,
      cap: d.light ? ruleConstants.lightCap : ruleConstants.rateCap,
    }));
    const solution = solveRates(inputs, denseWeights, ctx.target);
    if (solution.ok) {
      pruned.forEach((d, i) => (d.rate = roundRate(solution.rates[i], inputs[i].floor, inputs[i].cap)));
      return;
    }
    if (solution.problem === 'caps' && pruned.some((d) => d.light)) {
      // R0's light pruning yields to the target: lift the caps and let R1/R2 choose again.
      for (const d of pruned) {
        if (!d.light) continue;
        Object.assign(d, { light: false, lifted: solution.compression });
        assignScheme(d, ctx, true);
      }
      continue;
    }
    if (solution.problem === 'caps') {
      const left = decisions.length - pruned.length;
      throw new ModelError(
        `compression ${round(ctx.target)}× is out of reach for the rule-based mapper`,
        modelName,
        `The most it gives is ${solution.compression.toFixed(2)}× (rate cap ${ruleConstants.rateCap} per layer, ${left} of ${decisions.length} layers left dense); ask for less.`,
      );
    }
    // The pattern floors alone prune more than asked: the weakest pattern layer goes block-punched.
    const victim = pruned.filter((d) => d.kind === 'pattern').sort((a, b) => a.sizeFactor * a.positionFactor - b.sizeFactor * b.positionFactor || a.weights - b.weights)[0];
    if (!victim) throw new Error('rate floors exceed the target without pattern layers');
    assignScheme(victim, ctx, false, `compression ${round(ctx.target)}× needs rates below the 5/9 that pattern pruning always removes`);
  }
}

/** The final spec of a pruned layer: R3's block for block schemes, the library for pattern. */
function specFor(d: Decision, ctx: Context, library: readonly number[]): Chosen {
  switch (d.kind) {
    case 'pattern':
      return {
        spec: library.length
          ? { scheme: 'pattern', rate: d.rate, patterns: library.length, library: [...library] }
          : { scheme: 'pattern', rate: d.rate, patterns: ruleConstants.patterns },
      };
    case 'block-punched':
    case 'block-bcr':
      return chooseBlock(d, ctx);
    default:
      return { spec: { scheme: d.kind as SchemeId, rate: d.rate } };
  }
}

/** R3: the smallest block whose predicted speedup is within the tolerance of the best candidate's. */
function chooseBlock(d: Decision, ctx: Context): Chosen {
  const kind = d.kind as 'block-punched' | 'block-bcr';
  const blocks = d.blocks ?? [];
  const dense = denseEstimate(d, ctx.profile).ms;
  const speedups = blocks.map((block) => dense / estimateLayer(d.layer, { scheme: kind, rate: d.rate, block }, ctx.profile).ms);
  let best = 0;
  speedups.forEach((s, i) => (s > speedups[best] ? (best = i) : 0));
  let chosen = -1;
  blocks.forEach((b, i) => {
    if (speedups[i] < (1 - ruleConstants.blockTolerance) * speedups[best]) return;
    if (chosen < 0 || b[0] * b[1] < blocks[chosen][0] * blocks[chosen][1]) chosen = i;
  });
  const block = blocks[chosen];
  const id = ctx.profile.id;
  let blockWhy: string;
  if (chosen === best) blockWhy = `${fmtBlock(block)} gives the best predicted speedup of the candidates on ${id} (${speedups[chosen].toFixed(2)}×)`;
  else if (speedups[chosen] >= 0.995 * speedups[best]) {
    blockWhy = `${fmtBlock(block)} is the smallest candidate, and all of them predict about the same speedup on ${id} (${speedups[chosen].toFixed(2)}×; best ${fmtBlock(blocks[best])})`;
  } else {
    blockWhy = `${fmtBlock(block)} is within ${ruleConstants.blockTolerance * 100}% of the best block ${fmtBlock(blocks[best])} on ${id} (${speedups[chosen].toFixed(2)}× vs ${speedups[best].toFixed(2)}×)`;
  }
  const f = check(kind, d.geometry, { scheme: kind, rate: d.rate, block });
  if (f.ok && f.note) blockWhy += ` (no candidate divides the layer: ${f.note})`;
  if (d.notDividing?.length) {
    const m = d.geometry.matrices[0];
    blockWhy += ` (${d.notDividing.map(fmtBlock).join(', ')} left out: ${d.notDividing.length > 1 ? 'they do' : 'it does'} not divide ${m.rows} × ${kind === 'block-punched' ? m.channels : m.channels * m.kernel})`;
  }
  return { spec: { scheme: kind, rate: d.rate, block }, blockWhy };
}

function roleWhy(d: Decision): string | undefined {
  if (!d.role) return undefined;
  if (d.light) return `${d.role}: every weight feeds the model's output directly; pruned lightly (rate ≤ ${ruleConstants.lightCap})`;
  if (d.lifted !== undefined) return `${d.role}: would be pruned lightly (rate ≤ ${ruleConstants.lightCap}), but then the model reaches only ${d.lifted.toFixed(2)}×; pruned at a full rate`;
  return d.role;
}

function rateWhy(d: Decision): string {
  const r = `rate ${d.rate}`;
  if (d.kind === 'pattern' && d.rate <= roundRate(ruleConstants.patternFloor, ruleConstants.patternFloor, 1)) return `${r} (the 5/9 that pattern pruning always removes)`;
  if (d.light && d.rate >= ruleConstants.lightCap) return `${r} (the light-pruning cap)`;
  if (d.rate >= ruleConstants.rateCap) return `${r} (the per-layer cap)`;
  const size = d.sizeFactor >= 1.15 ? 'larger than most layers' : d.sizeFactor <= 0.87 ? 'smaller than most layers' : 'a typical-size layer';
  const p = d.position;
  const end = p && p.before <= p.after ? 'input' : 'output';
  const where = d.positionFactor < 1 ? (d.positionFactor <= 0.6 ? `, next to the model's ${end}` : `, one layer from the model's ${end}`) : '';
  return `${r}: ${size} (${formatCount(d.weights)} weights)${where}`;
}

function check(id: Kind, geometry: LayerGeometry, spec: SchemeSpec): Feasibility {
  const scheme = getScheme(id);
  if (!scheme) return { ok: false, reason: `scheme ${id} is not available in this build` };
  return scheme.feasible(geometry, spec);
}

function describeLayer(l: Layer): string {
  const k = l.kernel.length === 1 ? `1-D (kernel ${l.kernel[0]})` : l.kernel.join('×');
  switch (layerClassOf(l)) {
    case 'conv3x3':
    case 'conv1x1':
    case 'conv':
      return `${l.group > 1 ? 'grouped ' : ''}${k} ${l.op === 'Conv' ? 'conv' : 'ConvTranspose'}`;
    case 'depthwise':
      return 'depthwise conv';
    case 'gemm':
      return l.op === 'Gemm' ? 'FC (Gemm)' : 'MatMul';
    case 'rnn':
      return `${l.op} (W and R)`;
  }
}

function denseEstimate(d: Decision, profile: DeviceProfile): LayerEstimate {
  return (d.dense ??= estimateLayer(d.layer, 'dense', profile));
}

function weightsOf(g: LayerGeometry): number {
  return g.matrices.reduce((n, m) => n + m.rows * m.channels * m.kernel, 0);
}

/** Rates in plans have 4 decimals, kept within [floor, cap]. */
function roundRate(rate: number, floor: number, cap: number): number {
  const r = Math.round(rate * 1e4) / 1e4;
  if (r < floor) return Math.ceil(floor * 1e4) / 1e4;
  return Math.min(r, cap);
}

function round(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(6)) : x;
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

function pct(x: number): string {
  const v = x * 100;
  return `${v >= 10 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toFixed(2)}%`;
}

function fmtBlock(b: Block): string {
  return `(${b[0]},${b[1]})`;
}

function formatCount(n: number): string {
  const units: [number, string][] = [[1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [size, unit] of units) if (n >= size) return `${(n / size).toFixed(n / size >= 100 ? 0 : 1)}${unit}`;
  return String(n);
}
