// The pattern format (PatDNN's FKW, DOMAIN.md §3.4, §7) for a 3×3 Conv weight W[F][C][9] whose
// kernels keep a few shared shapes. A pattern is a kernel's 9-bit keep mask (bit k = position
// kh·3 + kw); the layer's distinct patterns are `patterns` (at most MAX_PATTERNS, else the layer
// uses the row-sparse format). Per stored row r (filter rowFilter[r], any order — see
// thread-balance.ts), its kept kernels are grouped by pattern:
//   kernelStart[r·P + p] … kernelStart[r·P + p + 1]−1   the kernels of row r with pattern p
//   channel[i]                                            the input channel of kernel i
//   values                                                each kernel's kept weights in position
//                                                         order, popcount(pattern) of them, kernels
//                                                         back to back in kernel order
// Kernels are generated per layer with each pattern's positions as compile-time constants, so the
// inner loop has no index decoding beyond one channel per kernel. Removed kernels are not stored.

export const MAX_PATTERNS = 16;

export interface PatternFormat {
  readonly rows: number;
  readonly channels: number;
  readonly patterns: readonly number[];
  readonly rowFilter: Int32Array;
  readonly kernelStart: Int32Array;
  readonly channel: Int32Array;
  readonly values: Float32Array;
}

export function popcount(x: number): number {
  let n = 0;
  for (let v = x; v; v &= v - 1) n++;
  return n;
}

/** The distinct nonzero kernel masks of a [F][C][9] mask, ascending (the pattern library actually used). */
export function kernelPatterns(mask: ArrayLike<number>, filters: number, channels: number): number[] {
  const seen = new Set<number>();
  for (let i = 0; i < filters * channels; i++) {
    let p = 0;
    for (let k = 0; k < 9; k++) if (mask[i * 9 + k]) p |= 1 << k;
    if (p) seen.add(p);
  }
  return [...seen].sort((a, b) => a - b);
}

export function patternFormat(w: ArrayLike<number>, mask: ArrayLike<number>, filters: number, channels: number, order?: ArrayLike<number>): PatternFormat {
  const patterns = kernelPatterns(mask, filters, channels);
  const P = patterns.length;
  const index = new Map(patterns.map((p, i) => [p, i]));
  const rowFilter = Int32Array.from(order ?? Array.from({ length: filters }, (_, i) => i));
  const kernelStart = new Int32Array(filters * P + 1);
  const ch: number[] = [], vals: number[] = [];
  for (let r = 0; r < filters; r++) {
    const f = rowFilter[r];
    const byPattern: number[][] = Array.from({ length: P }, () => []);
    for (let c = 0; c < channels; c++) {
      let p = 0;
      for (let k = 0; k < 9; k++) if (mask[(f * channels + c) * 9 + k]) p |= 1 << k;
      if (p) byPattern[index.get(p)!].push(c);
    }
    byPattern.forEach((cs, p) => {
      for (const c of cs) {
        ch.push(c);
        for (let k = 0; k < 9; k++) if (patterns[p] & (1 << k)) vals.push(w[(f * channels + c) * 9 + k]);
      }
      kernelStart[r * P + p + 1] = ch.length;
    });
  }
  return { rows: filters, channels, patterns, rowFilter, kernelStart, channel: Int32Array.from(ch), values: Float32Array.from(vals) };
}

/** Kept weights per filter (the work of each row), in filter order. */
export function patternWork(mask: ArrayLike<number>, filters: number, channels: number): number[] {
  return Array.from({ length: filters }, (_, f) => {
    let n = 0;
    for (let i = f * channels * 9; i < (f + 1) * channels * 9; i++) n += mask[i] ? 1 : 0;
    return n;
  });
}
