// R4 (DOMAIN.md §4): per-layer pruning rates that together reach a target compression.
// Each pruned layer i has a strength g_i (bigger for layers with more weights, smaller near the
// model's input and output), a floor and a cap; its rate is
//   p_i(k) = clamp(1 − k^g_i, floor_i, cap_i),   k ∈ [0, 1]
// so for one k the kept fraction k^g_i is smaller where g_i is bigger. The overall rate over ALL
// prunable weights (layers left dense count as kept) is decreasing in k; k is found by bisection so
// that 1 / (1 − overall rate) equals the target compression.

export interface RateInput {
  /** Prunable weights of the layer. */
  readonly weights: number;
  /** Strength g > 0: the exponent of the kept fraction. */
  readonly strength: number;
  readonly floor: number;
  readonly cap: number;
}

export type RateSolution =
  | { readonly ok: true; readonly rates: number[]; readonly compression: number }
  /** The floors alone already prune more than the target asks. */
  | { readonly ok: false; readonly problem: 'floors'; readonly compression: number }
  /** Even every layer at its cap does not reach the target. */
  | { readonly ok: false; readonly problem: 'caps'; readonly compression: number };

/** Rates for `layers` so that the compression over them and `denseWeights` more is `target`. */
export function solveRates(layers: readonly RateInput[], denseWeights: number, target: number): RateSolution {
  const n = layers.length;
  const total = layers.reduce((sum, l) => sum + l.weights, denseWeights);
  const want = 1 - 1 / target;
  const rateAt = (i: number, k: number) => Math.min(layers[i].cap, Math.max(layers[i].floor, 1 - Math.pow(k, layers[i].strength)));
  const overall = (k: number) => {
    if (total <= 0) return 0;
    let pruned = 0;
    for (let i = 0; i < n; i++) pruned += rateAt(i, k) * layers[i].weights;
    return pruned / total;
  };
  const compressionOf = (rate: number) => 1 / (1 - rate);

  const least = overall(1);
  if (least > want + 1e-12) return { ok: false, problem: 'floors', compression: compressionOf(least) };
  const most = overall(0);
  if (most < want - 1e-12) return { ok: false, problem: 'caps', compression: compressionOf(most) };

  // f(k) = overall(k) − want falls from f(0) ≥ 0 to f(1) ≤ 0. Regula falsi with the Illinois
  // modification (it converges in a few steps on this piecewise-smooth f), falling back to halving
  // when a step would leave the bracket; stop once within 1e-9 of the goal (the plan rounds rates
  // to 4 decimals anyway) or after 100 steps.
  let lo = 0, hi = 1, flo = most - want, fhi = least - want, side = 0;
  let k = 0;
  for (let i = 0; i < 100; i++) {
    k = flo - fhi > 0 ? lo + (flo * (hi - lo)) / (flo - fhi) : (lo + hi) / 2;
    if (!(k > lo && k < hi)) k = (lo + hi) / 2;
    const fk = overall(k) - want;
    if (Math.abs(fk) < 1e-9 || hi - lo < 1e-15) break;
    if (fk > 0) {
      lo = k;
      flo = fk;
      if (side === -1) fhi /= 2;
      side = -1;
    } else {
      hi = k;
      fhi = fk;
      if (side === 1) flo /= 2;
      side = 1;
    }
  }
  if (overall(k) < want - 1e-9) k = lo; // never short of the goal by more than the tolerance
  const rates = layers.map((_, i) => rateAt(i, k));
  return { ok: true, rates, compression: compressionOf(overall(k)) };
}

/** Compression of a set of rates over weights: all weights / kept weights. */
export function compressionOf(rates: readonly number[], weights: readonly number[]): number {
  let all = 0, kept = 0;
  for (let i = 0; i < rates.length; i++) {
    all += weights[i];
    kept += weights[i] * (1 - rates[i]);
  }
  return kept > 0 ? all / kept : Infinity;
}
