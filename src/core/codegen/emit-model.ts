// The whole-model runner: walks the main graph of an NCHW CNN (batch 1) in file order and emits
// one C statement per node, each value in its own static buffer. Conv and Gemm/MatMul layers get
// kernels in the compact format of their scheme (layer-kernels.ts; grouped Conv one kernel per
// group on pointer offsets, depthwise its own kernel), a Relu or constant Clip that is a Conv's
// only consumer is fused into it, and the other ops get small generic loops with their shapes baked
// in. Anything else is refused with the op (or scheme) and node named.

import { ModelError } from '../errors';
import type { Layer } from '../layers';
import { floatAttr, intAttr, intsAttr, stringAttr, walkGraphs, type GraphContext } from '../onnx/graph-view';
import type { LoadedModel } from '../onnx/load';
import type { Node } from '../onnx/model';
import { ShapeTable } from '../onnx/shapes';
import { elementCount } from '../onnx/tensor-data';
import type { MaskSet } from '../prune/masks';
import { cFloat, NO_ACTIVATION, type Activation } from './activation';
import { BUFFER_SLACK, outputSize, type ConvGeometry, type ConvKernel } from './emit-conv';
import { emitDepthwise } from './emit-depthwise';
import { cIdentifier } from './identifiers';
import { CODEGEN_SCHEMES, convLayerKernel, gemmLayerKernel, UnsupportedScheme, type ConvVectors, type LayerKernel } from './layer-kernels';
import { WeightFile } from './weight-file';

/** The vector type and helpers every kernel uses, defined before the kernels (also by latency/timing-harness.ts). */
export const C_VECTOR_HELPERS: readonly string[] = [
  'typedef float v8f __attribute__((vector_size(32)));',
  'typedef int v8i __attribute__((vector_size(32)));',
  'static inline v8f ld(const float *p) { v8f v; memcpy(&v, p, sizeof v); return v; }',
  'static inline void st(float *p, v8f v) { memcpy(p, &v, sizeof v); }',
  'static inline v8f vsplat(float x) { v8f v = {x, x, x, x, x, x, x, x}; return v; }',
  '/* lanes 0, 2, …, 14 of a:b (stride-2 plane fill) */',
  '#if defined(__clang__)',
  '#define EVEN8(a, b) __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14)',
  '#else',
  '#define EVEN8(a, b) __builtin_shuffle(a, b, (v8i){0, 2, 4, 6, 8, 10, 12, 14})',
  '#endif',
  'static inline v8f vmax(v8f a, v8f b) { v8i m = (v8i)(a > b); return (v8f)(((v8i)a & m) | ((v8i)b & ~m)); }',
  'static inline v8f vmin(v8f a, v8f b) { v8i m = (v8i)(a < b); return (v8f)(((v8i)a & m) | ((v8i)b & ~m)); }',
];

export interface GeneratedLayer {
  /** Index in the runner's layer table (prunemap_layer_run). */
  readonly index: number;
  readonly id: string;
  readonly scheme: string;
  readonly block?: readonly [number, number];
  /** Fraction of the layer's weights stored (1 for dense). */
  readonly kept: number;
  /** The compact format its kernel uses (docs/codegen.md): "block 8x4", "row-sparse", "pattern", "depthwise", … */
  readonly format?: string;
}

export interface GeneratedModel {
  /** File name → contents. */
  readonly files: Record<string, string | Uint8Array>;
  readonly inputName: string;
  readonly inputShape: number[];
  readonly outputName: string;
  readonly outputShape: number[];
  readonly layers: GeneratedLayer[];
}

export interface EmitOptions {
  readonly threads?: number;
  /** Also emit a dense kernel for every pruned Conv (prunemap_layer_run(i, 1)), for benchmarks. */
  readonly denseTwins?: boolean;
  /** Block-format Conv kernels: picked per layer (default), or forced, for tests and benches. */
  readonly convVectors?: ConvVectors;
}

interface Value { readonly c: string; readonly shape: number[]; readonly size: number }

export function emitModel(loaded: LoadedModel, layers: readonly Layer[], masks: MaskSet, options: EmitOptions = {}): GeneratedModel {
  const threads = options.threads ?? 1;
  const ctx = walkGraphs(loaded.model).next().value as GraphContext;
  const graph = ctx.graph;
  const where = loaded.model.path;
  const shapes = new ShapeTable(ctx.scope, loaded.tensors);
  const store = new WeightFile();
  const layerOf = new Map(layers.filter((l) => l.graphPath.length === 0).map((l) => [l.nodeIndex, l]));
  const fail = (what: string, hint: string) => { throw new ModelError(what, where, hint); };

  const initializers = new Set(graph.initializers.map((t) => t.name));
  const inputs = graph.inputs.filter((i) => !initializers.has(i.name));
  if (inputs.length !== 1) fail(`codegen needs exactly one graph input, the model has ${inputs.length}`, 'Export the model with one image input.');
  if (graph.outputs.length !== 1) fail(`codegen needs exactly one graph output, the model has ${graph.outputs.length}`, 'Export the model with one output.');

  const values = new Map<string, Value>();
  const buffers: string[] = [];
  const concrete = (name: string): number[] => {
    const s = shapes.get(name);
    if (!s) fail(`the shape of "${clip(name)}" is unknown`, 'Export the model with static shapes (or run onnx shape inference on it).');
    return s!.map((d, i) => (typeof d === 'number' ? d : i === 0 ? 1 : fail(`dimension ${i} of "${clip(name)}" is symbolic`, 'Only the batch dimension may be symbolic (it is taken as 1).') as never));
  };
  const define = (name: string, shape?: number[]): Value => {
    const sh = shape ?? concrete(name);
    const v = { c: cIdentifier('v', values.size, ''), shape: sh, size: elementCount(sh) };
    values.set(name, v);
    buffers.push(`static float ${v.c}[${v.size + BUFFER_SLACK}] __attribute__((aligned(32)));`);
    return v;
  };
  const constant = (name: string): Float32Array | undefined => {
    const t = ctx.scope.constant(name);
    return t ? loaded.tensors.float32(t) : undefined;
  };
  /** A node input as a C pointer expression: a computed value or a constant in the weight file. */
  const operand = (node: Node, i: number): Value => {
    const name = node.inputs[i] ?? '';
    const v = values.get(name);
    if (v) return v;
    const k = constant(name);
    if (!k) fail(`input ${i} of ${node.opType} node ${describe(node)} is not available`, 'The graph is not in topological order or uses an unsupported construct.');
    const t = ctx.scope.constant(name)!;
    const at = store.addFloats(Float32Array.from(k!));
    return { c: `(WF + ${at})`, shape: [...t.dims], size: k!.length };
  };

  const input = inputs[0];
  if (input.type?.kind !== 'tensor' || input.type.elemType !== 1) fail(`input "${clip(input.name)}" is not a float tensor`, 'Codegen supports float32 models.');
  values.set(input.name, { c: 'g_in', shape: concrete(input.name), size: elementCount(concrete(input.name)) });

  const kernels: string[] = [];
  const body: string[] = [];
  const layerTable: { fn: string; dense?: string; in: string; out: string }[] = [];
  const generated: GeneratedLayer[] = [];
  let planeFloats = 8, tmpFloats = 8;
  const consumers = new Map<string, number>();
  for (const n of graph.nodes) for (const i of n.inputs) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  const outputNames = new Set(graph.outputs.map((o) => o.name));
  const fused = new Set<Node>();
  /** Constant Clip bounds of `node` (opset ≥ 11 inputs or older attributes); undefined when computed. */
  const clipBounds = (node: Node): [number, number] | undefined => {
    const lo = node.inputs[1] ? constant(node.inputs[1])?.[0] : floatAttr(node, 'min', -3.4e38);
    const hi = node.inputs[2] ? constant(node.inputs[2])?.[0] : floatAttr(node, 'max', 3.4e38);
    return lo === undefined || hi === undefined || Number.isNaN(lo) || Number.isNaN(hi) ? undefined : [lo, hi];
  };
  /** A Relu or constant Clip right after node `index` that is its only consumer (and not a graph output) is fused. */
  const fusedActivation = (index: number, out: string): { act: Activation; next?: Node } => {
    const next = graph.nodes[index + 1];
    if (!next || next.inputs[0] !== out || consumers.get(out) !== 1 || outputNames.has(out)) return { act: NO_ACTIVATION };
    if (next.opType === 'Relu') return { act: { kind: 'relu' }, next };
    const bounds = next.opType === 'Clip' ? clipBounds(next) : undefined;
    return bounds ? { act: { kind: 'clip', lo: bounds[0], hi: bounds[1] }, next } : { act: NO_ACTIVATION };
  };

  graph.nodes.forEach((node, index) => {
    if (fused.has(node)) return;
    const op = node.opType;
    if (node.domain !== '' && node.domain !== 'ai.onnx') fail(`op ${node.domain}.${op} (node ${describe(node)}) is not supported by codegen`, 'Codegen supports standard ONNX CNN ops.');
    const x = () => operand(node, 0);
    const out0 = node.outputs[0];
    switch (op) {
      case 'Conv': {
        const layer = layerOf.get(index);
        const w = constant(node.inputs[1] ?? '');
        if (!layer || !w) return fail(`Conv node ${describe(node)} has no constant weight`, 'Codegen needs Conv weights stored in the model.');
        const a = x();
        if (a.shape.length !== 4 || layer.weightShape.length !== 4) return fail(`Conv node ${describe(node)} is not 2-D`, 'Codegen supports 2-D convolutions (NCHW).');
        if ((intsAttr(node, 'dilations') ?? [1, 1]).some((d) => d !== 1)) return fail(`Conv node ${describe(node)} is dilated`, 'Codegen supports dilation 1 only.');
        const autoPad = stringAttr(node, 'auto_pad', 'NOTSET');
        if (autoPad !== 'NOTSET') return fail(`Conv node ${describe(node)} uses auto_pad ${clip(autoPad)}`, 'Export with explicit pads.');
        const [F, Cg, KH, KW] = layer.weightShape;
        const G = layer.group;
        const pads = intsAttr(node, 'pads') ?? [0, 0, 0, 0];
        const strides = intsAttr(node, 'strides') ?? [1, 1];
        const geom: ConvGeometry = { channels: a.shape[1], height: a.shape[2], width: a.shape[3], filters: F, kernel: [KH, KW], strides: [strides[0], strides[1]], pads: [pads[0], pads[1], pads[2], pads[3]] };
        if (Cg * G !== geom.channels || F % G !== 0) return fail(`Conv node ${describe(node)}: weight has ${Cg} channels × ${G} groups, input ${geom.channels}`, 'The model is inconsistent.');
        const entry = masks.get(layer.id);
        const spec = entry?.spec;
        const mask = entry?.masks[0];
        const bias = node.inputs[2] ? constant(node.inputs[2]) : undefined;
        const { act, next } = fusedActivation(index, out0);
        const result = next ? next.outputs[0] : out0;
        const [OH, OW] = outputSize(geom);
        const o = define(result, [1, F, OH, OW]);
        const name = cIdentifier('conv', layerTable.length, layer.id);
        const slack = a.c !== 'g_in' && !a.c.startsWith('(WF');
        const use = (k: ConvKernel) => {
          kernels.push(k.source);
          planeFloats = Math.max(planeFloats, k.planeFloats);
          tmpFloats = Math.max(tmpFloats, k.tmpFloats);
        };
        let info: { format: string; kept: number; block?: readonly [number, number] };
        let dense: string | undefined;
        if (G > 1 && Cg === 1) {
          // Depthwise (channel multiplier F/C): its own kernel over the masked weights.
          const wm = mask ? w.map((v, i) => (mask[i] ? v : 0)) : w;
          use(emitDepthwise(name, geom, wm, bias, act, store, threads));
          info = { format: 'depthwise', kept: mask ? mask.reduce((s, v) => s + v, 0) / mask.length : 1 };
          if (options.denseTwins && mask) { use(emitDepthwise(`${name}_dense`, geom, w, bias, act, store, threads)); dense = `${name}_dense`; }
        } else {
          // One kernel per group (its slice of the weight, mask and bias), called on pointer offsets.
          const Fg = F / G, K = KH * KW, H = geom.height, W = geom.width;
          const sub: ConvGeometry = { ...geom, channels: Cg, filters: Fg };
          const emitGroups = (fn: string, withMask: boolean) => {
            const calls: string[] = [];
            let last: LayerKernel | undefined;
            for (let gi = 0; gi < G; gi++) {
              const span = [gi * Fg * Cg * K, (gi + 1) * Fg * Cg * K] as const;
              const gname = G > 1 ? `${fn}_g${gi}` : fn;
              try {
                last = convLayerKernel(gname, sub, w.subarray(...span), withMask ? mask?.subarray(...span) : undefined, withMask ? spec : undefined, bias?.subarray(gi * Fg, (gi + 1) * Fg), act, store, threads, slack, options.convVectors);
              } catch (e) {
                if (e instanceof UnsupportedScheme) return fail(`layer ${clip(layer.id)}: scheme ${clip(e.message)} is not supported by codegen`, `Supported: ${CODEGEN_SCHEMES.join(', ')}.`) as never;
                throw e;
              }
              use(last.kernel);
              calls.push(`${gname}(in + ${gi * Cg * H * W}, out + ${gi * Fg * OH * OW});`);
            }
            if (G > 1) kernels.push(`static void ${fn}(const float *restrict in, float *restrict out) { ${calls.join(' ')} }\n`);
            return last!;
          };
          const k = emitGroups(name, true);
          info = { format: G > 1 ? `${k.format}, ${G} groups` : k.format, kept: k.kept, block: k.block };
          if (G > 1 && mask) info = { ...info, kept: mask.reduce((s, v) => s + v, 0) / mask.length };
          if (options.denseTwins && mask) { emitGroups(`${name}_dense`, false); dense = `${name}_dense`; }
        }
        body.push(`  ${name}(${a.c}, ${o.c});`);
        layerTable.push({ fn: name, dense, in: a.c, out: o.c });
        generated.push({ index: layerTable.length - 1, id: layer.id, scheme: spec?.scheme ?? 'dense', block: info.block, kept: info.kept, format: info.format });
        if (next) fused.add(next);
        return;
      }
      case 'Constant':
        return; // its value is read through the scope as a constant where used
      case 'Relu': case 'Clip': case 'LeakyRelu': case 'Sigmoid': case 'HardSigmoid': case 'HardSwish': {
        const a = x(), o = define(out0, a.shape);
        let expr = 'v > 0.0f ? v : 0.0f';
        if (op === 'Clip') {
          const bounds = clipBounds(node);
          if (!bounds) return fail(`Clip node ${describe(node)} has computed bounds`, 'Codegen needs constant Clip bounds.');
          const [lo, hi] = bounds;
          expr = `v < ${cFloat(lo)} ? ${cFloat(lo)} : v > ${cFloat(hi)} ? ${cFloat(hi)} : v`;
        } else if (op === 'LeakyRelu') expr = `v > 0.0f ? v : v * ${cFloat(floatAttr(node, 'alpha', 0.01))}`;
        else if (op === 'Sigmoid') expr = '1.0f / (1.0f + expf(-v))';
        else if (op === 'HardSigmoid') expr = `fminf(1.0f, fmaxf(0.0f, v * ${cFloat(floatAttr(node, 'alpha', 0.2))} + ${cFloat(floatAttr(node, 'beta', 0.5))}))`;
        else if (op === 'HardSwish') expr = 'v * fminf(1.0f, fmaxf(0.0f, v * (1.0f / 6.0f) + 0.5f))';
        body.push(`  for (int i = 0; i < ${a.size}; i++) { const float v = ${a.c}[i]; ${o.c}[i] = ${expr}; }`);
        return;
      }
      case 'Add': case 'Mul': case 'Sub': case 'Div': {
        const a = x(), b = operand(node, 1);
        const sym = op === 'Add' ? '+' : op === 'Mul' ? '*' : op === 'Sub' ? '-' : '/';
        const o = define(out0);
        if (a.size === o.size && b.size === o.size) body.push(`  for (int i = 0; i < ${o.size}; i++) ${o.c}[i] = ${a.c}[i] ${sym} ${b.c}[i];`);
        else if (a.size === o.size && b.size === 1) body.push(`  for (int i = 0; i < ${o.size}; i++) ${o.c}[i] = ${a.c}[i] ${sym} ${b.c}[0];`);
        else {
          // Numpy broadcasting: one loop per output dimension, each operand with stride 0 where it has size 1.
          const rank = o.shape.length;
          const strides = (shape: number[]) => {
            const s = [...Array(rank - shape.length).fill(1), ...shape];
            if (s.some((d, i) => d !== 1 && d !== o.shape[i])) return undefined;
            const out = new Array<number>(rank).fill(0);
            for (let i = rank - 1, acc = 1; i >= 0; i--) { out[i] = s[i] === 1 ? 0 : acc; acc *= s[i]; }
            return out;
          };
          const sa = strides(a.shape), sb = strides(b.shape);
          if (!sa || !sb || a.shape.length > rank || b.shape.length > rank) return fail(`${op} node ${describe(node)} broadcasts ${JSON.stringify(a.shape)} with ${JSON.stringify(b.shape)} to ${JSON.stringify(o.shape)}`, 'The model is inconsistent.');
          const loops = o.shape.map((d, i) => `for (int i${i} = 0; i < ${d}; i++) `.replace('i <', `i${i} <`).replace('i++', `i${i}++`)).join('');
          const idx = (st: number[]) => st.map((s, i) => (s ? `i${i} * ${s}` : '')).filter(Boolean).join(' + ') || '0';
          body.push(`  { float *d = ${o.c}; ${loops}*d++ = ${a.c}[${idx(sa)}] ${sym} ${b.c}[${idx(sb)}]; }`);
        }
        return;
      }
      case 'BatchNormalization': {
        const a = x();
        const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => constant(node.inputs[i] ?? ''));
        if (!scale || !bias || !mean || !variance) return fail(`BatchNormalization node ${describe(node)} has computed parameters`, 'Codegen needs constant BatchNormalization parameters.');
        const eps = floatAttr(node, 'epsilon', 1e-5);
        const C = a.shape[1], inner = a.size / C;
        const mul = new Float32Array(C), add = new Float32Array(C);
        for (let c = 0; c < C; c++) { mul[c] = scale[c] / Math.sqrt(variance[c] + eps); add[c] = bias[c] - mean[c] * mul[c]; }
        const m = store.addFloats(mul), d = store.addFloats(add);
        const o = define(out0, a.shape);
        body.push(`  for (int c = 0; c < ${C}; c++) for (int i = 0; i < ${inner}; i++) ${o.c}[c * ${inner} + i] = ${a.c}[c * ${inner} + i] * WF[${m} + c] + WF[${d} + c];`);
        return;
      }
      case 'MaxPool': case 'AveragePool': {
        const a = x();
        if (a.shape.length !== 4) return fail(`${op} node ${describe(node)} is not 2-D`, 'Codegen supports 2-D pooling.');
        const ceil = intAttr(node, 'ceil_mode', 0) !== 0;
        const countPad = intAttr(node, 'count_include_pad', 0) === 1;
        if (stringAttr(node, 'auto_pad', 'NOTSET') !== 'NOTSET' || (intsAttr(node, 'dilations') ?? [1, 1]).some((d) => d !== 1) || (ceil && countPad)) {
          return fail(`${op} node ${describe(node)} uses auto_pad, dilations or ceil_mode with count_include_pad`, 'Codegen supports explicit pads and dilation 1.');
        }
        const [kh, kw] = intsAttr(node, 'kernel_shape') ?? [1, 1];
        const [sh, sw] = intsAttr(node, 'strides') ?? [1, 1];
        const [pt, pl, pb, pr] = intsAttr(node, 'pads') ?? [0, 0, 0, 0];
        const [, C, H, W] = a.shape;
        // ceil_mode: one more window when the input leaves a partial one, unless it would start in the right/bottom padding.
        const size = (n: number, k: number, s0: number, p0: number, p1: number) => {
          const o = (ceil ? Math.ceil((n + p0 + p1 - k) / s0) : Math.floor((n + p0 + p1 - k) / s0)) + 1;
          return ceil && (o - 1) * s0 >= n + p0 ? o - 1 : o;
        };
        const OH = size(H, kh, sh, pt, pb), OW = size(W, kw, sw, pl, pr);
        const o = define(out0, [1, C, OH, OW]);
        const max = op === 'MaxPool';
        body.push([
          `  for (int c = 0; c < ${C}; c++) for (int oh = 0; oh < ${OH}; oh++) for (int ow = 0; ow < ${OW}; ow++) {`,
          `    float r = ${max ? '-INFINITY' : '0.0f'}; int n = 0;`,
          `    for (int i = 0; i < ${kh}; i++) for (int j = 0; j < ${kw}; j++) {`,
          `      const int y = oh * ${sh} + i - ${pt}, x = ow * ${sw} + j - ${pl};`,
          `      if (y < 0 || y >= ${H} || x < 0 || x >= ${W}) continue;`,
          `      const float v = ${a.c}[(c * ${H} + y) * ${W} + x]; ${max ? 'if (v > r) r = v;' : 'r += v;'} n++;`,
          `    }`,
          `    ${o.c}[(c * ${OH} + oh) * ${OW} + ow] = ${max ? 'r' : countPad ? `r / ${kh * kw}.0f` : 'r / (float)n'};`,
          `  }`,
        ].join('\n'));
        return;
      }
      case 'GlobalAveragePool': {
        const a = x();
        const C = a.shape[1], inner = a.size / C;
        const o = define(out0, [1, C, ...a.shape.slice(2).map(() => 1)]);
        body.push(`  for (int c = 0; c < ${C}; c++) { float s = 0.0f; for (int i = 0; i < ${inner}; i++) s += ${a.c}[c * ${inner} + i]; ${o.c}[c] = s / ${inner}.0f; }`);
        return;
      }
      case 'Flatten': case 'Reshape': case 'Identity': case 'Dropout': case 'Squeeze': case 'Unsqueeze': {
        const a = x();
        const shape = concrete(out0);
        if (elementCount(shape) !== a.size) return fail(`${op} node ${describe(node)} changes the element count`, 'The model is inconsistent.');
        values.set(out0, { c: a.c, shape, size: a.size }); // same data, new shape: no copy
        return;
      }
      case 'Concat': {
        const parts = node.inputs.map((_, i) => operand(node, i));
        const o = define(out0);
        const axis = normAxis(intAttr(node, 'axis', 0), o.shape.length);
        const outer = elementCount(o.shape.slice(0, axis));
        const lines = [`  for (int i = 0; i < ${outer}; i++) { float *d = ${o.c} + i * ${o.size / outer};`];
        for (const p of parts) {
          const chunk = p.size / outer;
          lines.push(`    memcpy(d, ${p.c} + i * ${chunk}, sizeof(float) * ${chunk}); d += ${chunk};`);
        }
        body.push(lines.join('\n') + '\n  }');
        return;
      }
      case 'Gemm': case 'MatMul': {
        const a = x();
        const b = constant(node.inputs[1] ?? '');
        const bt = ctx.scope.constant(node.inputs[1] ?? '');
        if (!b || !bt || bt.dims.length !== 2) return fail(`${op} node ${describe(node)} has no constant 2-D weight`, 'Codegen supports layers with stored 2-D weights.');
        if (op === 'Gemm' && intAttr(node, 'transA', 0)) return fail(`Gemm node ${describe(node)} uses transA`, 'Export without transA.');
        const transB = op === 'Gemm' && intAttr(node, 'transB', 0) === 1;
        const [N, K] = transB ? bt.dims : [bt.dims[1], bt.dims[0]];
        const alpha = op === 'Gemm' ? floatAttr(node, 'alpha', 1) : 1, beta = op === 'Gemm' ? floatAttr(node, 'beta', 1) : 1;
        const layer = layerOf.get(index);
        const entry = layer && masks.get(layer.id);
        const mask = entry?.masks[0];
        // Weight and mask as [N][K], alpha folded in.
        const wt = new Float32Array(N * K);
        const mt = mask ? new Uint8Array(N * K) : undefined;
        for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) {
          const i = transB ? n * K + k : k * N + n;
          wt[n * K + k] = b[i] * alpha;
          if (mt) mt[n * K + k] = mask![i];
        }
        const cvals = node.inputs[2] ? constant(node.inputs[2]) : undefined;
        if (node.inputs[2] && (!cvals || (cvals.length !== N && cvals.length !== 1))) return fail(`Gemm node ${describe(node)} has a bias that is not constant [N]`, 'Codegen supports constant per-output biases.');
        const bias = new Float32Array(N).map((_, n) => (cvals ? cvals[cvals.length === 1 ? 0 : n] * beta : 0));
        const M = a.size / K;
        if (!Number.isInteger(M)) return fail(`${op} node ${describe(node)}: input of ${a.size} elements for K = ${K}`, 'The model is inconsistent.');
        const o = define(out0);
        const name = cIdentifier('gemm', index, layer?.id ?? '');
        let g: ReturnType<typeof gemmLayerKernel>;
        try {
          g = gemmLayerKernel(name, M, N, K, wt, mt, entry?.spec, bias, store, threads);
        } catch (e) {
          if (e instanceof UnsupportedScheme) return fail(`layer ${clip(layer!.id)}: scheme ${clip(e.message)} is not supported by codegen for ${op}`, 'Supported for Gemm/MatMul: dense, block-punched, block-bcr, filter, channel, unstructured, nm.');
          throw e;
        }
        kernels.push(g.kernel.source);
        tmpFloats = Math.max(tmpFloats, g.kernel.tmpFloats);
        body.push(`  ${name}(${a.c}, ${o.c});`);
        if (layer) generated.push({ index: -1, id: layer.id, scheme: entry?.spec?.scheme ?? 'dense', kept: g.kept, format: g.format });
        return;
      }
      case 'Softmax': {
        const a = x(), o = define(out0, a.shape);
        const axis = normAxis(intAttr(node, 'axis', -1), a.shape.length);
        if (axis !== a.shape.length - 1) return fail(`Softmax node ${describe(node)} is not over the last axis`, 'Codegen supports Softmax over the last axis.');
        const n = a.shape[axis];
        body.push(`  for (int r = 0; r < ${a.size / n}; r++) { const float *s = ${a.c} + r * ${n}; float *d = ${o.c} + r * ${n}; float m = s[0], t = 0.0f;`,
          `    for (int i = 1; i < ${n}; i++) if (s[i] > m) m = s[i];`,
          `    for (int i = 0; i < ${n}; i++) { d[i] = expf(s[i] - m); t += d[i]; }`,
          `    for (int i = 0; i < ${n}; i++) d[i] /= t; }`);
        return;
      }
      default:
        return fail(`op ${clip(op)} (node ${describe(node)}) is not supported by codegen`, 'Supported: Conv (incl. grouped, depthwise), Gemm, MatMul, BatchNormalization, Relu, Clip, LeakyRelu, Sigmoid, HardSigmoid, HardSwish, Add, Sub, Mul, Div (broadcasting), MaxPool, AveragePool, GlobalAveragePool, Flatten, Reshape, Concat, Softmax.');
    }
  });

  const output = values.get(graph.outputs[0].name);
  if (!output) fail('the graph output is not computed by any node', 'The model is inconsistent.');
  const inSize = values.get(input.name)!.size;

  const model = [
    '/* Generated by prunemap codegen. Do not edit. */',
    '#include <math.h>',
    '#include <stdio.h>',
    '#include <stdlib.h>',
    '#include <string.h>',
    '#include "prunemap_model.h"',
    ...(threads > 1 ? ['#include <omp.h>'] : []),
    '',
    ...C_VECTOR_HELPERS,
    '',
    'static float *WF; /* weights, biases: see prunemap_model_load */',
    'static int *WI;   /* unit offsets and block-row starts */',
    'static const float *g_in;',
    `static float g_planes[${planeFloats}] __attribute__((aligned(32)));`,
    `static float g_tmp[${tmpFloats}] __attribute__((aligned(32)));`,
    ...buffers,
    '',
    ...kernels,
    'int prunemap_model_load(const char *path) {',
    '  FILE *f = fopen(path, "rb"); unsigned char h[12]; unsigned nf, ni;',
    '  if (!f) return -1;',
    '  if (fread(h, 1, 12, f) != 12 || memcmp(h, "PMW1", 4) != 0) { fclose(f); return -2; }',
    '  nf = h[4] | h[5] << 8 | h[6] << 16 | (unsigned)h[7] << 24; ni = h[8] | h[9] << 8 | h[10] << 16 | (unsigned)h[11] << 24;',
    '  WF = aligned_alloc(32, ((nf + 7) / 8) * 32 + 32); WI = malloc(sizeof(int) * ni + 4);',
    '  if (!WF || !WI || fread(WF, 4, nf, f) != nf || fread(WI, 4, ni, f) != ni) { fclose(f); return -3; }',
    '  fclose(f);',
    '  return 0;',
    '}',
    '',
    'void prunemap_model_run(const float *in, float *out) {',
    '  g_in = in;',
    ...body,
    `  memcpy(out, ${output!.c}, sizeof(float) * ${output!.size});`,
    '}',
    '',
  ].join('\n');
  // Layer table: inputs may be the graph input (g_in, set at run time), so each entry is a function.
  const table = [
    ...layerTable.map((l, i) => `static void layer_${i}(int dense) { if (dense) ${l.dense ?? l.fn}(${l.in}, ${l.out}); else ${l.fn}(${l.in}, ${l.out}); }`),
    'static void (*const layers[])(int) = {',
    ...layerTable.map((_, i) => `  layer_${i},`),
    '  0',
    '};',
    `int prunemap_layer_count(void) { return ${layerTable.length}; }`,
    '/* Runs generated layer i (its dense twin when dense != 0) on the buffers of the last model run. */',
    'void prunemap_layer_run(int i, int dense) { layers[i](dense); }',
    `int prunemap_input_size(void) { return ${inSize}; }`,
    `int prunemap_output_size(void) { return ${output!.size}; }`,
    '',
  ].join('\n');
  const header = [
    '/* prunemap generated model: C API. */',
    '#ifndef PRUNEMAP_MODEL_H',
    '#define PRUNEMAP_MODEL_H',
    '/* Reads the weight file (model.bin); 0 on success. Call once before running. */',
    'int prunemap_model_load(const char *weights_path);',
    `/* in: ${inSize} floats (NCHW ${values.get(input.name)!.shape.join('x')}); out: ${output!.size} floats. Not reentrant. */`,
    'void prunemap_model_run(const float *in, float *out);',
    'int prunemap_input_size(void);',
    'int prunemap_output_size(void);',
    'int prunemap_layer_count(void);',
    'void prunemap_layer_run(int i, int dense);',
    '#endif',
    '',
  ].join('\n');
  return {
    files: {
      'prunemap_model.h': header,
      'prunemap_model.c': model + table,
      'model.bin': store.bytes(),
    },
    inputName: input.name,
    inputShape: values.get(input.name)!.shape,
    outputName: graph.outputs[0].name,
    outputShape: output!.shape,
    layers: generated,
  };
}

function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** A model string for a message: quoted, control characters escaped, at most 80 characters. */
function clip(s: string): string {
  const j = JSON.stringify(s);
  return j.length > 82 ? j.slice(0, 79) + '…"' : j.slice(1, -1);
}

function describe(node: Node): string {
  return node.name ? `"${clip(node.name)}"` : `(unnamed, outputs "${clip(node.outputs[0] ?? '')}")`;
}
