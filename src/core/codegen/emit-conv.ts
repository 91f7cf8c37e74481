// A Conv kernel specialised for one layer (C99 + GCC/Clang vector extensions), over the compact
// block format of block-punched-format.ts (dense, block-punched, block-bcr, and filter/channel
// pruning as a compact dense layer). Inputs are read through phase planes (conv-planes.ts).
//
// Register blocking: FS filters × NV vectors of 8 pixels stay in FS·NV accumulators (12 of AVX2's
// 16 registers); per unit and channel, NV input loads feed FS·NV FMAs, each input vector reused by
// all FS filters. A block row of bf filters is done in bf/FS passes over the same unit list. Super
// tiles of ST output tiles are the outer loop: their inputs stay in L2 while every block row uses
// them, and they are what --threads splits (every tile has the same work, so no reorder is needed).
//
// Compact layers: `filterMap` gives the output filter of each stored row (filter pruning stores
// only kept filters; removed filters' outputs are their bias, activated), `channelMap` the input
// channel of each stored channel (channel pruning fills only kept channels' planes).

import type { BlockFormat } from './block-punched-format';
import { describeActivation, scalarActivation, vectorActivation, type Activation } from './activation';
import { planeLayout, roundUp, type ConvGeometry } from './conv-planes';
import type { WeightFile } from './weight-file';

export { BUFFER_SLACK, outputSize, type ConvGeometry } from './conv-planes';

/** Input bytes one super tile may span: about half of a 512 KB L2. */
export const SUPER_TILE_BYTES = 256 * 1024;

export interface ConvKernel {
  /** C source of the function `static void NAME(const float *restrict in, float *restrict out)`. */
  readonly source: string;
  /** Floats of the shared scratch buffers this kernel needs. */
  readonly planeFloats: number;
  readonly tmpFloats: number;
  readonly outHeight: number;
  readonly outWidth: number;
}

export interface CompactMaps {
  /** Stored filter row → output filter (length = the format's filters); others are bias-only. */
  readonly filterMap?: Int32Array;
  /** Stored channel → input channel (length = the format's channels). */
  readonly channelMap?: Int32Array;
}

/**
 * `g` is the layer's geometry (all F filters, all C channels); `fmt` may be compact (see CompactMaps).
 * `inputSlack`: the input buffer has BUFFER_SLACK readable floats past its end (not the caller's input).
 */
export function emitConv(name: string, g: ConvGeometry, fmt: BlockFormat, bias: Float32Array | undefined, act: Activation | boolean, store: WeightFile, threads: number, inputSlack = false, maps: CompactMaps = {}): ConvKernel {
  const activation: Activation = typeof act === 'boolean' ? { kind: act ? 'relu' : 'none' } : act;
  const [KH, KW] = g.kernel, [SH, SW] = g.strides, [PT, PL, PB, PR] = g.pads;
  const { channels: C, height: H, width: W, filters: F } = g;
  const BF = fmt.bf, BC = fmt.bc;
  const FS = BF % 4 === 0 ? 4 : BF % 2 === 0 ? 2 : 1;
  const NV = FS === 4 ? 3 : FS === 2 ? 6 : 8;
  const QT = NV * 8;
  const Cpad = roundUp(fmt.channels, BC);
  const L = planeLayout(g, QT, Cpad, store, maps.channelMap, inputSlack && fmt.channels % BC === 0);
  const { OH, OW, WQ, QV, CS, inPlaceOut } = L;
  // Unit offsets into the planes: channel block start + phase plane + shift of the kernel position.
  const offsets = new Int32Array(fmt.unitChannel.length);
  for (let u = 0; u < offsets.length; u++) offsets[u] = fmt.unitChannel[u] * CS + L.offset(fmt.unitKernel[u]);
  const offAt = store.addInts(offsets);
  const rowAt = store.addInts(fmt.rowStart);
  const valAt = store.addFloats(fmt.values);
  // Output filter of every stored row slot (−1: padding of the last block row).
  const rowsPadded = fmt.blockRows * BF;
  const filterOf = Int32Array.from({ length: rowsPadded }, (_, r) => (r < fmt.filters ? (maps.filterMap ? maps.filterMap[r] : r) : -1));
  const mapped = !!maps.filterMap;
  const fmAt = mapped ? store.addInts(filterOf) : -1;
  // Bias per stored row slot, padded to whole block rows: accumulators of padded rows may read it.
  const biasAt = bias ? store.addFloats(Float32Array.from(filterOf, (f) => (f >= 0 ? bias[f] : 0))) : -1;
  const Q = OH * OW;
  // Super tiles: ST consecutive output tiles run under each block row before the next block row, so
  // the block row's weights are read once per super tile and each input channel's run of ST·QT
  // floats is contiguous (prefetchable) instead of QT floats scattered over every channel. ST is
  // bounded so one super tile's input (all stored channels) stays in L2, and leaves every thread
  // a few super tiles.
  const tiles = QV / QT;
  let ST = Math.max(1, Math.min(16, Math.floor(SUPER_TILE_BYTES / (Cpad * QT * 4))));
  if (threads > 1) ST = Math.max(1, Math.min(ST, Math.floor(tiles / (2 * threads))));
  ST = Math.min(ST, tiles);

  const acc = (f: number, v: number) => `a${f}_${v}`;
  const decl: string[] = [];
  for (let f = 0; f < FS; f++) for (let v = 0; v < NV; v++) decl.push(`${acc(f, v)} = ${inPlaceOut && biasAt >= 0 ? `zero + bb[${f}]` : 'zero'}`);
  const body: string[] = [];
  for (let c = 0; c < BC; c++) {
    body.push(`          { ${Array.from({ length: NV }, (_, v) => `const v8f x${v} = ld(x + ${c * CS + v * 8});`).join(' ')}`);
    for (let f = 0; f < FS; f++) {
      body.push(`            { const float s = w[${c * BF + f}]; ${Array.from({ length: NV }, (_, v) => `${acc(f, v)} += x${v} * s;`).join(' ')} }`);
    }
    body.push('          }');
  }
  const stores: string[] = [];
  if (!inPlaceOut) {
    for (let f = 0; f < FS; f++) for (let v = 0; v < NV; v++) stores.push(`st(t + ${f * QV + v * 8}, ${acc(f, v)});`);
    stores.unshift(`float *t = tmp + (b * ${BF} + s) * ${QV} + q;`);
  } else {
    if (activation.kind !== 'none') for (let f = 0; f < FS; f++) for (let v = 0; v < NV; v++) stores.push(`${acc(f, v)} = ${vectorActivation(activation, acc(f, v))};`);
    // Destination row of pass slot f: the mapped filter, or the row itself (skipping padding).
    const dest = (f: number) => (mapped ? `WI[${fmAt} + b * ${BF} + s + ${f}]` : `b * ${BF} + s + ${f}`);
    const guard = (f: number) => (mapped ? `if (${dest(f)} >= 0) ` : F % BF ? `if (b * ${BF} + s + ${f} < ${F}) ` : '');
    stores.push(`if (q + ${QT} <= ${Q}) {`);
    for (let f = 0; f < FS; f++) stores.push(`  ${guard(f)}{ float *o = out + (${dest(f)}) * ${Q} + q; ${Array.from({ length: NV }, (_, v) => `st(o + ${v * 8}, ${acc(f, v)});`).join(' ')} }`);
    stores.push('} else {', `  float tail[${QT}];`);
    for (let f = 0; f < FS; f++) stores.push(`  ${guard(f)}{ ${Array.from({ length: NV }, (_, v) => `st(tail + ${v * 8}, ${acc(f, v)});`).join(' ')} memcpy(out + (${dest(f)}) * ${Q} + q, tail, sizeof(float) * (${Q} - q)); }`);
    stores.push('}');
  }
  // Filters a compact layer does not store: their output is the activated bias.
  const removed: string[] = [];
  if (mapped) {
    const kept = new Set(maps.filterMap);
    const gone = Array.from({ length: F }, (_, f) => f).filter((f) => !kept.has(f));
    if (gone.length) {
      const goneAt = store.addInts(Int32Array.from(gone));
      const bAll = bias ? store.addFloats(bias) : -1;
      removed.push(`  for (int i = 0; i < ${gone.length}; i++) { const int f = WI[${goneAt} + i]; const float v = ${bAll >= 0 ? `WF[${bAll} + f]` : '0.0f'}; const float r = ${scalarActivation(activation, 'v')}; for (int p = 0; p < ${Q}; p++) out[f * ${Q} + p] = r; }`);
    }
  }

  const lines = [
    `/* Conv ${C}x${H}x${W} -> ${F}x${OH}x${OW}, kernel ${KH}x${KW}, stride ${SH}x${SW}, pads ${PT},${PL},${PB},${PR}; block ${BF}x${BC}, ${fmt.unitChannel.length} units${mapped ? `, ${fmt.filters} filters stored` : ''}${maps.channelMap ? `, ${fmt.channels} channels stored` : ''}${describeActivation(activation)} */`,
    `static void ${name}(const float *restrict in, float *restrict out) {`,
    `  const int *restrict off = WI + ${offAt};`,
    `  const int *restrict rs = WI + ${rowAt};`,
    `  const float *restrict val = WF + ${valAt};`,
    L.direct ? `  const float *restrict pl = in; /* 1x1 stride 1: the input is the plane */` : `  float *restrict pl = g_planes;`,
    `  float *restrict tmp = g_tmp;`,
    `  const v8f zero = {0};`,
    ...L.fill,
    ...removed,
    threads > 1 ? `  #pragma omp parallel for schedule(dynamic, 1)` : '',
    `  for (int qs = 0; qs < ${QV}; qs += ${QT * ST}) {`,
    `    for (int b = 0; b < ${fmt.blockRows}; b++) {`,
    `      for (int s = 0; s < ${BF}; s += ${FS}) {`,
    inPlaceOut && biasAt >= 0 ? `        const float *bb = WF + ${biasAt} + b * ${BF} + s;` : '',
    `        for (int q = qs; q < ${ST > 1 ? `qs + ${QT * ST} && q < ` : ''}${QV}; q += ${QT}) {`,
    `        v8f ${decl.join(', ')};`,
    `        for (int u = rs[b]; u < rs[b + 1]; u++) {`,
    `          const float *restrict x = pl + off[u] + q;`,
    `          const float *restrict w = val + u * ${BC * BF} + s;`,
    ...body,
    `        }`,
    ...stores.map((l) => `        ${l}`),
    `        }`,
    `      }`,
    `    }`,
    `  }`,
    ...(inPlaceOut ? [] : [
      `  for (int r = 0; r < ${fmt.filters}; r++) {`,
      `    const int f = ${mapped ? `WI[${fmAt} + r]` : 'r'};`,
      `    const float bias = ${biasAt >= 0 ? `WF[${biasAt} + r]` : '0.0f'};`,
      `    for (int oh = 0; oh < ${OH}; oh++) for (int ow = 0; ow < ${OW}; ow++) {`,
      `      const float v = tmp[r * ${QV} + oh * ${WQ} + ow] + bias;`,
      `      out[(f * ${OH} + oh) * ${OW} + ow] = ${scalarActivation(activation, 'v')};`,
      `    }`,
      `  }`,
    ]),
    `}`,
  ];
  return { source: lines.filter((l) => l !== '').join('\n') + '\n', planeFloats: L.planeFloats, tmpFloats: inPlaceOut ? 0 : rowsPadded * QV, outHeight: OH, outWidth: OW };
}
