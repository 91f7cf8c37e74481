// The GEMM view of a layer's weights (DOMAIN.md §2): every prunable weight is seen as one or more
// matrices of F rows (output channels) × C·K columns (input channels × kernel positions), with
// column = c·K + k. Schemes work on these views; the strides map (f, c, k) back to the tensor's
// own flat layout, so masks come out in the layout of the ONNX tensor, whatever the op.

import type { Layer } from '../layers';

export interface WeightMatrix {
  /** Which of the layer's weight tensors: 0 = the weight (W), 1 = the recurrence weight R of RNNs. */
  readonly tensor: 0 | 1;
  /** Flat index of element (0, 0, 0) in that tensor. */
  readonly offset: number;
  /** F: output channels (rows of the GEMM view). */
  readonly rows: number;
  /** C: input channels (per group for grouped Conv). */
  readonly channels: number;
  /** K: kernel positions Kh·Kw… (1 for Gemm, MatMul and RNN matrices). Always contiguous. */
  readonly kernel: number;
  readonly rowStride: number;
  readonly channelStride: number;
  /** Where the matrix comes from, for messages: "group 2 of 4", "direction 1, R". */
  readonly label: string;
}

/** Flat tensor index of element (row f, input channel c, kernel position k). */
export function at(m: WeightMatrix, f: number, c: number, k: number): number {
  return m.offset + f * m.rowStride + c * m.channelStride + k;
}

/** The GEMM-view matrices of a layer, one per group (Conv), batch slice (MatMul) or direction (RNN). */
export function weightMatrices(layer: Pick<Layer, 'op' | 'weightShape' | 'group' | 'node' | 'recurrentTensor'>): WeightMatrix[] {
  const s = layer.weightShape;
  const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);
  switch (layer.op) {
    case 'Conv': {
      // W[F][C/g][k…]: rows of group g are filters g·F/g …; the flat layout already is [F][C/g·K].
      const [f, cg] = s, k = product(s.slice(2)), g = layer.group, fg = f / g;
      return range(g).map((i) => ({ tensor: 0, offset: i * fg * cg * k, rows: fg, channels: cg, kernel: k, rowStride: cg * k, channelStride: k, label: g > 1 ? `group ${i + 1} of ${g}` : 'weight' }));
    }
    case 'ConvTranspose': {
      // W[C][F/g][k…]: input channel c of group g is row c of the tensor; output f within the group.
      const [c, fg] = s, k = product(s.slice(2)), g = layer.group, cg = c / g;
      return range(g).map((i) => ({ tensor: 0, offset: i * cg * fg * k, rows: fg, channels: cg, kernel: k, rowStride: k, channelStride: fg * k, label: g > 1 ? `group ${i + 1} of ${g}` : 'weight' }));
    }
    case 'Gemm': {
      const transB = layer.node.attributes.find((a) => a.name === 'transB')?.i;
      const [a, b] = s;
      // transB: W[F][C]; otherwise W[C][F].
      return Number(transB ?? 0) === 1
        ? [{ tensor: 0, offset: 0, rows: a, channels: b, kernel: 1, rowStride: b, channelStride: 1, label: 'weight' }]
        : [{ tensor: 0, offset: 0, rows: b, channels: a, kernel: 1, rowStride: 1, channelStride: b, label: 'weight' }];
    }
    case 'MatMul': {
      // W[…][C][F]: each leading index is a separate [C][F] matrix.
      const c = s[s.length - 2], f = s[s.length - 1], n = product(s.slice(0, -2));
      return range(n).map((i) => ({ tensor: 0, offset: i * c * f, rows: f, channels: c, kernel: 1, rowStride: 1, channelStride: f, label: n > 1 ? `matrix ${i + 1} of ${n}` : 'weight' }));
    }
    default: {
      // LSTM/GRU/RNN: W[dirs][gates·H][input] and R[dirs][gates·H][H], one matrix per direction each.
      const [dirs, rows, input] = s;
      const hidden = layer.recurrentTensor?.dims[2] ?? 0;
      const w = range(dirs).map((d) => ({ tensor: 0 as const, offset: d * rows * input, rows, channels: input, kernel: 1, rowStride: input, channelStride: 1, label: dirs > 1 ? `direction ${d + 1}, W` : 'W' }));
      const r = range(dirs).map((d) => ({ tensor: 1 as const, offset: d * rows * hidden, rows, channels: hidden, kernel: 1, rowStride: hidden, channelStride: 1, label: dirs > 1 ? `direction ${d + 1}, R` : 'R' }));
      return hidden ? [...w, ...r] : w;
    }
  }
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** What schemes need to judge a layer, from the engine's Layer. */
export function geometryOf(layer: Layer): { op: string; kernelShape: readonly number[]; group: number; matrices: WeightMatrix[] } {
  return { op: layer.op, kernelShape: layer.kernel, group: layer.group, matrices: weightMatrices(layer) };
}
