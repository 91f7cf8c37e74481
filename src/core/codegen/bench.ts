// Times the compiled model and each generated Conv (sparse, and its dense twin) against
// onnxruntime-node on the same pruned model and on a one-node model of the same layer. Runs
// alternate between ours and onnxruntime, round by round; each figure is the median of the rounds'
// medians. Threads: ours as compiled, onnxruntime with intraOpNumThreads = threads.

import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import { ModelError } from '../errors';
import type { Layer } from '../layers';
import { intsAttr } from '../onnx/graph-view';
import type { LoadedModel } from '../onnx/load';
import type { MaskSet } from '../prune/masks';
import { runChild, throwIfCancelled } from './child-process';
import { RUNNER_BINARY } from './compile';
import type { GeneratedModel } from './emit-model';
import { generatedInput, loadOrt } from './verify';

export interface LayerTiming {
  readonly id: string;
  readonly scheme: string;
  readonly oursMs: number;
  readonly ortMs: number;
  readonly denseOursMs: number;
}

export interface BenchResult {
  readonly layers: LayerTiming[];
  readonly model: { readonly oursMs: number; readonly ortMs: number };
}

export interface BenchOptions {
  readonly rounds?: number;
  readonly reps?: number;
  readonly threads?: number;
  readonly signal?: AbortSignal;
  /** Called as each layer is timed: fraction 0..1 and "benchmarking layer 3/21". */
  readonly onProgress?: (fraction: number, message: string) => void;
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b), n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

export async function benchmark(dir: string, prunedModel: string, gen: GeneratedModel, loaded: LoadedModel, layers: readonly Layer[], masks: MaskSet, options: BenchOptions = {}): Promise<BenchResult> {
  const ort = loadOrt();
  const rounds = options.rounds ?? 5, reps = options.reps ?? 10, threads = options.threads ?? 1, { signal } = options;
  const sessionOptions = { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential' as const };
  const convs = gen.layers.filter((l) => l.index >= 0);
  const byId = new Map(layers.map((l) => [l.id, l]));
  const model = await ort.InferenceSession.create(prunedModel, sessionOptions);
  const modelFeed = { [gen.inputName]: new ort.Tensor('float32', generatedInput(gen.inputShape.reduce((a, b) => a * b, 1)), gen.inputShape) };
  const single = await Promise.all(convs.map(async (g) => {
    const { bytes, inputShape } = singleConvModel(byId.get(g.id)!, loaded, masks);
    const session = await ort.InferenceSession.create(bytes, sessionOptions);
    return { session, feed: { x: new ort.Tensor('float32', generatedInput(inputShape.reduce((a, b) => a * b, 1)), inputShape) } };
  }));
  const timeOrt = async (session: import('onnxruntime-node').InferenceSession, feed: Record<string, import('onnxruntime-node').Tensor>) => {
    await session.run(feed);
    const t: number[] = [];
    for (let r = 0; r < reps; r++) {
      const t0 = process.hrtime.bigint();
      await session.run(feed);
      t.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    return median(t);
  };
  const ours = { model: [] as number[], sparse: convs.map(() => [] as number[]), dense: convs.map(() => [] as number[]) };
  const ortT = { model: [] as number[], layers: convs.map(() => [] as number[]) };
  for (let round = 0; round < rounds; round++) {
    const r = await runChild(path.join(dir, RUNNER_BINARY), [path.join(dir, 'model.bin'), 'bench', String(reps)], { signal });
    if (r.status !== 0) throw new ModelError(`the compiled model failed: ${(r.stderr || '').trim().split('\n')[0]}`, dir, 'This is a codegen bug; please report it with the model.');
    for (const line of r.stdout.split('\n')) {
      const f = line.split(' ');
      if (f[0] === 'model') ours.model.push(Number(f[1]));
      if (f[0] === 'layer') {
        const i = convs.findIndex((c) => c.index === Number(f[1]));
        ours.sparse[i].push(Number(f[2]));
        ours.dense[i].push(Number(f[3]));
      }
    }
    throwIfCancelled(signal);
    ortT.model.push(await timeOrt(model, modelFeed));
    for (const [i, s] of single.entries()) {
      throwIfCancelled(signal);
      options.onProgress?.((round * convs.length + i) / (rounds * convs.length), `benchmarking layer ${i + 1}/${convs.length}`);
      ortT.layers[i].push(await timeOrt(s.session, s.feed));
    }
  }
  return {
    layers: convs.map((c, i) => ({ id: c.id, scheme: c.scheme, oursMs: median(ours.sparse[i]), ortMs: median(ortT.layers[i]), denseOursMs: median(ours.dense[i]) })),
    model: { oursMs: median(ours.model), ortMs: median(ortT.model) },
  };
}

/** A model of one Conv node with the layer's pruned weights, bias and attributes (input "x"). */
function singleConvModel(layer: Layer, loaded: LoadedModel, masks: MaskSet): { bytes: Uint8Array; inputShape: number[] } {
  const node = layer.node;
  const w = Float32Array.from(loaded.tensors.float32(layer.weightTensor));
  const mask = masks.get(layer.id)?.masks[0];
  if (mask) for (let i = 0; i < w.length; i++) if (!mask[i]) w[i] = 0;
  const inputShape = (layer.inputShape ?? []).map((d, i) => (typeof d === 'number' ? d : i === 0 ? 1 : 0));
  const biasTensor = node.inputs[2] ? loaded.model.graph.initializers.find((t) => t.name === node.inputs[2]) : undefined;
  const init: onnx.ITensorProto[] = [{ name: 'w', dims: [...layer.weightShape], dataType: 1, rawData: new Uint8Array(w.buffer) }];
  if (biasTensor) init.push({ name: 'b', dims: [...biasTensor.dims], dataType: 1, rawData: new Uint8Array(Float32Array.from(loaded.tensors.float32(biasTensor)).buffer) });
  const ints = (name: string, v: number[]) => ({ name, type: 7, ints: v });
  const attrs = [ints('kernel_shape', [...layer.kernel]), ints('strides', [...layer.strides]), ints('pads', intsAttr(node, 'pads') ?? layer.kernel.flatMap(() => [0, 0])), { name: 'group', type: 2, i: layer.group }];
  const tensor = (name: string) => ({ name, type: { tensorType: { elemType: 1 } } });
  const bytes = onnx.ModelProto.encode({
    irVersion: 8, opsetImport: [{ domain: '', version: 17 }],
    graph: { name: 'layer', node: [{ opType: 'Conv', input: biasTensor ? ['x', 'w', 'b'] : ['x', 'w'], output: ['y'], attribute: attrs }], initializer: init, input: [{ ...tensor('x'), type: { tensorType: { elemType: 1, shape: { dim: inputShape.map((d) => ({ dimValue: d })) } } } }], output: [tensor('y')] },
  }).finish();
  return { bytes, inputShape };
}
