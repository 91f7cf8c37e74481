// Phase planes, shared by every Conv kernel (block, row-sparse, pattern, depthwise).
//
// Strided convolution becomes contiguous: the padded input is split into (up to) SH×SW phase planes
// (plane (py,px) holds padded[y·SH+py][x·SW+px]), each flattened with row width WQ. Output pixel
// q = oh·WQ + ow at kernel position (kh,kw) then reads plane (kh%SH, kw%SW) at q + (kh/SH)·WQ + kw/SW,
// so a vector of 8 consecutive q is one unaligned load for every kept weight; the columns ow ≥ OW
// computed on the way are discarded when results are copied out, or never computed when WQ = OW.
// A channel map fills only some input channels (channel pruning: the kernel sees a compact input).

import { scalarActivation, type Activation } from './activation';
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

export function outputSize(g: ConvGeometry): [number, number] {
  const [kh, kw] = g.kernel, [sh, sw] = g.strides, [pt, pl, pb, pr] = g.pads;
  return [Math.floor((g.height + pt + pb - kh) / sh) + 1, Math.floor((g.width + pl + pr - kw) / sw) + 1];
}

export const roundUp = (x: number, m: number) => Math.ceil(x / m) * m;

/** Floats every value buffer has past its end, so a 1×1 kernel may read its input in place (see `direct`). */
export const BUFFER_SLACK = 64;

export interface PlaneLayout {
  readonly OH: number;
  readonly OW: number;
  readonly WQ: number;
  /** Plane positions computed: OH·WQ rounded up to whole tiles. */
  readonly QV: number;
  /** Floats per plane; planes of channel c start at c·CS. */
  readonly PS: number;
  readonly CS: number;
  /** The kernel reads its input buffer in place (1×1, stride 1, unpadded). */
  readonly direct: boolean;
  /** Results go straight to the output: a plane row is an output row. */
  readonly inPlaceOut: boolean;
  /** Floats of g_planes needed. */
  readonly planeFloats: number;
  /** Offset of kernel position k = kh·KW + kw from its channel's planes. */
  offset(k: number): number;
  /** C statements filling `pl` from `in` (empty when direct). */
  readonly fill: string[];
}

/**
 * `stored`: channels the planes hold (padded to whole channel blocks: those planes are zeros);
 * `channelMap`: stored channel → input channel, when not the identity; `inputSlack`: the input
 * buffer has BUFFER_SLACK readable floats past its end (not the caller's input).
 */
export function planeLayout(g: ConvGeometry, tile: number, stored: number, store: WeightFile, channelMap?: Int32Array, inputSlack = false): PlaneLayout {
  const [KH, KW] = g.kernel, [SH, SW] = g.strides, [PT, PL, PB, PR] = g.pads;
  const { channels: C, height: H, width: W } = g;
  const [OH, OW] = outputSize(g);
  const HQ = Math.ceil((H + PT + PB) / SH), WQ = Math.ceil((W + PL + PR) / SW);
  const QV = roundUp(OH * WQ, tile);
  const used = channelMap ? channelMap.length : C;
  // A 1×1, stride 1, unpadded Conv reads its input in place: the input is already its one plane.
  // Vector tiles run up to QV − H·W < tile floats past the last channel, into the buffer's slack.
  const direct = !channelMap && inputSlack && KH === 1 && KW === 1 && SH === 1 && SW === 1 && PT + PL + PB + PR === 0 && stored === C && QV - H * W <= BUFFER_SLACK;
  const PS = direct ? H * W : roundUp(Math.max(HQ * WQ, QV + Math.floor((KH - 1) / SH) * WQ + Math.floor((KW - 1) / SW)), 8);
  // Only the phases some kernel position reads (a 1×1 stride-2 Conv reads 1 of 4): PY × PX planes.
  const PY = Math.min(SH, KH), PX = Math.min(SW, KW);
  const CS = PY * PX * PS;
  const offset = (k: number) => {
    const kh = Math.floor(k / KW), kw = k % KW;
    return ((kh % SH) * PX + (kw % SW)) * PS + Math.floor(kh / SH) * WQ + Math.floor(kw / SW);
  };
  const fill: string[] = [];
  if (!direct) {
    // Padding, gaps and the slack past each plane must read as zeros. Unpadded with H, W divisible
    // by the strides (1×1 stride-2 downsampling), the fill covers every plane row: clear the slack.
    const covered = PT + PL + PB + PR === 0 && H % SH === 0 && W % SW === 0 && stored === used;
    fill.push(covered
      ? `  for (int p = 0; p < ${used * PY * PX}; p++) memset(pl + p * ${PS} + ${HQ * WQ}, 0, sizeof(float) * ${PS - HQ * WQ});`
      : `  memset(pl, 0, sizeof(float) * ${stored * CS});`);
    const source = channelMap ? `WI[${store.addInts(channelMap)} + c]` : 'c';
    // For each used phase (py, px), only the rows and columns that land in it, with constant
    // bounds (padded coordinate y = i·SH + py = ih + PT).
    fill.push(`  for (int c = 0; c < ${used}; c++) {`);
    for (let py = 0; py < PY; py++) {
      const i0 = Math.max(0, Math.ceil((PT - py) / SH)), i1 = Math.floor((H - 1 + PT - py) / SH);
      if (i1 < i0) continue;
      fill.push(`    for (int i = ${i0}; i <= ${i1}; i++) {`,
        `      const float *src = in + (${source} * ${H} + i * ${SH} + ${py - PT}) * ${W};`,
        `      float *row = pl + c * ${CS} + ${py * PX * PS} + i * ${WQ};`);
      for (let px = 0; px < PX; px++) {
        const j0 = Math.max(0, Math.ceil((PL - px) / SW)), j1 = Math.floor((W - 1 + PL - px) / SW);
        if (j1 < j0) continue;
        // Stride 2: 8 outputs from two loads and an even-lane shuffle, while both loads stay inside the row.
        const jv = Math.min(j1, Math.floor((W - 2 - (px - PL)) / 2));
        fill.push(SW === 1 ? `      memcpy(row + ${PL}, src, sizeof(float) * ${W});`
          : SW === 2 && jv - j0 >= 7
            ? `      { int j = ${j0}; for (; j + 7 <= ${jv}; j += 8) st(row + ${px * PS} + j, EVEN8(ld(src + j * 2 + ${px - PL}), ld(src + j * 2 + ${px - PL + 8}))); for (; j <= ${j1}; j++) row[${px * PS} + j] = src[j * 2 + ${px - PL}]; }`
            : `      for (int j = ${j0}; j <= ${j1}; j++) row[${px * PS} + j] = src[j * ${SW} + ${px - PL}];`);
      }
      fill.push('    }');
    }
    fill.push('  }');
  }
  return { OH, OW, WQ, QV, PS, CS, direct, inPlaceOut: WQ === OW, planeFloats: direct ? 0 : stored * CS, offset, fill };
}

/**
 * C statements copying `rows` result rows out of the scratch buffer `tmp` (plane rows of width WQ,
 * QV positions per row) into `out`, dropping the columns ow ≥ OW, adding the row's bias (WF[biasAt + r],
 * none when biasAt < 0) and applying the activation. `filterOf`: C expression of r, the output filter.
 */
export function copyOutRows(rows: number, L: PlaneLayout, filterOf: string, biasAt: number, act: Activation): string[] {
  const { OH, OW, WQ, QV } = L;
  return [
    `  for (int r = 0; r < ${rows}; r++) {`,
    `    const int f = ${filterOf};`,
    `    const float bias = ${biasAt >= 0 ? `WF[${biasAt} + r]` : '0.0f'};`,
    `    for (int oh = 0; oh < ${OH}; oh++) for (int ow = 0; ow < ${OW}; ow++) {`,
    `      const float v = tmp[r * ${QV} + oh * ${WQ} + ow] + bias;`,
    `      out[(f * ${OH} + oh) * ${OW} + ow] = ${scalarActivation(act, 'v')};`,
    `    }`,
    `  }`,
  ];
}
