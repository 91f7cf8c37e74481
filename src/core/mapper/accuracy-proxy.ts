// The search's accuracy proxy: how closely a pruned model follows the dense one on the calibration
// inputs, run in onnxruntime-node. Two measures over the model's first output (each sample's values
// taken as class scores):
//   agreement — the fraction of samples whose top-1 class is the dense model's, and
//   kl        — the mean KL divergence KL(dense ‖ pruned) of the softmaxed scores, in nats.
// fitness = agreement − KL_WEIGHT · kl: agreement decides, the divergence separates plans that agree
// equally often (it moves before the top-1 flips) and smooths the ranking on small calibration sets.
// No labels are needed, so any real inputs serve; the dense model's answers are the reference.

import * as os from 'node:os';
import { ModelError } from '../errors';
import type { CalibrationSet } from './calibration-data';
import type { ModelSource } from './pruned-candidates';

type Ort = typeof import('onnxruntime-node');
type Session = import('onnxruntime-node').InferenceSession;

export const KL_WEIGHT = 0.1;

export interface ProxyScore {
  /** Fraction of calibration samples whose top-1 class matches the dense model's. */
  readonly agreement: number;
  /** Mean KL(dense ‖ pruned) of the softmaxed outputs, nats. */
  readonly kl: number;
  /** agreement − KL_WEIGHT · kl. */
  readonly fitness: number;
}

interface Reference {
  /** Per batch: log-softmax of the dense output, and its top-1 per sample. */
  readonly logProbs: Float64Array;
  readonly top1: Int32Array;
  readonly classes: number;
}

export class AccuracyProxy {
  private constructor(
    private readonly ort: Ort,
    private readonly calibration: CalibrationSet,
    private readonly references: readonly Reference[],
    private readonly threads: number,
  ) {}

  /** Runs the dense model on every calibration batch to have the reference answers. */
  static async create(dense: ModelSource, calibration: CalibrationSet, where: string): Promise<AccuracyProxy> {
    const ort = loadOrt(where);
    const threads = Math.max(1, Math.min(2, os.availableParallelism?.() ?? 1));
    const session = await openSession(ort, dense, threads, where);
    try {
      const references: Reference[] = [];
      for (const batch of calibration.batches) {
        const { values, samples } = await runFirstOutput(ort, session, batch.feeds, where);
        const classes = values.length / samples;
        const logProbs = logSoftmax(values, samples, classes);
        const top1 = new Int32Array(samples);
        for (let s = 0; s < samples; s++) top1[s] = argmax(values, s * classes, classes);
        references.push({ logProbs, top1, classes });
      }
      return new AccuracyProxy(ort, calibration, references, threads);
    } finally {
      await session.release();
    }
  }

  /** The proxy of one pruned model. */
  async score(model: ModelSource, where: string): Promise<ProxyScore> {
    const session = await openSession(this.ort, model, this.threads, where);
    let agree = 0, kl = 0, samples = 0;
    try {
      for (let b = 0; b < this.calibration.batches.length; b++) {
        const ref = this.references[b];
        const { values } = await runFirstOutput(this.ort, session, this.calibration.batches[b].feeds, where);
        const n = ref.top1.length, c = ref.classes;
        const logQ = logSoftmax(values, n, c);
        for (let s = 0; s < n; s++) {
          if (argmax(values, s * c, c) === ref.top1[s]) agree++;
          let d = 0;
          for (let k = s * c; k < (s + 1) * c; k++) {
            const lp = ref.logProbs[k];
            d += Math.exp(lp) * (lp - logQ[k]);
          }
          kl += Math.max(0, d);
        }
        samples += n;
      }
    } finally {
      await session.release();
    }
    const agreement = agree / samples;
    const meanKl = kl / samples;
    return { agreement, kl: meanKl, fitness: agreement - KL_WEIGHT * meanKl };
  }
}

/** onnxruntime-node, required lazily: a native module only the search (and --verify) needs. */
function loadOrt(where: string): Ort {
  try {
    return require('onnxruntime-node');
  } catch (err) {
    throw new ModelError(`onnxruntime-node could not be loaded (${(err as Error).message.split('\n')[0]})`, where, 'The search runs the model in onnxruntime-node; install it (npm install onnxruntime-node).');
  }
}

async function openSession(ort: Ort, model: ModelSource, threads: number, where: string): Promise<Session> {
  try {
    const options = { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential' as const };
    return typeof model === 'string' ? await ort.InferenceSession.create(model, options) : await ort.InferenceSession.create(model, options);
  } catch (err) {
    throw new ModelError(`onnxruntime cannot load the model (${(err as Error).message.split('\n')[0]})`, where, 'The search needs a model onnxruntime can run; check it with `prunemap prune MODEL --verify`.');
  }
}

async function runFirstOutput(ort: Ort, session: Session, feeds: CalibrationSet['batches'][number]['feeds'], where: string): Promise<{ values: Float32Array; samples: number }> {
  const input: Record<string, InstanceType<Ort['Tensor']>> = {};
  for (const [name, t] of feeds) input[name] = new ort.Tensor('float32', t.data, t.dims as number[]);
  let out;
  try {
    out = await session.run(input);
  } catch (err) {
    throw new ModelError(`onnxruntime cannot run the model on the calibration inputs (${(err as Error).message.split('\n')[0]})`, where, 'Give calibration batches shaped like the model input (--calibration; see docs/search.md).');
  }
  const first = out[session.outputNames[0]];
  if (first.type !== 'float32') throw new ModelError(`the model's first output is ${first.type}, not float32 scores`, where, 'The search compares float outputs of the dense and the pruned model.');
  const values = first.data as Float32Array;
  const dims = first.dims;
  const samples = dims.length > 1 ? dims[0] : 1;
  if (samples <= 0 || values.length % samples !== 0 || values.length === 0) throw new ModelError(`the model's first output has shape [${dims.join(', ')}]`, where, 'The search needs an output with at least one value per sample.');
  return { values, samples };
}

function logSoftmax(values: Float32Array, samples: number, classes: number): Float64Array {
  const out = new Float64Array(values.length);
  for (let s = 0; s < samples; s++) {
    const from = s * classes, to = from + classes;
    let max = -Infinity;
    for (let k = from; k < to; k++) if (values[k] > max) max = values[k];
    if (!Number.isFinite(max)) {
      // NaN or infinite scores (a collapsed pruned model): a uniform distribution, far from any answer.
      out.fill(-Math.log(classes), from, to);
      continue;
    }
    let sum = 0;
    for (let k = from; k < to; k++) sum += Math.exp(values[k] - max);
    const log = Math.log(sum) + max;
    for (let k = from; k < to; k++) out[k] = values[k] - log;
  }
  return out;
}

function argmax(values: Float32Array, from: number, count: number): number {
  let best = 0;
  for (let k = 1; k < count; k++) if (values[from + k] > values[from + best]) best = k;
  return best;
}
