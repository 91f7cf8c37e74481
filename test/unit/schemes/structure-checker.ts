// An independent checker for pruning masks: written from DOMAIN.md §3 and the scheme contract, not
// from the mask generators (it imports only types; even the GEMM-view index is recomputed here).
// Given a layer's geometry, a spec and masks it lists every way the masks fail to have the scheme's
// structure, or to reach the rate — as close as possible, i.e. within half of the largest group.
// With the weights it also checks the ranking: no kept group scores strictly below a pruned one.

import type { LayerGeometry, SchemeSpec } from '../../../src/core/schemes/scheme';
import type { WeightMatrix } from '../../../src/core/schemes/weight-matrix';

const EPS = 1e-9;

function flat(m: WeightMatrix, f: number, c: number, k: number): number {
  return m.offset + f * m.rowStride + c * m.channelStride + k;
}

/** Flat index of GEMM-view element (f, column j), j = c·K + k. */
function flatJ(m: WeightMatrix, f: number, j: number): number {
  return flat(m, f, Math.floor(j / m.kernel), j % m.kernel);
}

interface Group {
  readonly where: string;
  /** Flat indices of the group's weights in tensor m.tensor. */
  readonly cells: number[];
  readonly m: WeightMatrix;
  /** block-punched: channels in the unit (cells run f-major, c-minor) and the partial-unit score multiplier. */
  readonly channels?: number;
  readonly scale?: number;
}

export function checkStructure(layer: LayerGeometry, spec: SchemeSpec, masks: readonly Uint8Array[], weights?: readonly Float32Array[]): string[] {
  const out: string[] = [];
  const total = layer.matrices.reduce((n, m) => n + m.rows * m.channels * m.kernel, 0);

  // Masks: present, 0/1, and every weight outside the matrices kept.
  const covered = masks.map((mask) => new Uint8Array(mask.length));
  for (const m of layer.matrices) {
    const mask = masks[m.tensor];
    if (!mask) {
      out.push(`no mask for tensor ${m.tensor}`);
      return out;
    }
    for (let f = 0; f < m.rows; f++) for (let c = 0; c < m.channels; c++) for (let k = 0; k < m.kernel; k++) covered[m.tensor][flat(m, f, c, k)] = 1;
  }
  masks.forEach((mask, t) => {
    for (let i = 0; i < mask.length; i++) {
      if (mask[i] !== 0 && mask[i] !== 1) out.push(`tensor ${t} index ${i}: mask value ${mask[i]} is not 0 or 1`);
      else if (!covered[t][i] && mask[i] !== 1) out.push(`tensor ${t} index ${i}: outside every matrix but pruned`);
    }
  });
  let zeros = 0;
  for (const m of layer.matrices) {
    for (let f = 0; f < m.rows; f++) for (let c = 0; c < m.channels; c++) for (let k = 0; k < m.kernel; k++) zeros += masks[m.tensor][flat(m, f, c, k)] === 0 ? 1 : 0;
  }
  const target = spec.rate * total;
  const rateWithin = (groupSize: number, what: string) => {
    if (Math.abs(zeros - target) > groupSize / 2 + EPS) {
      out.push(`rate: ${zeros} zeros of ${total}, target ${target.toFixed(3)} — further than half a ${what} (${groupSize} weights)`);
    }
  };
  const uniform = (g: Group) => {
    const mask = masks[g.m.tensor];
    const first = mask[g.cells[0]];
    if (g.cells.some((i) => mask[i] !== first)) out.push(`${g.where}: partly pruned`);
  };
  const pruned = (g: Group) => g.cells.every((i) => masks[g.m.tensor][i] === 0);
  const l2 = (g: Group) => Math.sqrt(g.cells.reduce((s, i) => s + weights![g.m.tensor][i] ** 2, 0));
  /** No kept group strictly below the highest pruned one. */
  const ranked = (groups: Group[], score: (g: Group) => number) => {
    if (!weights) return;
    let maxPruned = -Infinity, minKept = Infinity, hi = '', lo = '';
    for (const g of groups) {
      const s = score(g);
      if (pruned(g)) {
        if (s > maxPruned) [maxPruned, hi] = [s, g.where];
      } else if (s < minKept) [minKept, lo] = [s, g.where];
    }
    if (minKept < maxPruned - EPS * Math.max(1, maxPruned)) out.push(`ranking: kept ${lo} scores ${minKept} below pruned ${hi} (${maxPruned})`);
  };

  const rows = (): Group[] =>
    layer.matrices.flatMap((m) =>
      Array.from({ length: m.rows }, (_, f) => {
        const cells: number[] = [];
        for (let c = 0; c < m.channels; c++) for (let k = 0; k < m.kernel; k++) cells.push(flat(m, f, c, k));
        return { where: `${m.label} row ${f}`, cells, m };
      }),
    );
  const channels = (): Group[] =>
    layer.matrices.flatMap((m) =>
      Array.from({ length: m.channels }, (_, c) => {
        const cells: number[] = [];
        for (let f = 0; f < m.rows; f++) for (let k = 0; k < m.kernel; k++) cells.push(flat(m, f, c, k));
        return { where: `${m.label} channel ${c}`, cells, m };
      }),
    );
  const maxSize = (groups: Group[]) => groups.reduce((n, g) => Math.max(n, g.cells.length), 0);

  switch (spec.scheme) {
    case 'unstructured': {
      rateWithin(1, 'weight');
      const singles: Group[] = layer.matrices.flatMap((m) => {
        const g: Group[] = [];
        for (let f = 0; f < m.rows; f++) for (let c = 0; c < m.channels; c++) for (let k = 0; k < m.kernel; k++) g.push({ where: `${m.label} (${f},${c},${k})`, cells: [flat(m, f, c, k)], m });
        return g;
      });
      ranked(singles, (g) => Math.abs(weights![g.m.tensor][g.cells[0]]));
      break;
    }
    case 'filter':
    case 'channel': {
      const groups = spec.scheme === 'filter' ? rows() : channels();
      groups.forEach(uniform);
      rateWithin(maxSize(groups), spec.scheme === 'filter' ? 'row' : 'channel');
      ranked(groups, l2);
      break;
    }
    case 'pattern': {
      const m = layer.matrices[0];
      if (layer.op !== 'Conv' || layer.matrices.length !== 1 || m.kernel !== 9) {
        out.push('pattern: not a 3×3 Conv with group 1');
        break;
      }
      const shapes = new Set<number>();
      const mask = masks[m.tensor];
      const kernels: { g: Group; shape: number }[] = [];
      for (let f = 0; f < m.rows; f++) {
        for (let c = 0; c < m.channels; c++) {
          let shape = 0, ones = 0;
          const cells: number[] = [];
          for (let k = 0; k < 9; k++) {
            cells.push(flat(m, f, c, k));
            if (mask[flat(m, f, c, k)]) {
              shape |= 1 << k;
              ones++;
            }
          }
          if (ones !== 0 && ones !== 4) out.push(`kernel (${f},${c}): ${ones} weights kept, not 0 or 4`);
          else if (ones === 4) {
            shapes.add(shape);
            if (spec.library && !spec.library.includes(shape)) out.push(`kernel (${f},${c}): shape ${shape} is not in the library`);
          }
          kernels.push({ g: { where: `kernel (${f},${c})`, cells, m }, shape });
        }
      }
      const allowed = spec.library ? spec.library.length : (spec.patterns ?? 6);
      if (shapes.size > allowed) out.push(`${shapes.size} distinct kernel shapes; the library allows ${allowed}`);
      rateWithin(4, 'kernel');
      if (spec.rate < 5 / 9 - EPS) out.push('pattern rate below 5/9 accepted');
      if (weights && spec.library) {
        const w = weights[m.tensor];
        const energy = (g: Group, p: number) => g.cells.reduce((s, i, k) => s + (p & (1 << k) ? w[i] ** 2 : 0), 0);
        const best = (g: Group) => Math.max(...spec.library!.map((p) => energy(g, p)));
        for (const { g, shape } of kernels) {
          if (shape && energy(g, shape) < best(g) - EPS) out.push(`${g.where}: shape ${shape} keeps less energy than another library pattern`);
        }
        // Connectivity: removed kernels' best energy never above a kept kernel's.
        ranked(kernels.map((k) => k.g), (g) => Math.sqrt(best(g)));
      }
      break;
    }
    case 'block-punched': {
      const [bf, bc] = spec.block ?? [0, 0];
      const units: Group[] = [];
      for (const m of layer.matrices) {
        for (let f0 = 0; f0 < m.rows; f0 += bf) {
          for (let c0 = 0; c0 < m.channels; c0 += bc) {
            const r = Math.min(bf, m.rows - f0), q = Math.min(bc, m.channels - c0);
            for (let k = 0; k < m.kernel; k++) {
              const cells: number[] = [];
              for (let f = f0; f < f0 + r; f++) for (let c = c0; c < c0 + q; c++) cells.push(flat(m, f, c, k));
              units.push({ where: `${m.label} block (${f0},${c0}) k ${k}`, cells, m, channels: q, scale: (bc / q) * Math.sqrt(bf / r) });
            }
          }
        }
      }
      units.forEach(uniform);
      rateWithin(maxSize(units), 'unit');
      ranked(units, (g) => {
        // Σ over the unit's channels of the L2 norm of its rows, times the partial-unit scale.
        const w = weights![g.m.tensor], q = g.channels ?? 1;
        const sums = new Array<number>(q).fill(0);
        g.cells.forEach((idx, i) => (sums[i % q] += w[idx] ** 2));
        return sums.reduce((s, v) => s + Math.sqrt(v), 0) * (g.scale ?? 1);
      });
      break;
    }
    case 'block-bcr': {
      const [br, bc] = spec.block ?? [0, 0];
      for (const m of layer.matrices) {
        const mask = masks[m.tensor];
        const cols = m.channels * m.kernel;
        for (let f0 = 0; f0 < m.rows; f0 += br) {
          for (let j0 = 0; j0 < cols; j0 += bc) {
            const f1 = Math.min(m.rows, f0 + br), j1 = Math.min(cols, j0 + bc);
            const rowZero = (f: number) => {
              for (let j = j0; j < j1; j++) if (mask[flatJ(m, f, j)]) return false;
              return true;
            };
            const colZero = (j: number) => {
              for (let f = f0; f < f1; f++) if (mask[flatJ(m, f, j)]) return false;
              return true;
            };
            for (let f = f0; f < f1; f++) {
              for (let j = j0; j < j1; j++) {
                if (!mask[flatJ(m, f, j)] && !rowZero(f) && !colZero(j)) out.push(`${m.label} block (${f0},${j0}): zero at (${f},${j}) is in no pruned block-row or block-column`);
              }
            }
          }
        }
      }
      rateWithin(Math.max(...layer.matrices.map((m) => Math.max(Math.min(br, m.rows), Math.min(bc, m.channels * m.kernel)))), 'block-row or block-column');
      break;
    }
    case 'nm': {
      // Groups: m consecutive input channels at one row f and kernel position k.
      const n = spec.n ?? 0, mm = spec.m ?? 1;
      for (const m of layer.matrices) {
        const mask = masks[m.tensor];
        if (m.channels % mm) out.push(`${m.label}: ${m.channels} input channels not a multiple of ${mm}`);
        for (let f = 0; f < m.rows; f++) {
          for (let c0 = 0; c0 + mm <= m.channels; c0 += mm) {
            for (let k = 0; k < m.kernel; k++) {
              const cells = Array.from({ length: mm }, (_, i) => flat(m, f, c0 + i, k));
              const kept = cells.filter((i) => mask[i]).length;
              if (kept !== n) out.push(`${m.label} row ${f} channels ${c0}…${c0 + mm - 1} k ${k}: ${kept} kept, not ${n}`);
              if (weights) {
                const w = weights[m.tensor];
                const keptMin = Math.min(...cells.filter((i) => mask[i]).map((i) => Math.abs(w[i])));
                const prunedMax = Math.max(...cells.filter((i) => !mask[i]).map((i) => Math.abs(w[i])));
                if (keptMin < prunedMax) out.push(`${m.label} row ${f} channels ${c0}… k ${k}: a kept weight is smaller than a pruned one`);
              }
            }
          }
        }
      }
      if (Math.abs(spec.rate - (1 - n / mm)) > EPS) out.push(`rate ${spec.rate} is not 1 − ${n}/${mm}`);
      rateWithin(0, 'weight');
      break;
    }
    default:
      out.push(`unknown scheme ${spec.scheme}`);
  }
  return out;
}
