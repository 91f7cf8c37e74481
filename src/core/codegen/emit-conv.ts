// A Conv kernel specialised for one layer (C99 + GCC/Clang vector extensions), over the compact
// block format of block-punched-format.ts (dense layers are that format with every unit kept).
//
// Strided convolution becomes contiguous: the padded input is split into (up to) SH×SW phase planes
// (plane (py,px) holds padded[y·SH+py][x·SW+px]), each flattened with row width WQ. Output pixel
// q = oh·WQ + ow at kernel position (kh,kw) then reads plane (kh%SH, kw%SW) at q + (kh/SH)·WQ + kw/SW,
// so a vector of 8 consecutive q is one unaligned load for every unit; the columns ow ≥ OW that
// this computes on the way are discarded when results are copied out (bias and Relu applied there),
// or never computed when WQ = OW (results then go straight to the output).
//
// Register blocking: FS filters × NV vectors of 8 pixels stay in FS·NV accumulators (12 of AVX2's
// 16 registers); per unit and channel, NV input loads feed FS·NV FMAs, each input vector reused by
// all FS filters. A block row of bf filters is done in bf/FS passes over the same unit list. Output
// tiles are the outer loop: a tile's inputs stay in cache while every block row uses them.

import type { BlockFormat } from './block-punched-format';
import type { WeightFile } from './weight-file';

export interface ConvGeometry {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly filters: number;
  readonly kernel: readonly [number, number];
  readonly strides: readonly [number, number];
  /** top, left, bottom, right */
  readonly pads: readonly [number, number, number, number];
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

export function outputSize(g: ConvGeometry): [number, number] {
  const [kh, kw] = g.kernel, [sh, sw] = g.strides, [pt, pl, pb, pr] = g.pads;
  return [Math.floor((g.height + pt + pb - kh) / sh) + 1, Math.floor((g.width + pl + pr - kw) / sw) + 1];
}

const roundUp = (x: number, m: number) => Math.ceil(x / m) * m;

/** Floats every value buffer has past its end, so a 1×1 kernel may read its input in place (see `direct`). */
export const BUFFER_SLACK = 64;

/** `inputSlack`: the input buffer has BUFFER_SLACK readable floats past its end (not the caller's input). */
export function emitConv(name: string, g: ConvGeometry, fmt: BlockFormat, bias: Float32Array | undefined, relu: boolean, store: WeightFile, threads: number, inputSlack = false): ConvKernel {
  const [KH, KW] = g.kernel, [SH, SW] = g.strides, [PT, PL, PB, PR] = g.pads;
  const { channels: C, height: H, width: W, filters: F } = g;
  const [OH, OW] = outputSize(g);
  const BF = fmt.bf, BC = fmt.bc;
  const FS = BF % 4 === 0 ? 4 : BF % 2 === 0 ? 2 : 1;
  const NV = FS === 4 ? 3 : FS === 2 ? 6 : 8;
  const QT = NV * 8;
  const HQ = Math.ceil((H + PT + PB) / SH), WQ = Math.ceil((W + PL + PR) / SW);
  const QV = roundUp(OH * WQ, QT);
  // A 1×1, stride 1, unpadded Conv reads its input in place: the input is already its one plane.
  // Vector tiles run up to QV − H·W < QT floats past the last channel, into the buffer's slack.
  const direct = inputSlack && KH === 1 && KW === 1 && SH === 1 && SW === 1 && PT + PL + PB + PR === 0 && C % BC === 0 && QV - H * W <= BUFFER_SLACK;
  const PS = direct ? H * W : roundUp(Math.max(HQ * WQ, QV + Math.floor((KH - 1) / SH) * WQ + Math.floor((KW - 1) / SW)), 8);
  // Only the phases some kernel position reads (a 1×1 stride-2 Conv reads 1 of 4): PY × PX planes.
  const PY = Math.min(SH, KH), PX = Math.min(SW, KW);
  const CS = PY * PX * PS;
  const Cpad = roundUp(C, BC);
  // Unit offsets into the planes: channel block start + phase plane + shift of the kernel position.
  const offsets = new Int32Array(fmt.unitChannel.length);
  for (let u = 0; u < offsets.length; u++) {
    const kh = Math.floor(fmt.unitKernel[u] / KW), kw = fmt.unitKernel[u] % KW;
    offsets[u] = fmt.unitChannel[u] * CS + ((kh % SH) * PX + (kw % SW)) * PS + Math.floor(kh / SH) * WQ + Math.floor(kw / SW);
  }
  const offAt = store.addInts(offsets);
  const rowAt = store.addInts(fmt.rowStart);
  const valAt = store.addFloats(fmt.values);
  // Bias padded to whole block rows: accumulators of padded filters may read it.
  const biasAt = bias ? store.addFloats(Float32Array.from({ length: fmt.blockRows * BF }, (_, f) => (f < F ? bias[f] : 0))) : -1;
  // When a plane row is exactly an output row (WQ = OW: 1×1 Convs, even widths at stride 2), tile q
  // is output pixel q: accumulators start at the bias, get Relu in registers and go straight to out.
  const inPlaceOut = WQ === OW;
  const Q = OH * OW;

  // Filling the planes: for each used phase (py, px), only the rows and columns that land in it,
  // with constant bounds (padded coordinate y = i·SH + py = ih + PT).
  const fill: string[] = [`  for (int c = 0; c < ${C}; c++) {`];
  for (let py = 0; py < PY; py++) {
    const i0 = Math.max(0, Math.ceil((PT - py) / SH)), i1 = Math.floor((H - 1 + PT - py) / SH);
    if (i1 < i0) continue;
    fill.push(`    for (int i = ${i0}; i <= ${i1}; i++) {`,
      `      const float *src = in + (c * ${H} + i * ${SH} + ${py - PT}) * ${W};`,
      `      float *row = pl + c * ${CS} + ${py * PX * PS} + i * ${WQ};`);
    for (let px = 0; px < PX; px++) {
      const j0 = Math.max(0, Math.ceil((PL - px) / SW)), j1 = Math.floor((W - 1 + PL - px) / SW);
      if (j1 < j0) continue;
      fill.push(SW === 1 ? `      memcpy(row + ${PL}, src, sizeof(float) * ${W});`
        : `      for (int j = ${j0}; j <= ${j1}; j++) row[${px * PS} + j] = src[j * ${SW} + ${px - PL}];`);
    }
    fill.push('    }');
  }
  fill.push('  }');
  // Padding, gaps and the slack past each plane must read as zeros. Unpadded with H, W divisible by
  // the strides (1×1 stride-2 downsampling), the fill covers every plane row: clear only the slack.
  const covered = PT + PL + PB + PR === 0 && H % SH === 0 && W % SW === 0 && Cpad === C;
  const clearPlanes = covered
    ? `  for (int p = 0; p < ${C * PY * PX}; p++) memset(pl + p * ${PS} + ${HQ * WQ}, 0, sizeof(float) * ${PS - HQ * WQ});`
    : `  memset(pl, 0, sizeof(float) * ${Cpad * CS});`;
  const acc = (f: number, v: number) => `a${f}_${v}`;
  const lines: string[] = [];
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
    if (relu) for (let f = 0; f < FS; f++) for (let v = 0; v < NV; v++) stores.push(`${acc(f, v)} = (v8f)((v8i)${acc(f, v)} & (v8i)(${acc(f, v)} > zero));`);
    const guard = (f: number) => (F % BF ? `if (b * ${BF} + s + ${f} < ${F}) ` : '');
    stores.push(`if (q + ${QT} <= ${Q}) {`);
    for (let f = 0; f < FS; f++) stores.push(`  ${guard(f)}{ float *o = out + (b * ${BF} + s + ${f}) * ${Q} + q; ${Array.from({ length: NV }, (_, v) => `st(o + ${v * 8}, ${acc(f, v)});`).join(' ')} }`);
    stores.push('} else {', `  float tail[${QT}];`);
    for (let f = 0; f < FS; f++) stores.push(`  ${guard(f)}{ ${Array.from({ length: NV }, (_, v) => `st(tail + ${v * 8}, ${acc(f, v)});`).join(' ')} memcpy(out + (b * ${BF} + s + ${f}) * ${Q} + q, tail, sizeof(float) * (${Q} - q)); }`);
    stores.push('}');
  }

  lines.push(
    `/* Conv ${C}x${H}x${W} -> ${F}x${OH}x${OW}, kernel ${KH}x${KW}, stride ${SH}x${SW}, pads ${PT},${PL},${PB},${PR}; block ${BF}x${BC}, ${fmt.unitChannel.length} units${relu ? ', Relu fused' : ''} */`,
    `static void ${name}(const float *restrict in, float *restrict out) {`,
    `  const int *restrict off = WI + ${offAt};`,
    `  const int *restrict rs = WI + ${rowAt};`,
    `  const float *restrict val = WF + ${valAt};`,
    direct ? `  const float *restrict pl = in; /* 1x1 stride 1: the input is the plane */` : `  float *restrict pl = g_planes;`,
    `  float *restrict tmp = g_tmp;`,
    `  const v8f zero = {0};`,
    ...(direct ? [] : [clearPlanes, ...fill]),
    threads > 1 ? `  #pragma omp parallel for schedule(dynamic, 1)` : '',
    `  for (int q = 0; q < ${QV}; q += ${QT}) {`,
    `    for (int b = 0; b < ${fmt.blockRows}; b++) {`,
    `      for (int s = 0; s < ${BF}; s += ${FS}) {`,
    inPlaceOut && biasAt >= 0 ? `        const float *bb = WF + ${biasAt} + b * ${BF} + s;` : '',
    `        v8f ${decl.join(', ')};`,
    `        for (int u = rs[b]; u < rs[b + 1]; u++) {`,
    `          const float *restrict x = pl + off[u] + q;`,
    `          const float *restrict w = val + u * ${BC * BF} + s;`,
    ...body,
    `        }`,
    ...stores.map((l) => `        ${l}`),
    `      }`,
    `    }`,
    `  }`,
    ...(inPlaceOut ? [] : [
      `  for (int f = 0; f < ${F}; f++) {`,
      `    const float bias = ${biasAt >= 0 ? `WF[${biasAt} + f]` : '0.0f'};`,
      `    for (int oh = 0; oh < ${OH}; oh++) for (int ow = 0; ow < ${OW}; ow++) {`,
      `      const float v = tmp[f * ${QV} + oh * ${WQ} + ow] + bias;`,
      `      out[(f * ${OH} + oh) * ${OW} + ow] = ${relu ? 'v > 0.0f ? v : 0.0f' : 'v'};`,
      `    }`,
      `  }`,
    ]),
    `}`,
  );
  return { source: lines.filter((l) => l !== '').join('\n') + '\n', planeFloats: direct ? 0 : Cpad * CS, tmpFloats: inPlaceOut ? 0 : fmt.blockRows * BF * QV, outHeight: OH, outWidth: OW };
}
