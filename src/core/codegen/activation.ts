// The activation fused into a kernel's epilogue: Relu, or Clip with constant bounds (ReLU6 in
// MobileNets). Vector forms use vmax/vmin from the generated prelude (GCC's C mode has no vector ?:).

export type Activation = { readonly kind: 'none' } | { readonly kind: 'relu' } | { readonly kind: 'clip'; readonly lo: number; readonly hi: number };

export const NO_ACTIVATION: Activation = { kind: 'none' };

/** A C float literal (finite; ±FLT_MAX beyond). */
export function cFloat(x: number): string {
  if (!Number.isFinite(x)) return x > 0 ? '3.402823e38f' : '-3.402823e38f';
  return `${Math.fround(x).toPrecision(9)}f`;
}

/** C expression applying `a` to the float expression `v` (evaluated more than once: pass a name). */
export function scalarActivation(a: Activation, v: string): string {
  if (a.kind === 'relu') return `(${v} > 0.0f ? ${v} : 0.0f)`;
  if (a.kind === 'clip') return `(${v} < ${cFloat(a.lo)} ? ${cFloat(a.lo)} : ${v} > ${cFloat(a.hi)} ? ${cFloat(a.hi)} : ${v})`;
  return v;
}

/** C expression applying `a` to the v8f expression `v`. */
export function vectorActivation(a: Activation, v: string): string {
  if (a.kind === 'relu') return `vmax(${v}, (v8f){0})`;
  if (a.kind === 'clip') return `vmin(vmax(${v}, vsplat(${cFloat(a.lo)})), vsplat(${cFloat(a.hi)}))`;
  return v;
}

export function describeActivation(a: Activation): string {
  return a.kind === 'relu' ? ', Relu fused' : a.kind === 'clip' ? `, Clip ${a.lo}..${a.hi} fused` : '';
}
