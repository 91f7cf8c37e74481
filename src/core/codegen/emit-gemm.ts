// Gemm / MatMul with a constant weight, batch rows m = 0 … M−1 (1 for a classifier):
// out[m][n] = bias[n] + Σ_k in[m][k] · W[n][k], W the weight as [N][K] (transB and MatMul's [K][N]
// undone at generation time, alpha folded in, pruned weights dropped). Two formats:
//   block (block-punched-format.ts with K = 1): dense (one unit of all K columns per block row of
//     8 outputs — the weight transposed to [N/8][K][8]), block-punched (bf, bc), block-bcr (br, 1),
//     and filter/channel pruning as a compact dense matrix with output/input maps. Per block row
//     the bf accumulators are a constant-length array the compiler keeps in vector registers:
//     each input scalar is broadcast against bf adjacent weights (vector over outputs).
//   row-sparse (row-sparse-format.ts): unstructured and N:M; one sparse dot product per output,
//     rows in the order of thread-balance.ts when --threads > 1.

import type { BlockFormat } from './block-punched-format';
import type { RowSparseFormat } from './row-sparse-format';
import type { WeightFile } from './weight-file';

export type GemmFormat =
  | { readonly kind: 'block'; readonly fmt: BlockFormat; readonly filterMap?: Int32Array; readonly channelMap?: Int32Array }
  | { readonly kind: 'csr'; readonly fmt: RowSparseFormat; readonly binStart: Int32Array };

export interface GemmKernel {
  readonly source: string;
  /** Floats of g_tmp needed (a gathered input row for channel maps). */
  readonly tmpFloats: number;
}

export function emitGemm(name: string, M: number, N: number, K: number, f: GemmFormat, bias: Float32Array, store: WeightFile, threads: number): GemmKernel {
  const biasAt = store.addFloats(bias);
  const lines: string[] = [];
  let tmpFloats = 0;
  if (f.kind === 'block') {
    const fmt = f.fmt, BF = fmt.bf, BC = fmt.bc, KS = fmt.channels;
    const rowsPadded = fmt.blockRows * BF;
    const filterOf = Int32Array.from({ length: rowsPadded }, (_, r) => (r < fmt.filters ? (f.filterMap ? f.filterMap[r] : r) : -1));
    const fmAt = store.addInts(filterOf);
    const ragged = KS % BC !== 0;
    lines.push(
      `/* Gemm ${M}x${K} -> ${M}x${N}; block ${BF}x${BC}, ${fmt.unitChannel.length} units${f.filterMap ? `, ${fmt.filters} outputs stored` : ''}${f.channelMap ? `, ${KS} inputs stored` : ''} */`,
      `static void ${name}(const float *restrict in, float *restrict out) {`,
      `  const int *restrict rs = WI + ${store.addInts(fmt.rowStart)};`,
      `  const int *restrict uc = WI + ${store.addInts(fmt.unitChannel)};`,
      `  const int *restrict fm = WI + ${fmAt};`,
      `  const float *restrict val = WF + ${store.addFloats(fmt.values)};`,
      `  const float *restrict bias = WF + ${biasAt};`,
      `  for (int m = 0; m < ${M}; m++) {`,
      `    const float *restrict x = in + m * ${K};`,
      `    float *restrict y = out + m * ${N};`,
    );
    if (f.channelMap) {
      // Compact inputs: gather the kept input channels once per row.
      tmpFloats = KS;
      lines.push(`    { const int *cm = WI + ${store.addInts(f.channelMap)}; for (int k = 0; k < ${KS}; k++) g_tmp[k] = x[cm[k]]; x = g_tmp; }`);
    }
    if (f.filterMap) lines.push(`    for (int n = 0; n < ${N}; n++) y[n] = bias[n]; /* outputs not stored keep their bias */`);
    lines.push(
      threads > 1 ? `    #pragma omp parallel for schedule(dynamic, 1) num_threads(${threads})` : '',
      `    for (int b = 0; b < ${fmt.blockRows}; b++) {`,
      `      float a[${BF}] = {0};`,
      `      for (int u = rs[b]; u < rs[b + 1]; u++) {`,
      `        const float *restrict w = val + u * ${BC * BF};`,
      `        const float *restrict xc = x + uc[u];`,
      ragged
        ? `        for (int c = 0; c < ${BC}; c++) { if (uc[u] + c >= ${KS}) break; const float s = xc[c]; for (int i = 0; i < ${BF}; i++) a[i] += w[c * ${BF} + i] * s; }`
        : `        for (int c = 0; c < ${BC}; c++) { const float s = xc[c]; for (int i = 0; i < ${BF}; i++) a[i] += w[c * ${BF} + i] * s; }`,
      `      }`,
      `      for (int i = 0; i < ${BF}; i++) { const int n = fm[b * ${BF} + i]; if (n >= 0) y[n] = a[i] + bias[n]; }`,
      `    }`,
      `  }`,
      `}`,
    );
  } else {
    const fmt = f.fmt, T = f.binStart.length - 1;
    lines.push(
      `/* Gemm ${M}x${K} -> ${M}x${N}; row-sparse, ${fmt.values.length} weights kept, ${T} thread bins */`,
      `static void ${name}(const float *restrict in, float *restrict out) {`,
      `  const int *restrict rs = WI + ${store.addInts(fmt.rowStart)};`,
      `  const int *restrict col = WI + ${store.addInts(fmt.column)};`,
      `  const int *restrict fm = WI + ${store.addInts(fmt.rowFilter)};`,
      `  const int *restrict bs = WI + ${store.addInts(f.binStart)};`,
      `  const float *restrict val = WF + ${store.addFloats(fmt.values)};`,
      `  const float *restrict bias = WF + ${biasAt};`,
      `  for (int m = 0; m < ${M}; m++) {`,
      `    const float *restrict x = in + m * ${K};`,
      `    float *restrict y = out + m * ${N};`,
      ...(T > 1 ? [`    #pragma omp parallel num_threads(${T})`, `    for (int t = omp_get_thread_num(); t < ${T}; t += omp_get_num_threads())`] : ['    { const int t = 0;']),
      `    for (int r = bs[t]; r < bs[t + 1]; r++) {`,
      `      float s = 0.0f;`,
      `      for (int i = rs[r]; i < rs[r + 1]; i++) s += val[i] * x[col[i]];`,
      `      y[fm[r]] = s + bias[fm[r]];`,
      `    }`,
      ...(T > 1 ? [] : ['    }']),
      `  }`,
      `}`,
    );
  }
  return { source: lines.filter((l) => l !== '').join('\n') + '\n', tmpFloats };
}
