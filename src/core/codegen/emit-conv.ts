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
// Compact layers (filter and channel pruning): see compact-rows.ts. Small maps, and block rows with
// much work per position, get the filter-vector form instead (emit-conv-filters.ts); layer-kernels.ts picks.

import type { BlockFormat } from './block-punched-format';
import { describeActivation, vectorActivation, type Activation } from './activation';
import { removedFiltersFill, storeBlockLayer, type CompactMaps } from './compact-rows';
import { copyOutRows, planeLayout, roundUp, type ConvGeometry } from './conv-planes';
import type { WeightFile } from './weight-file';

export { BUFFER_SLACK, outputSize, type ConvGeometry } from './conv-planes';

/**
 * Register blocking for block rows of bf filters: FS filters per pass × NV vectors of 8 pixels
 * (FS·NV = 12 or 16 accumulators). Tiles are NV·8 plane positions (the latency model counts them).
 */
export function pixelRegisterBlock(bf: number): { FS: number; NV: number; tile: number } {
  const FS = bf % 4 === 0 ? 4 : bf % 2 === 0 ? 2 : 1;
  const NV = FS === 4 ? 3 : FS === 2 ? 6 : 8;
  return { FS, NV, tile: NV * 8 };
}

/** Input bytes one super tile may span: about half of a 512 KB L2. */
export const SUPER_TILE_BYTES = 256 * 1024;
/**
 * Floats of one input channel a super tile reads in one run, at least (384 bytes, six cache lines),
 * whatever SUPER_TILE_BYTES says: runs of one 24- or 48-position tile (three cache lines) defeat the
 * hardware prefetcher. Measured (docs/codegen.md "Figures"): 90%-unstructured 1×1 Convs from 1024
 * channels ran at 1.2–3.0 GMAC/s on runs of 48 floats and 8.7–9.7 on runs of 96, and
 * block-punched 8×4 from 1024 channels on a 28×28 map at 4.1, 7.0 and 13.8 on runs of 24, 48 and 96.
 */
export const MIN_CHANNEL_RUN = 96;

/**
 * Output tiles per super tile (at most `tiles`): as many tiles of `tile` positions as keep one
 * super tile's input, every channel, within SUPER_TILE_BYTES, at most 16, and at least
 * MIN_CHANNEL_RUN positions. The weights are read once per super tile (the latency model counts it).
 */
export function superTileSize(channels: number, tile: number, tiles: number): number {
  const byCache = Math.min(16, Math.floor(SUPER_TILE_BYTES / (channels * tile * 4)));
  return Math.min(tiles, Math.max(1, Math.ceil(MIN_CHANNEL_RUN / tile), byCache));
}

export interface ConvKernel {
  /** C source of the function `static void NAME(const float *restrict in, float *restrict out)`. */
  readonly source: string;
  /** Floats of the shared scratch buffers this kernel needs. */
  readonly planeFloats: number;
  readonly tmpFloats: number;
  readonly outHeight: number;
  readonly outWidth: number;
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
  const { FS, NV, tile: QT } = pixelRegisterBlock(BF);
  const Cpad = roundUp(fmt.channels, BC);
  const L = planeLayout(g, QT, Cpad, store, maps.channelMap, inputSlack && fmt.channels % BC === 0);
  const { OH, OW, QV, CS, inPlaceOut } = L;
  const { offAt, rowAt, valAt, fmAt, biasAt } = storeBlockLayer(fmt, L, bias, maps, store);
  const mapped = !!maps.filterMap;
  const rowsPadded = fmt.blockRows * BF;
  const Q = OH * OW;
  // Super tiles: ST consecutive output tiles run under each block row before the next block row, so
  // the block row's weights are read once per super tile and each input channel's run of ST·QT
  // floats is contiguous (prefetchable) instead of QT floats scattered over every channel. ST is
  // bounded so one super tile's input (all stored channels) stays in L2 (superTileSize), and
  // leaves every thread a few super tiles.
  const tiles = QV / QT;
  let ST = superTileSize(Cpad, QT, tiles);
  if (threads > 1) ST = Math.max(1, Math.min(ST, Math.floor(tiles / (2 * threads))));

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
    ...removedFiltersFill(F, maps, bias, activation, Q, store),
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
    ...(inPlaceOut ? [] : copyOutRows(fmt.filters, L, mapped ? `WI[${fmAt} + r]` : 'r', biasAt, activation)),
    `}`,
  ];
  return { source: lines.filter((l) => l !== '').join('\n') + '\n', planeFloats: L.planeFloats, tmpFloats: inPlaceOut ? 0 : rowsPadded * QV, outHeight: OH, outWidth: OW };
}
