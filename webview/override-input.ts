// Checks what the user typed into the override form, before anything is posted. Each parser
// returns the value or a sentence saying what is wrong.

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

export const MAX_RATE = 0.99;

/** A pruning rate: a plain decimal in [0, 0.99]. */
export function parseRate(text: string): Parsed<number> {
  const t = text.trim();
  const rate = /^(\d+(\.\d*)?|\.\d+)$/.test(t) ? Number(t) : NaN;
  if (!(rate >= 0 && rate <= MAX_RATE)) return { ok: false, error: `Rate must be a number from 0 to ${MAX_RATE} (the fraction of weights removed); got "${t}".` };
  return { ok: true, value: rate };
}

/** A block or N:M size: a whole number from 1 to 4096. */
export function parseSize(text: string, what: string): Parsed<number> {
  const t = text.trim();
  const n = /^\d+$/.test(t) ? Number(t) : NaN;
  if (!(n >= 1 && n <= 4096)) return { ok: false, error: `${what} must be a whole number from 1 to 4096; got "${t}".` };
  return { ok: true, value: n };
}

/** n:m keeps n of every m weights: 1 ≤ n < m, and the rate 1 − n/m must stay within 0.99. */
export function parseNm(nText: string, mText: string): Parsed<{ n: number; m: number; rate: number }> {
  const n = parseSize(nText, 'n');
  if (!n.ok) return n;
  const m = parseSize(mText, 'm');
  if (!m.ok) return m;
  if (n.value >= m.value) return { ok: false, error: `n must be smaller than m (n of every m weights are kept); got ${n.value}:${m.value}.` };
  const rate = 1 - n.value / m.value;
  if (rate > MAX_RATE) return { ok: false, error: `${n.value}:${m.value} would prune ${rate.toFixed(3)} of the weights; at most ${MAX_RATE}.` };
  return { ok: true, value: { n: n.value, m: m.value, rate } };
}
