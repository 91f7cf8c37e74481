// Per-layer sensitivities from one-layer probes: each layer is pruned alone, under each of its
// scheme options at a few rates (those nearest 0.5, 0.75 and 0.9), and the accuracy proxy measured.
// The cost of (layer, option, rate) is then 1 − fitness (the dense model scores exactly 1),
// interpolated linearly between the probes from (0, 0), extended with the last slope, and made
// non-decreasing in the rate. The search uses these costs — summed over layers, an additive
// approximation — to build its first plans and to repair plans towards the budget; the plans it
// keeps are always ranked by measured fitness, never by this model.

import type { ProxyScore } from './accuracy-proxy';
import type { LayerSpace } from './search-space';

export const PROBE_RATES: readonly number[] = [0.5, 0.75, 0.9];

export interface Probe {
  readonly rate: number;
  readonly score: ProxyScore;
}

export class Sensitivity {
  /** probes[layer][option], ascending rate. */
  constructor(readonly probes: readonly (readonly (readonly Probe[])[])[]) {}

  /** Predicted fitness lost by pruning layer `l` with option `o` at `rate`. */
  cost(l: number, o: number, rate: number): number {
    if (o < 0 || rate <= 0) return 0;
    const points = this.probes[l][o];
    let prevRate = 0, prevCost = 0, best = 0;
    for (const p of points) {
      const c = Math.max(prevCost, 1 - p.score.fitness);
      if (rate <= p.rate) return Math.max(best, prevCost + ((c - prevCost) * (rate - prevRate)) / Math.max(1e-9, p.rate - prevRate));
      best = Math.max(best, c);
      [prevRate, prevCost] = [p.rate, c];
    }
    // Beyond the last probe: continue the last segment's slope.
    if (points.length >= 2) {
      const [a, b] = [points[points.length - 2], points[points.length - 1]];
      const slope = Math.max(0, (1 - b.score.fitness - (1 - a.score.fitness)) / Math.max(1e-9, b.rate - a.rate));
      return prevCost + slope * (rate - prevRate);
    }
    return prevRate > 0 ? (prevCost * rate) / prevRate : 0;
  }

  /** The probe nearest 0.75 for reasons: "1.2% agreement drop at 0.75". */
  describe(l: number, o: number): string | undefined {
    const points = this.probes[l][o];
    if (!points.length) return undefined;
    const p = points.reduce((a, b) => (Math.abs(b.rate - 0.75) < Math.abs(a.rate - 0.75) ? b : a));
    return `${pct(1 - p.score.agreement)} agreement drop at ${p.rate} alone`;
  }
}

/** The rates to probe for an option: its allowed rates nearest PROBE_RATES, without repeats. */
export function probeRatesOf(rates: readonly number[]): number[] {
  const picked = new Set<number>();
  for (const want of PROBE_RATES) {
    let best = rates[0];
    for (const r of rates) if (Math.abs(r - want) < Math.abs(best - want)) best = r;
    picked.add(best);
  }
  return [...picked].sort((a, b) => a - b);
}

/** How many probes `spaces` need. */
export function probeCount(spaces: readonly LayerSpace[]): number {
  return spaces.reduce((n, s) => n + s.options.reduce((k, o) => k + probeRatesOf(o.rates).length, 0), 0);
}

/** Runs every probe through `measure(layer, option, rate)`, in layer and option order. */
export async function probeSensitivities(
  spaces: readonly LayerSpace[],
  measure: (l: number, o: number, rate: number) => Promise<ProxyScore>,
): Promise<Sensitivity> {
  const probes: Probe[][][] = [];
  for (let l = 0; l < spaces.length; l++) {
    const perOption: Probe[][] = [];
    for (let o = 0; o < spaces[l].options.length; o++) {
      const list: Probe[] = [];
      for (const rate of probeRatesOf(spaces[l].options[o].rates)) list.push({ rate, score: await measure(l, o, rate) });
      perOption.push(list);
    }
    probes.push(perOption);
  }
  return new Sensitivity(probes);
}

export function pct(x: number): string {
  const v = x * 100;
  return `${v.toFixed(v !== 0 && Math.abs(v) < 1 ? 2 : 1)}%`;
}
