// The compact block-punched format (DOMAIN.md §3.5, §7) for one Conv weight W[F][C][K] (group 1).
// Filters are split into block rows of bf, channels into blocks of bc. A unit is (channel block,
// kernel position) of one block row; only kept units are stored, as a list per block row:
//   rowStart[b] … rowStart[b+1]-1   the units of block row b
//   unitChannel[u], unitKernel[u]   its first channel and kernel position
//   values[u·bc·bf + c·bf + f]       its bc × bf weights, channel-major: for each input channel the
//                                    bf filters' weights are adjacent (one input vector → bf FMAs)
// Partial blocks (F % bf, C % bc) are padded with zero weights, so kernels need no edge cases.
// A dense layer is the same format with every unit kept, so dense and sparse kernels share code.

export interface BlockFormat {
  readonly bf: number;
  readonly bc: number;
  readonly filters: number;
  readonly channels: number;
  readonly kernel: number;
  readonly blockRows: number;
  readonly rowStart: Int32Array;
  readonly unitChannel: Int32Array;
  readonly unitKernel: Int32Array;
  readonly values: Float32Array;
}

/**
 * Builds the format from W (flat [F][C][K]) and a mask of the same layout (1 keeps; undefined keeps
 * everything). A unit is kept when any of its mask elements is 1; masked weights are stored as 0.
 */
export function blockPunchedFormat(w: Float32Array, mask: Uint8Array | undefined, filters: number, channels: number, kernel: number, bf: number, bc: number): BlockFormat {
  const blockRows = Math.ceil(filters / bf), channelBlocks = Math.ceil(channels / bc);
  const rowStart = new Int32Array(blockRows + 1);
  const ch: number[] = [], kp: number[] = [], vals: number[] = [];
  const at = (f: number, c: number, k: number) => (f * channels + c) * kernel + k;
  for (let b = 0; b < blockRows; b++) {
    const f0 = b * bf, f1 = Math.min(filters, f0 + bf);
    for (let cb = 0; cb < channelBlocks; cb++) {
      const c0 = cb * bc, c1 = Math.min(channels, c0 + bc);
      for (let k = 0; k < kernel; k++) {
        let kept = !mask;
        for (let f = f0; f < f1 && !kept; f++) for (let c = c0; c < c1 && !kept; c++) kept = mask![at(f, c, k)] === 1;
        if (!kept) continue;
        ch.push(c0);
        kp.push(k);
        for (let c = c0; c < c0 + bc; c++) {
          for (let f = f0; f < f0 + bf; f++) {
            const inside = f < f1 && c < c1;
            vals.push(inside && (!mask || mask[at(f, c, k)]) ? w[at(f, c, k)] : 0);
          }
        }
      }
    }
    rowStart[b + 1] = ch.length;
  }
  return { bf, bc, filters, channels, kernel, blockRows, rowStart, unitChannel: Int32Array.from(ch), unitKernel: Int32Array.from(kp), values: Float32Array.from(vals) };
}

/** Fraction of the stored units' weights over all weights (1 for dense). */
export function keptFraction(f: BlockFormat): number {
  return (f.unitChannel.length * f.bf * f.bc) / (f.blockRows * f.bf * Math.ceil(f.channels / f.bc) * f.bc * f.kernel);
}
