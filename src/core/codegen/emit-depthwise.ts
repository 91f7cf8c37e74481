// The depthwise Conv kernel (group = C, one input channel per filter; MobileNets' 3×3 and 5×5,
// stride 1 or 2): per input channel, its phase planes (conv-planes.ts) are filled into a small
// per-thread buffer that stays in cache, then each of its filters (channel multiplier M, usually 1)
// sweeps the output tiles with NV accumulators of 8 pixels, every kernel position one unaligned
// load at a compile-time offset times the filter's weight. Pruned weights (any scheme's mask) are
// zeros: a depthwise filter has only Kh·Kw weights, too few for an index to pay. Channels are
// what --threads splits.

import { describeActivation, scalarActivation, vectorActivation, type Activation } from './activation';
import { planeLayout, type ConvGeometry } from './conv-planes';
import type { ConvKernel } from './emit-conv';
import type { WeightFile } from './weight-file';

const NV = 4;
const QT = NV * 8;
/** Plane positions per output tile (the latency model counts them). */
export const DEPTHWISE_TILE = QT;

/** `w`: the masked weights, flat [F][1][Kh][Kw]. */
export function emitDepthwise(name: string, g: ConvGeometry, w: Float32Array, bias: Float32Array | undefined, act: Activation, store: WeightFile, threads: number): ConvKernel {
  const [KH, KW] = g.kernel, [SH, SW] = g.strides, [PT, PL, PB, PR] = g.pads;
  const { channels: C, height: H, width: W, filters: F } = g;
  const M = F / C, K = KH * KW;
  const L = planeLayout({ ...g, channels: 1 }, QT, 1, store);
  const { OH, OW, WQ, QV, CS, inPlaceOut } = L;
  const Q = OH * OW;
  const wAt = store.addFloats(w);
  const biasAt = bias ? store.addFloats(bias) : -1;
  const acc = (v: number) => `a${v}`;
  const taps: string[] = [];
  for (let k = 0; k < K; k++) taps.push(`        { const float s = w[${k}]; ${Array.from({ length: NV }, (_, v) => `${acc(v)} += ld(x + ${L.offset(k) + v * 8}) * s;`).join(' ')} }`);
  const init = inPlaceOut && biasAt >= 0 ? `zero + WF[${biasAt} + f]` : 'zero';
  const stores = inPlaceOut
    ? [
      ...(act.kind !== 'none' ? [`        ${Array.from({ length: NV }, (_, v) => `${acc(v)} = ${vectorActivation(act, acc(v))};`).join(' ')}`] : []),
      `        if (q + ${QT} <= ${Q}) { ${Array.from({ length: NV }, (_, v) => `st(o + q + ${v * 8}, ${acc(v)});`).join(' ')} }`,
      `        else { float tail[${QT}]; ${Array.from({ length: NV }, (_, v) => `st(tail + ${v * 8}, ${acc(v)});`).join(' ')} memcpy(o + q, tail, sizeof(float) * (${Q} - q)); }`,
    ]
    : [`        ${Array.from({ length: NV }, (_, v) => `st(t + q + ${v * 8}, ${acc(v)});`).join(' ')}`];
  const lines = [
    `/* depthwise Conv ${C}x${H}x${W} -> ${F}x${OH}x${OW}, kernel ${KH}x${KW}, stride ${SH}x${SW}, pads ${PT},${PL},${PB},${PR}${describeActivation(act)} */`,
    `static void ${name}(const float *restrict input, float *restrict out) {`,
    `  const v8f zero = {0};`,
    threads > 1 ? `  #pragma omp parallel for schedule(static) num_threads(${threads})` : '',
    `  for (int c = 0; c < ${C}; c++) {`,
    threads > 1 ? `    const int tid = omp_get_thread_num();` : `    const int tid = 0;`,
    `    const float *restrict in = input + c * ${H * W};`,
    `    float *restrict pl = g_planes + tid * ${CS};`,
    `    float *restrict t = g_tmp + tid * ${QV};`,
    ...L.fill.map((l) => `  ${l}`),
    `    for (int m = 0; m < ${M}; m++) {`,
    `      const int f = c * ${M} + m;`,
    `      const float *restrict w = WF + ${wAt} + f * ${K};`,
    `      float *restrict o = out + f * ${Q};`,
    `      for (int q = 0; q < ${QV}; q += ${QT}) {`,
    `        const float *restrict x = pl + q;`,
    `        v8f ${Array.from({ length: NV }, (_, v) => `${acc(v)} = ${init}`).join(', ')};`,
    ...taps,
    ...stores,
    `      }`,
    ...(inPlaceOut ? [] : [
      `      const float bias = ${biasAt >= 0 ? `WF[${biasAt} + f]` : '0.0f'};`,
      `      for (int oh = 0; oh < ${OH}; oh++) for (int ow = 0; ow < ${OW}; ow++) {`,
      `        const float v = t[oh * ${WQ} + ow] + bias;`,
      `        o[oh * ${OW} + ow] = ${scalarActivation(act, 'v')};`,
      `      }`,
    ]),
    `    }`,
    `  }`,
    `}`,
  ];
  return { source: lines.filter((l) => l !== '').join('\n') + '\n', planeFloats: threads * CS, tmpFloats: threads * QV, outHeight: OH, outWidth: OW };
}
