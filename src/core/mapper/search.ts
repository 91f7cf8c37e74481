// Search-based mapping (docs/search.md): per layer a scheme option and a rate that keep the most
// accuracy under a latency budget. Accuracy is the proxy of accuracy-proxy.ts — agreement and KL
// divergence of the pruned vs the dense model on real calibration inputs, run in onnxruntime-node;
// latency is the latency model's estimate on the target (the same figures as `map`).
//   1. Probes: every layer alone, under each of its options at ~0.5/0.75/0.9 (sensitivity.ts).
//   2. A greedy plan from those sensitivities: from dense, take the step with the most time saved
//      per predicted accuracy lost until the budget holds, then give back the slack where it
//      helps most ("repair" and "relax" below).
//   3. Evolution: a population seeded with the greedy plan, one greedy plan per scheme family
//      (pattern only, n:m only, …) and mutants of the greedy plan; each generation keeps
//      the best few (elitism) and breeds children by tournament, uniform crossover and mutation of
//      options and rates; every child is repaired to meet the budget and relaxed into its slack.
//      Plans are ranked by their MEASURED fitness; the sensitivity model only steers repairs.
//   4. Refining: hill-climbing from the best plan, one layer one step at a time (polish).
// Deterministic for a seed (a seeded PRNG, fixed orders, cached scores); cancellable between
// model runs (an error named AbortError); candidates are built in memory or in a temporary
// folder that is always removed.

import * as path from 'node:path';
import { ModelError } from '../errors';
import { findLayers, type Layer } from '../layers';
import { defaultTarget, getProfile, profileIds } from '../latency/profiles';
import { loadModel } from '../onnx/load';
import type { Plan, PlanLayer } from '../plan';
import type { SchemeSpec } from '../schemes/scheme';
import { AccuracyProxy, type ProxyScore } from './accuracy-proxy';
import { loadCalibration, type CalibrationSet } from './calibration-data';
import { sha256File } from './model-file';
import { Prng } from './prng';
import { PrunedCandidates } from './pruned-candidates';
import { buildSearchSpace, type LayerSpace } from './search-space';
import { pct, probeCount, probeSensitivities, type Sensitivity } from './sensitivity';

export interface SearchOptions {
  readonly target: string;                  // latency profile id (default as map uses)
  readonly speedup?: number;                // target estimated speedup vs dense (exactly one of speedup / budgetMs)
  readonly budgetMs?: number;               // estimated latency budget for all prunable layers, ms
  readonly calibration?: string;            // path to calibration inputs; default: built-in for the sample, else generated
  readonly seed?: number;                   // default 1; same seed → same plan
  readonly signal?: AbortSignal;            // cancellation → throws an error named 'AbortError'
  readonly onProgress?: (fraction: number, message: string) => void;
}

/** How hard the search works; the defaults suit the sample (a few hundred model runs). */
export interface SearchEffort {
  readonly population: number;
  readonly generations: number;
  /** Plans carried unchanged into the next generation. */
  readonly elites: number;
  /** Calibration samples used at most (from the start of the data). */
  readonly maxCalibrationSamples: number;
  /** Samples of generated inputs, for models without calibration data. */
  readonly generatedSamples: number;
  /** Model runs at most for the final hill-climbing from the best plan. */
  readonly polishRuns: number;
  /** Scheme options per layer at most: those that can save the most time (large models need fewer probes). */
  readonly maxOptions: number;
}

export const defaultEffort: SearchEffort = { population: 12, generations: 10, elites: 3, maxCalibrationSamples: 512, generatedSamples: 16, polishRuns: 64, maxOptions: Infinity };

/** A layer's choice: option index (−1 = dense) and rate index into the option's rates. */
interface Gene {
  readonly o: number;
  readonly r: number;
}
type Genome = readonly Gene[];

/** The search-based plan for a model file (see the file comment); `effort` tunes how long it runs. */
export async function searchPlan(modelPath: string, options: SearchOptions, effort: Partial<SearchEffort> = {}): Promise<Plan> {
  const tuning = { ...defaultEffort, ...effort };
  const targetId = options.target || defaultTarget;
  const profile = getProfile(targetId);
  if (!profile) throw new ModelError(`unknown target "${targetId}"`, modelPath, `Known targets: ${profileIds.join(', ')}.`);
  checkBudgetOptions(options, modelPath);
  const seed = options.seed ?? 1;
  const signal = options.signal;
  if (signal?.aborted) throw abortError();

  const loaded = loadModel(modelPath);
  let candidates: PrunedCandidates | undefined;
  try {
    const layers = findLayers(loaded.model, loaded.tensors);
    if (!layers.length) throw new ModelError('no prunable layers', modelPath, 'Only Conv, ConvTranspose, Gemm, MatMul, LSTM, GRU and RNN nodes with constant weights can be pruned; this model has none.');
    let space = buildSearchSpace(loaded.model, layers, loaded.tensors, profile, tuning.maxOptions).layers;
    const denseMs = space.reduce((n, s) => n + s.denseMs, 0);
    const budget = options.budgetMs ?? denseMs / (options.speedup as number);
    const budgetText = options.budgetMs !== undefined ? `${options.budgetMs} ms` : `${options.speedup}× speedup`;
    // A tight budget may need the small savings the space leaves out: then every option counts.
    if (latencyOf(space, fastestGenome(space)) > budget) space = buildSearchSpace(loaded.model, layers, loaded.tensors, profile, Infinity, 0).layers;
    const fastestMs = latencyOf(space, fastestGenome(space));
    if (fastestMs > budget) {
      throw new ModelError(`${budgetText} is out of reach on ${profile.id}`, modelPath,
        `The fastest plan the search can build is ${fastestMs.toPrecision(4)} ms for the prunable layers (${(denseMs / fastestMs).toFixed(2)}× of ${denseMs.toPrecision(4)} ms dense, every layer at its fastest scheme and rate ≤ 0.95); ask for at most that.`);
    }

    const calibration = loadCalibration(loaded.model, { path: options.calibration, maxSamples: tuning.maxCalibrationSamples, generatedSamples: tuning.generatedSamples, seed });
    candidates = new PrunedCandidates(loaded, layers);
    const proxy = await AccuracyProxy.create(candidates.dense(), calibration, modelPath);
    const search = new EvolutionarySearch(space, budget, candidates, proxy, tuning, seed, signal, options.onProgress, modelPath);
    const { genome, score, sensitivity } = await search.run();
    const plan = planOf(space, genome, score, sensitivity, calibration, budgetText, {
      model: path.basename(modelPath), modelSha256: sha256File(modelPath), target: profile.id,
    });
    options.onProgress?.(1, `done: ${pct(score.agreement)} agreement with the dense model at ${plan.summary?.speedup}× estimated speedup`);
    return plan;
  } finally {
    candidates?.close();
    loaded.close();
  }
}

/** Exactly one of speedup (> 1) and budgetMs (> 0). */
function checkBudgetOptions(options: SearchOptions, where: string): void {
  const { speedup, budgetMs } = options;
  if ((speedup === undefined) === (budgetMs === undefined)) {
    throw new ModelError('give exactly one of a target speedup and a latency budget', where, 'Pass speedup (e.g. 2 for 2×) or budgetMs, not both and not neither.');
  }
  if (speedup !== undefined && !(Number.isFinite(speedup) && speedup > 1)) {
    throw new ModelError(`speedup must be a number > 1, not ${speedup}`, where, 'The speedup is the dense estimate over the pruned one, e.g. 1.5.');
  }
  if (budgetMs !== undefined && !(Number.isFinite(budgetMs) && budgetMs > 0)) {
    throw new ModelError(`the latency budget must be a positive number of ms, not ${budgetMs}`, where, 'Give the estimated time of all prunable layers you allow, in ms.');
  }
}

/** The error a cancelled search throws: name 'AbortError', like fetch and the DOM. */
export function abortError(): Error {
  const err = new Error('search cancelled');
  err.name = 'AbortError';
  return err;
}

function msOf(s: LayerSpace, g: Gene): number {
  return g.o < 0 ? s.denseMs : s.options[g.o].ms[g.r];
}

function latencyOf(space: readonly LayerSpace[], genome: Genome): number {
  let ms = 0;
  for (let l = 0; l < space.length; l++) ms += msOf(space[l], genome[l]);
  return ms;
}

/** Every layer at its fastest option and rate (or dense when nothing is faster). */
function fastestGenome(space: readonly LayerSpace[]): Genome {
  return space.map((s) => {
    let best: Gene = { o: -1, r: 0 }, bestMs = s.denseMs;
    s.options.forEach((opt, o) => opt.ms.forEach((ms, r) => {
      if (ms < bestMs) [best, bestMs] = [{ o, r }, ms];
    }));
    return best;
  });
}

function keyOf(genome: Genome): string {
  return genome.map((g) => (g.o < 0 ? '-' : `${g.o}.${g.r}`)).join(',');
}

class EvolutionarySearch {
  private readonly scores = new Map<string, ProxyScore>();
  private readonly prng: Prng;
  private readonly searchable: number[];
  private sensitivity!: Sensitivity;
  private done = 0;
  private readonly planned: number;

  constructor(
    private readonly space: readonly LayerSpace[],
    private readonly budget: number,
    private readonly candidates: PrunedCandidates,
    private readonly proxy: AccuracyProxy,
    private readonly effort: SearchEffort,
    seed: number,
    private readonly signal: AbortSignal | undefined,
    private readonly onProgress: SearchOptions['onProgress'],
    private readonly where: string,
  ) {
    this.prng = new Prng(seed);
    this.searchable = space.map((s, l) => (s.options.length ? l : -1)).filter((l) => l >= 0);
    this.planned = probeCount(space) + effort.population + effort.generations * Math.max(1, effort.population - effort.elites) + effort.polishRuns;
  }

  async run(): Promise<{ genome: Genome; score: ProxyScore; sensitivity: Sensitivity }> {
    const dense: Genome = this.space.map(() => ({ o: -1, r: 0 }));
    this.scores.set(keyOf(dense), { agreement: 1, kl: 0, fitness: 1 });
    this.sensitivity = await probeSensitivities(this.space, (l, o, rate) => {
      const genome = dense.map((g, i) => (i === l ? { o, r: this.space[l].options[o].rates.indexOf(rate) } : g));
      return this.score(genome, `probing ${this.space[l].layer.id}: ${this.space[l].options[o].label} at ${rate}`);
    });

    // Seeds: the greedy plan over every option, and one per scheme family (pattern only, n:m only,
    // …) — structurally different starting points that crossover can mix.
    const greedy = this.relax(this.repair(dense));
    const population: Genome[] = [greedy];
    const seen = new Set([keyOf(greedy)]);
    const families = [...new Set(this.space.flatMap((s) => s.options.map((o) => o.scheme)))];
    for (const family of families) {
      if (population.length >= this.effort.population) break;
      const seed = this.relax(this.repair(dense, family));
      if (latencyOf(this.space, seed) <= this.budget && !seen.has(keyOf(seed))) {
        seen.add(keyOf(seed));
        population.push(seed);
      }
    }
    for (let attempts = 0; population.length < this.effort.population && attempts < 20 * this.effort.population; attempts++) {
      const child = this.relax(this.repair(this.mutate(greedy)));
      if (!seen.has(keyOf(child))) {
        seen.add(keyOf(child));
        population.push(child);
      }
    }
    let ranked = await this.rank(population, 'first generation');
    for (let gen = 1; gen <= this.effort.generations; gen++) {
      const next: Genome[] = ranked.slice(0, this.effort.elites);
      const keys = new Set(next.map(keyOf));
      const pool = ranked.slice(0, Math.max(2, Math.ceil(ranked.length / 2)));
      for (let attempts = 0; next.length < this.effort.population && attempts < 20 * this.effort.population; attempts++) {
        const a = this.tournament(pool), b = this.tournament(pool);
        const child = this.relax(this.repair(this.mutate(this.crossover(a, b))));
        const key = keyOf(child);
        if (keys.has(key)) continue;
        keys.add(key);
        next.push(child);
      }
      const best = this.scores.get(keyOf(ranked[0]))!;
      ranked = await this.rank(next, `generation ${gen}/${this.effort.generations}, best so far ${pct(best.agreement)} agreement`);
    }
    const genome = await this.polish(ranked[0]);
    return { genome, score: this.scores.get(keyOf(genome))!, sensitivity: this.sensitivity };
  }

  /**
   * Measured hill-climbing from the best plan: each neighbour moves one layer a step (a rate
   * step, another option, or dense) and lets the sensitivity model compensate on the other layers
   * (repair when over budget, relax when under); the best neighbour replaces the plan while it
   * scores higher, within effort.polishRuns model runs.
   */
  private async polish(start: Genome): Promise<Genome> {
    let current = start;
    let fitness = this.scores.get(keyOf(start))!.fitness;
    let runs = 0;
    for (let round = 1; runs < this.effort.polishRuns; round++) {
      let best: { g: Genome; f: number } | undefined;
      for (const n of this.neighbours(current)) {
        const cached = this.scores.has(keyOf(n));
        if (!cached && runs >= this.effort.polishRuns) break;
        if (!cached) runs++;
        const f = (await this.score(n, `refining the best plan (round ${round})`)).fitness;
        if (!best || f > best.f) best = { g: n, f };
      }
      if (!best || best.f <= fitness) break;
      [current, fitness] = [best.g, best.f];
    }
    return current;
  }

  /** Plans one layer-step away from `genome`, compensated on the other layers, within the budget; no repeats. */
  private neighbours(genome: Genome): Genome[] {
    const out: Genome[] = [];
    const keys = new Set([keyOf(genome)]);
    const add = (g: Genome) => {
      const key = keyOf(g);
      if (keys.has(key) || latencyOf(this.space, g) > this.budget) return;
      keys.add(key);
      out.push(g);
    };
    for (const l of this.searchable) {
      for (const gene of this.slowerMoves(genome[l])) add(this.repair(genome.map((x, i) => (i === l ? gene : x)), undefined, l));
      for (const gene of this.fasterMoves(l, genome[l])) add(this.relax(genome.map((x, i) => (i === l ? gene : x)), l));
    }
    return out;
  }

  /** Scores every plan (cached), then sorts by measured fitness; ties by predicted cost, then key. */
  private async rank(population: Genome[], message: string): Promise<Genome[]> {
    for (const g of population) await this.score(g, message);
    const info = population.map((g) => ({ g, f: this.scores.get(keyOf(g))!.fitness, c: this.predicted(g), k: keyOf(g) }));
    info.sort((x, y) => y.f - x.f || x.c - y.c || (x.k < y.k ? -1 : x.k > y.k ? 1 : 0));
    return info.map((x) => x.g);
  }

  private async score(genome: Genome, message: string): Promise<ProxyScore> {
    const key = keyOf(genome);
    const hit = this.scores.get(key);
    if (hit) return hit;
    if (this.signal?.aborted) throw abortError();
    const choices = new Map<Layer, SchemeSpec>();
    genome.forEach((g, l) => {
      if (g.o >= 0) {
        const opt = this.space[l].options[g.o];
        choices.set(this.space[l].layer, opt.spec(opt.rates[g.r]));
      }
    });
    let source;
    try {
      source = await this.candidates.build(choices, this.signal);
    } catch (err) {
      if (this.signal?.aborted) throw abortError();
      throw err;
    }
    let score: ProxyScore;
    try {
      score = await this.proxy.score(source, this.where);
    } finally {
      this.candidates.release(source);
    }
    if (this.signal?.aborted) throw abortError();
    this.scores.set(key, score);
    this.done++;
    this.onProgress?.(Math.min(0.99, this.done / this.planned), message);
    return score;
  }

  private cost(l: number, g: Gene): number {
    return g.o < 0 ? 0 : this.sensitivity.cost(l, g.o, this.space[l].options[g.o].rates[g.r]);
  }

  private predicted(genome: Genome): number {
    let c = 0;
    genome.forEach((g, l) => (c += this.cost(l, g)));
    return c;
  }

  /** Genes that make layer l faster than `g`: the next rate, or another option at its mildest faster rate. */
  private fasterMoves(l: number, g: Gene, family?: string): Gene[] {
    const s = this.space[l];
    const now = msOf(s, g);
    const moves: Gene[] = [];
    if (g.o >= 0 && g.r + 1 < s.options[g.o].rates.length) moves.push({ o: g.o, r: g.r + 1 });
    s.options.forEach((opt, o) => {
      if (o === g.o) return;
      // A family seed uses the family where the layer has it, anything else where it does not.
      if (family && opt.scheme !== family && s.options.some((x) => x.scheme === family)) return;
      const r = opt.ms.findIndex((ms) => ms < now);
      if (r >= 0) moves.push({ o, r });
    });
    return moves;
  }

  /** Genes that make layer l slower (less pruned): the previous rate, or dense. */
  private slowerMoves(g: Gene): Gene[] {
    if (g.o < 0) return [];
    return g.r > 0 ? [{ o: g.o, r: g.r - 1 }, { o: -1, r: 0 }] : [{ o: -1, r: 0 }];
  }

  /** Until the budget holds: the move with the most time saved per predicted fitness lost. */
  private repair(genome: Genome, family?: string, frozen = -1): Genome {
    const g = [...genome];
    let ms = latencyOf(this.space, g);
    for (let guard = 0; ms > this.budget && guard < 10_000; guard++) {
      let best: { l: number; gene: Gene; value: number } | undefined;
      for (const l of this.searchable) {
        if (l === frozen) continue;
        const before = msOf(this.space[l], g[l]), cost = this.cost(l, g[l]);
        for (const gene of this.fasterMoves(l, g[l], family)) {
          const saved = before - msOf(this.space[l], gene);
          const lost = this.cost(l, gene) - cost;
          const value = saved / Math.max(lost, 1e-6);
          if (saved > 0 && (!best || value > best.value)) best = { l, gene, value };
        }
      }
      if (!best) return fastestGenome(this.space); // cannot happen when the fastest plan fits
      ms += msOf(this.space[best.l], best.gene) - msOf(this.space[best.l], g[best.l]);
      g[best.l] = best.gene;
    }
    return latencyOf(this.space, g) > this.budget ? fastestGenome(this.space) : g;
  }

  /** While there is slack: the move that gives back the most predicted fitness per ms, if it fits. */
  private relax(genome: Genome, frozen = -1): Genome {
    const g = [...genome];
    for (let guard = 0; guard < 10_000; guard++) {
      const ms = latencyOf(this.space, g);
      let best: { l: number; gene: Gene; value: number } | undefined;
      for (const l of this.searchable) {
        if (l === frozen) continue;
        const cost = this.cost(l, g[l]);
        for (const gene of this.slowerMoves(g[l])) {
          const added = msOf(this.space[l], gene) - msOf(this.space[l], g[l]);
          const gained = cost - this.cost(l, gene);
          if (gained <= 1e-9 || ms + added > this.budget) continue;
          const value = gained / Math.max(added, 1e-9);
          if (!best || value > best.value) best = { l, gene, value };
        }
      }
      if (!best) break;
      g[best.l] = best.gene;
    }
    return g;
  }

  /** One to three layers change: a rate step, another option, or dense. */
  private mutate(genome: Genome): Genome {
    const g = [...genome];
    if (!this.searchable.length) return g;
    const changes = 1 + this.prng.int(3);
    for (let i = 0; i < changes; i++) {
      const l = this.searchable[this.prng.int(this.searchable.length)];
      const s = this.space[l];
      const cur = g[l];
      const roll = this.prng.next();
      if (cur.o >= 0 && roll < 0.5) {
        const step = (this.prng.next() < 0.5 ? -1 : 1) * (1 + this.prng.int(2));
        const r = Math.min(s.options[cur.o].rates.length - 1, cur.r + step);
        g[l] = r < 0 ? { o: -1, r: 0 } : { o: cur.o, r };
      } else if (roll < 0.85) {
        const o = this.prng.int(s.options.length);
        const rates = s.options[o].rates;
        const want = cur.o >= 0 ? s.options[cur.o].rates[cur.r] : rates[this.prng.int(rates.length)];
        let r = 0;
        rates.forEach((x, i) => (Math.abs(x - want) < Math.abs(rates[r] - want) ? (r = i) : 0));
        g[l] = { o, r };
      } else {
        g[l] = { o: -1, r: 0 };
      }
    }
    return g;
  }

  private crossover(a: Genome, b: Genome): Genome {
    return a.map((gene, l) => (this.prng.next() < 0.5 ? gene : b[l]));
  }

  /** The better of two plans drawn from the pool. */
  private tournament(pool: readonly Genome[]): Genome {
    const i = this.prng.int(pool.length), j = this.prng.int(pool.length);
    return pool[Math.min(i, j)]; // the pool is sorted best first
  }
}

/** The plan of a genome, in map's format: every layer with its reason and estimate, and the summary. */
function planOf(
  space: readonly LayerSpace[], genome: Genome, score: ProxyScore, sensitivity: Sensitivity, calibration: CalibrationSet, budgetText: string,
  head: { model: string; modelSha256: string; target: string },
): Plan {
  const entries: Record<string, PlanLayer> = {};
  let denseMs = 0, prunedMs = 0, all = 0, kept = 0;
  const whole = `the whole plan keeps ${pct(score.agreement)} top-1 agreement with the dense model (KL ${score.kl.toPrecision(3)}) on ${calibration.description}`;
  space.forEach((s, l) => {
    const g = genome[l];
    const ms = msOf(s, g);
    denseMs += s.denseMs;
    prunedMs += ms;
    all += s.weights;
    const latency = { denseMs: round(s.denseMs), prunedMs: round(ms) };
    if (g.o < 0) {
      kept += s.weights;
      let why: string;
      if (!s.options.length) why = `search: left dense: ${s.noOptionsWhy}`;
      else {
        // The option that costs least near 0.75, to say what pruning it would have cost.
        let o = 0;
        s.options.forEach((_, i) => (sensitivity.cost(l, i, 0.75) < sensitivity.cost(l, o, 0.75) ? (o = i) : 0));
        const probe = sensitivity.describe(l, o);
        why = `search: left dense under the ${budgetText} budget; the time its pruning saves costs more accuracy elsewhere (${s.options[o].label}: ${probe})`;
      }
      entries[s.layer.id] = { scheme: 'dense', rate: 0, reason: why, latency };
      return;
    }
    const opt = s.options[g.o];
    const rate = opt.rates[g.r];
    kept += s.weights * (1 - rate);
    const probe = sensitivity.describe(l, g.o);
    const reason = `search: ${opt.label}, rate ${rate} chosen under the ${budgetText} budget${probe ? `; probe: ${probe}` : ''}; ${whole}`;
    entries[s.layer.id] = { ...opt.spec(rate), reason, latency };
  });
  const compression = kept > 0 ? all / kept : Infinity;
  return {
    model: head.model,
    modelSha256: head.modelSha256,
    target: head.target,
    layers: entries,
    summary: { denseMs: round(denseMs), prunedMs: round(prunedMs), speedup: round(denseMs / prunedMs), compression: round(compression) },
  };
}

function round(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(6)) : x;
}
