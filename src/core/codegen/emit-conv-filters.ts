// A Conv kernel over the same block format as emit-conv.ts, with vectors running over a block row's
// filters instead of over pixels; prefersFilterVectors says which layers get it.
//
// Why: the pixel kernel's tiles are 24 plane positions, so a 7×7 map (49) computes 72 and wastes a
// third of its lanes, and its super tiles, bounded by what fits in L2, shrink to one tile when a
// layer has 2048 input channels, so every block row's weights are streamed once per tile. Here a
// unit's weights for one channel are already one vector (the format stores the bf filters of a
// channel adjacently): it is loaded once per tile of P positions and multiplied into P accumulators
// by P broadcast input values. A block row is done over the whole map before the next, so its
// weights are read from L1 once per tile, and nothing is computed past the map. Results are
// transposed on the way out: P·bf scalar stores against P·bf·(units × bc) multiply-adds, which is
// why block rows with little work on large maps stay on pixel vectors.

import type { BlockFormat } from './block-punched-format';
import { describeActivation, vectorActivation, type Activation } from './activation';
import { removedFiltersFill, storeBlockLayer, type CompactMaps } from './compact-rows';
import { outputSize, planeLayout, roundUp, type ConvGeometry } from './conv-planes';
import type { ConvKernel } from './emit-conv';
import type { WeightFile } from './weight-file';

/** Accumulators per block row vector: 12 of AVX2's 16 registers, leaving room for weights and broadcasts. */
const ACCUMULATORS = 12;

/**
 * Whether a layer whose block rows are whole vectors of filters is better served by them: its block
 * rows have enough work per output position (kept units × bc ≥ 64) for the transposed stores not to
 * matter, or ≥ 32 on a small map (≤ 14×14), where pixel tiles waste lanes and weight reuse. Thin
 * block rows (1×1 from 64 or 128 channels at 87.5%) stay on pixel vectors. The thresholds come
 * from bench/codegen-speed.sh on ResNet layers (docs/codegen.md).
 */
export function prefersFilterVectors(g: ConvGeometry, fmt: BlockFormat): boolean {
  const [OH, OW] = outputSize(g);
  return filterVectorsPay(OH * OW, (fmt.unitChannel.length / fmt.blockRows) * fmt.bc, fmt.bc, fmt.channels);
}

/**
 * The rule of prefersFilterVectors from a layer's output pixels, kept units × bc per block row,
 * channels per unit (bc) and stored channels (the latency model uses it too): filter vectors for
 * much work per output, or some on a small map; never for units of one channel (block-bcr's (br, 1)
 * units), nor on maps larger than 56×56 from 64 channels up. Both exceptions were measured side by
 * side in one harness run (docs/codegen.md "Figures"): one-channel units ran 1.10–2.74× slower on
 * filter vectors on all 8 shapes timed, and 3×3 Convs on 112×112 from 64 and 128 channels 1.03–1.45×
 * slower (from 32 channels, and on 56×56 and smaller, filter vectors stay as fast or faster).
 */
export function filterVectorsPay(outPixels: number, workPerPosition: number, unitChannels: number, channels: number): boolean {
  if (unitChannels < 2 || (outPixels > 56 * 56 && channels >= 64)) return false;
  return workPerPosition >= 64 || (outPixels <= 14 * 14 && workPerPosition >= 32);
}

/** Same contract as emitConv (emit-conv.ts). */
export function emitConvByFilters(name: string, g: ConvGeometry, fmt: BlockFormat, bias: Float32Array | undefined, activation: Activation, store: WeightFile, threads: number, inputSlack = false, maps: CompactMaps = {}): ConvKernel {
  const [KH, KW] = g.kernel, [SH, SW] = g.strides, [PT, PL, PB, PR] = g.pads;
  const { channels: C, height: H, width: W, filters: F } = g;
  const BF = fmt.bf, BC = fmt.bc, NVF = BF / 8;
  const Cpad = roundUp(fmt.channels, BC);
  // Tile 1: positions are not rounded up, so the planes (and a direct input) are read only inside the map.
  const L = planeLayout(g, 1, Cpad, store, maps.channelMap, inputSlack && fmt.channels % BC === 0);
  const { OH, OW, WQ, CS, inPlaceOut } = L;
  const Q = OH * OW;
  // Positions computed: whole plane rows, except the last one's columns past OW.
  const N = (OH - 1) * WQ + OW;
  const pMax = Math.floor(ACCUMULATORS / NVF);
  const tiles = Math.ceil(N / pMax), P = Math.ceil(N / tiles), tail = N - (tiles - 1) * P;
  const { offAt, rowAt, valAt, fmAt, biasAt } = storeBlockLayer(fmt, L, bias, maps, store);
  const mapped = !!maps.filterMap;

  // One tile of `np` positions starting at plane position q (a C expression).
  const tile = (np: number): string[] => {
    const acc = (v: number, p: number) => `a${v}_${p}`;
    const decl = Array.from({ length: NVF }, (_, v) => Array.from({ length: np }, (_, p) => `${acc(v, p)} = bv${v}`).join(', '));
    const body: string[] = [];
    for (let c = 0; c < BC; c++) {
      body.push(`        { ${Array.from({ length: NVF }, (_, v) => `const v8f w${v} = ld(w + ${c * BF + v * 8});`).join(' ')} const float *restrict xc = x + ${c * CS};`);
      for (let p = 0; p < np; p++) body.push(`          { const float s = xc[${p}]; ${Array.from({ length: NVF }, (_, v) => `${acc(v, p)} += w${v} * s;`).join(' ')} }`);
      body.push('        }');
    }
    const spill: string[] = [];
    for (let p = 0; p < np; p++) for (let v = 0; v < NVF; v++) spill.push(`st(t + ${p * BF + v * 8}, ${vectorActivation(activation, acc(v, p))});`);
    const dest = mapped ? `WI[${fmAt} + b * ${BF} + f]` : `b * ${BF} + f`;
    const guard = mapped ? `if (d < 0) continue; ` : F % BF ? `if (d >= ${F}) break; ` : '';
    const put = inPlaceOut
      ? `for (int p = 0; p < ${np}; p++) o[q + p] = t[p * ${BF} + f];`
      : `for (int p = 0; p < ${np}; p++) { const int qq = q + p, oh = qq / ${WQ}, ow = qq - oh * ${WQ}; if (ow < ${OW}) o[oh * ${OW} + ow] = t[p * ${BF} + f]; }`;
    return [
      `      v8f ${decl.join(', ')};`,
      `      for (int u = rs[b]; u < rs[b + 1]; u++) {`,
      `        const float *restrict x = pl + off[u] + q;`,
      `        const float *restrict w = val + u * ${BC * BF};`,
      ...body,
      `      }`,
      `      float t[${np * BF}];`,
      `      ${spill.join(' ')}`,
      `      for (int f = 0; f < ${BF}; f++) { const int d = ${dest}; ${guard}float *o = out + d * ${Q}; ${put} }`,
    ];
  };

  const lines = [
    `/* Conv ${C}x${H}x${W} -> ${F}x${OH}x${OW}, kernel ${KH}x${KW}, stride ${SH}x${SW}, pads ${PT},${PL},${PB},${PR}; block ${BF}x${BC}, ${fmt.unitChannel.length} units${mapped ? `, ${fmt.filters} filters stored` : ''}${maps.channelMap ? `, ${fmt.channels} channels stored` : ''}; filter vectors, tiles of ${P} positions${describeActivation(activation)} */`,
    `static void ${name}(const float *restrict in, float *restrict out) {`,
    `  const int *restrict off = WI + ${offAt};`,
    `  const int *restrict rs = WI + ${rowAt};`,
    `  const float *restrict val = WF + ${valAt};`,
    L.direct ? `  const float *restrict pl = in; /* 1x1 stride 1: the input is the plane */` : `  float *restrict pl = g_planes;`,
    ...L.fill,
    ...removedFiltersFill(F, maps, bias, activation, Q, store),
    threads > 1 ? `  #pragma omp parallel for schedule(dynamic, 1)` : '',
    `  for (int b = 0; b < ${fmt.blockRows}; b++) {`,
    `    ${Array.from({ length: NVF }, (_, v) => `const v8f bv${v} = ${biasAt >= 0 ? `ld(WF + ${biasAt} + b * ${BF} + ${v * 8})` : '(v8f){0}'};`).join(' ')}`,
    tiles > 1 ? `    for (int q = 0; q < ${(tiles - 1) * P}; q += ${P}) {` : '',
    ...(tiles > 1 ? tile(P) : []),
    tiles > 1 ? `    }` : '',
    `    { const int q = ${(tiles - 1) * P};`,
    ...tile(tail),
    `    }`,
    `  }`,
    `}`,
  ];
  return { source: lines.filter((l) => l !== '').join('\n') + '\n', planeFloats: L.planeFloats, tmpFloats: 0, outHeight: OH, outWidth: OW };
}
