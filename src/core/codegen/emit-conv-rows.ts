// Conv kernels over one filter at a time, for the row-sparse (CSR: unstructured, N:M) and pattern
// formats, where filters do not share a sparsity structure. Inputs are read through phase planes
// (conv-planes.ts); each kept weight is a broadcast scalar × NV input vectors of 8 output pixels,
// accumulated in NV registers. Pattern kernels are unrolled per pattern with the kept positions'
// plane offsets as compile-time constants: one channel index per kernel, no other decoding.
//
// Threads: stored rows are in the order of thread-balance.ts (filters dealt to threads by work),
// thread t runs its rows binStart[t] … over every output tile, and each row's results go to its
// original filter (rowFilter), so the output is in the model's filter order whatever the order.

import { describeActivation, vectorActivation, type Activation } from './activation';
import { copyOutRows, planeLayout, type ConvGeometry } from './conv-planes';
import { superTileSize, type ConvKernel } from './emit-conv';
import { popcount, type PatternFormat } from './pattern-format';
import type { RowSparseFormat } from './row-sparse-format';
import type { WeightFile } from './weight-file';

const NV = 6;
const QT = NV * 8;
/** Plane positions per output tile (the latency model counts them). */
export const ROW_TILE = QT;

export type RowFormat = { readonly kind: 'csr'; readonly fmt: RowSparseFormat } | { readonly kind: 'pattern'; readonly fmt: PatternFormat };

/** `binStart`: thread t's stored rows (length threads + 1; [0, rows] for one thread). */
export function emitConvRows(name: string, g: ConvGeometry, f: RowFormat, binStart: Int32Array, bias: Float32Array | undefined, act: Activation, store: WeightFile, inputSlack = false): ConvKernel {
  const [KH, KW] = g.kernel, [SH, SW] = g.strides, [PT, PL, PB, PR] = g.pads;
  const { channels: C, height: H, width: W, filters: F } = g;
  const K = KH * KW;
  const L = planeLayout(g, QT, C, store, undefined, inputSlack);
  const { OH, OW, QV, CS, inPlaceOut } = L;
  const Q = OH * OW;
  const rows = f.fmt.rows, rowFilter = f.fmt.rowFilter;
  const fmAt = store.addInts(rowFilter);
  const biasAt = bias ? store.addFloats(Float32Array.from(rowFilter, (r) => bias[r])) : -1;
  const threads = binStart.length - 1;
  const bsAt = store.addInts(binStart);
  const acc = (v: number) => `a${v}`;
  const fma = (x: string, s: string, extra: number) => Array.from({ length: NV }, (_, v) => `${acc(v)} += ld(${x} + ${extra + v * 8}) * ${s};`).join(' ');

  const setup: string[] = [];
  const body: string[] = [];
  let kept = 0;
  if (f.kind === 'csr') {
    const m = f.fmt;
    kept = m.values.length;
    const off = Int32Array.from(m.column, (j) => Math.floor(j / K) * CS + L.offset(j % K));
    setup.push(`  const int *restrict rs = WI + ${store.addInts(m.rowStart)};`, `  const int *restrict off = WI + ${store.addInts(off)};`, `  const float *restrict val = WF + ${store.addFloats(m.values)};`);
    body.push(`        for (int i = rs[r]; i < rs[r + 1]; i++) { const float *restrict x = pl + off[i] + q; const float s = val[i]; ${fma('x', 's', 0)} }`);
  } else {
    const m = f.fmt, P = m.patterns.length;
    kept = m.values.length;
    // Value start of every (row, pattern) run: kernels are back to back, popcount(pattern) each.
    const valueStart = new Int32Array(m.kernelStart.length);
    for (let i = 0, v = 0; i + 1 < m.kernelStart.length; i++) {
      valueStart[i] = v;
      v += (m.kernelStart[i + 1] - m.kernelStart[i]) * popcount(m.patterns[i % P]);
    }
    setup.push(`  const int *restrict ks = WI + ${store.addInts(m.kernelStart)};`, `  const int *restrict vs = WI + ${store.addInts(valueStart)};`,
      `  const int *restrict ch = WI + ${store.addInts(Int32Array.from(m.channel, (c) => c * CS))};`, `  const float *restrict val = WF + ${store.addFloats(m.values)};`);
    m.patterns.forEach((p, pi) => {
      const positions = Array.from({ length: 9 }, (_, k) => k).filter((k) => p & (1 << k));
      body.push(`        { const float *restrict w = val + vs[r * ${P} + ${pi}]; /* pattern ${p} */`,
        `          for (int i = ks[r * ${P} + ${pi}]; i < ks[r * ${P} + ${pi + 1}]; i++, w += ${positions.length}) {`,
        `            const float *restrict x = pl + ch[i] + q;`,
        ...positions.map((k, j) => `            { const float s = w[${j}]; ${fma('x', 's', L.offset(k))} }`),
        '          }',
        '        }');
    });
  }

  const stores: string[] = [];
  if (!inPlaceOut) {
    stores.push(`{ float *t = tmp + r * ${QV} + q; ${Array.from({ length: NV }, (_, v) => `st(t + ${v * 8}, ${acc(v)});`).join(' ')} }`);
  } else {
    if (act.kind !== 'none') stores.push(Array.from({ length: NV }, (_, v) => `${acc(v)} = ${vectorActivation(act, acc(v))};`).join(' '));
    stores.push(`{ float *o = out + fm[r] * ${Q} + q;`,
      `  if (q + ${QT} <= ${Q}) { ${Array.from({ length: NV }, (_, v) => `st(o + ${v * 8}, ${acc(v)});`).join(' ')} }`,
      `  else { float tail[${QT}]; ${Array.from({ length: NV }, (_, v) => `st(tail + ${v * 8}, ${acc(v)});`).join(' ')} memcpy(o, tail, sizeof(float) * (${Q} - q)); } }`);
  }
  // Super tiles (as in emit-conv.ts): ST output tiles under each row, so a row's weights are read
  // once per super tile and each input channel is read in runs of ST·QT floats; bounded by L2.
  const ST = superTileSize(C, QT, QV / QT);
  const init = inPlaceOut && biasAt >= 0 ? `zero + WF[${biasAt} + r]` : 'zero';
  const lines = [
    `/* Conv ${C}x${H}x${W} -> ${F}x${OH}x${OW}, kernel ${KH}x${KW}, stride ${SH}x${SW}, pads ${PT},${PL},${PB},${PR}; ${f.kind === 'csr' ? 'row-sparse' : `pattern (${f.fmt.patterns.length} patterns)`}, ${kept} weights kept, ${threads} thread bins${describeActivation(act)} */`,
    `static void ${name}(const float *restrict in, float *restrict out) {`,
    ...setup,
    `  const int *restrict fm = WI + ${fmAt};`,
    `  const int *restrict bs = WI + ${bsAt};`,
    L.direct ? `  const float *restrict pl = in; /* 1x1 stride 1: the input is the plane */` : `  float *restrict pl = g_planes;`,
    `  float *restrict tmp = g_tmp;`,
    `  const v8f zero = {0};`,
    ...L.fill,
    ...(threads > 1
      ? [`  #pragma omp parallel num_threads(${threads})`, `  for (int t = omp_get_thread_num(); t < ${threads}; t += omp_get_num_threads())`]
      : ['  { const int t = 0;']),
    `  for (int qs = 0; qs < ${QV}; qs += ${QT * ST}) {`,
    `    for (int r = bs[t]; r < bs[t + 1]; r++) {`,
    `      for (int q = qs; q < ${ST > 1 ? `qs + ${QT * ST} && q < ` : ''}${QV}; q += ${QT}) {`,
    `        v8f ${Array.from({ length: NV }, (_, v) => `${acc(v)} = ${init}`).join(', ')};`,
    ...body,
    ...stores.map((l) => `        ${l}`),
    `      }`,
    `    }`,
    `  }`,
    ...(threads > 1 ? [] : ['  }']),
    ...(inPlaceOut ? [] : copyOutRows(rows, L, 'fm[r]', biasAt, act)),
    `}`,
  ];
  return { source: lines.join('\n') + '\n', planeFloats: L.planeFloats, tmpFloats: inPlaceOut ? 0 : rows * QV, outHeight: OH, outWidth: OW };
}
