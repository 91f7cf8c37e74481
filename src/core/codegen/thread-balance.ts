// The reorder that balances work across threads (DOMAIN.md §7, PatDNN's filter reorder): rows
// (filters, or block rows) are sorted by work, largest first, and each is dealt to the thread with
// the least work so far (LPT scheduling: within 4/3 of the best split). Each thread's rows are then
// contiguous in the new order, kept in their original relative order for locality. Kernels write
// row r's output to filter order[r], so results come back in the original filter order.

export interface RowSchedule {
  /** New position → original row. */
  readonly order: Int32Array;
  /** Thread t runs rows binStart[t] … binStart[t+1]−1 of `order`. */
  readonly binStart: Int32Array;
  /** Work per thread, for reports and tests. */
  readonly load: Float64Array;
}

export function balanceRows(work: ArrayLike<number>, threads: number): RowSchedule {
  const n = work.length, t = Math.max(1, Math.floor(threads));
  const bins: number[][] = Array.from({ length: t }, () => []);
  const load = new Float64Array(t);
  const byWork = Array.from({ length: n }, (_, i) => i).sort((a, b) => work[b] - work[a] || a - b);
  for (const r of byWork) {
    let best = 0;
    for (let i = 1; i < t; i++) if (load[i] < load[best]) best = i;
    bins[best].push(r);
    load[best] += work[r];
  }
  const order = new Int32Array(n), binStart = new Int32Array(t + 1);
  let at = 0;
  bins.forEach((bin, i) => {
    bin.sort((a, b) => a - b);
    for (const r of bin) order[at++] = r;
    binStart[i + 1] = at;
  });
  return { order, binStart, load };
}
