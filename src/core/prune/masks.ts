// From a plan to masks: every plan entry is checked first (the layer exists, the scheme is known,
// the scheme is feasible for the layer, its weights can be patched in place), so a bad plan fails
// before any weight is read; then each layer's scheme scores its weights and makes its masks.

import { ModelError } from '../errors';
import type { Layer } from '../layers';
import type { LoadedModel } from '../onnx/load';
import type { Tensor } from '../onnx/model';
import { elementCount, ScratchBuffer } from '../onnx/tensor-data';
import type { Plan, PlanLayer } from '../plan';
import { closest } from '../plan-validate';
import { getScheme, schemeIds } from '../schemes/registry';
import type { PruningScheme, SchemeSpec } from '../schemes/scheme';
import { geometryOf } from '../schemes/weight-matrix';
import { TensorLocator } from './locate';

/** One layer's masks: index 0 masks the weight W, index 1 the recurrence weight R of RNNs (1 keeps, 0 prunes). */
export interface LayerMasks {
  readonly layer: Layer;
  readonly masks: readonly Uint8Array[];
  /**
   * For masks computed on demand: the masks, computed from these values of the layer's weights
   * when not computed yet (a caller that has just read the weights saves a second read).
   */
  masksFrom?(weights: readonly Float32Array[]): readonly Uint8Array[];
  /** The plan entry the masks come from (for the report's planned rate). */
  readonly spec?: SchemeSpec;
}

/** Layer id → masks; layers not in the map stay dense. */
export type MaskSet = Map<string, LayerMasks>;

/** The layer's weight tensors in mask order: [W] or [W, R]. */
export function weightTensorsOf(layer: Layer): Tensor[] {
  return layer.recurrentTensor ? [layer.weightTensor, layer.recurrentTensor] : [layer.weightTensor];
}

/**
 * Masks for every plan entry that prunes (scheme other than `dense`). Throws a ModelError naming
 * the layer for an unknown id (with the closest id), an unknown scheme, an infeasible scheme (with
 * the scheme's reason) or weights that cannot be patched in place. `where` names the plan in messages.
 */
export function buildMasks(loaded: LoadedModel, layers: readonly Layer[], plan: Plan, where = 'plan'): MaskSet {
  const set = prepareMasks(loaded, layers, plan, where);
  for (const entry of set.values()) void entry.masks; // compute them all now
  return set;
}

/**
 * buildMasks with the same checks made now, but each layer's masks computed when first read: the
 * writer reads them as it reaches the layer's weights, so their computation overlaps its I/O.
 * The model must stay open until then.
 */
export function prepareMasks(loaded: LoadedModel, layers: readonly Layer[], plan: Plan, where = 'plan'): MaskSet {
  const byId = new Map(layers.map((l) => [l.id, l]));
  const work: { layer: Layer; scheme: PruningScheme; spec: PlanLayer }[] = [];
  if (typeof plan.layers !== 'object' || plan.layers === null || Array.isArray(plan.layers)) {
    throw new ModelError('"layers" is not an object of layer id → scheme entry', where, 'See docs/cli.md for the plan format.');
  }
  const locator = new TensorLocator(loaded.model);
  try {
    for (const [id, spec] of Object.entries(plan.layers)) {
      const at = `${where}: layer "${id}"`;
      const layer = byId.get(id);
      if (!layer) {
        const near = closest(id, [...byId.keys()]);
        throw new ModelError(`the model has no layer "${id}"`, where,
          near ? `Did you mean "${near}"? \`prunemap inspect MODEL\` lists the layer ids.` : '`prunemap inspect MODEL` lists the layer ids.');
      }
      if (typeof spec !== 'object' || spec === null) throw new ModelError('entry is not an object', at, 'Write { "scheme": …, "rate": … }.');
      if (!schemeIds.includes(spec.scheme)) {
        throw new ModelError(`unknown scheme ${JSON.stringify(spec.scheme)}`, at, `Use one of ${schemeIds.join(', ')}.`);
      }
      if (spec.scheme === 'dense') continue;
      const scheme = getScheme(spec.scheme);
      if (!scheme) throw new ModelError(`scheme "${spec.scheme}" is not available in this build`, at, 'Use another scheme for this layer.');
      const feasible = scheme.feasible(geometryOf(layer), spec);
      if (!feasible.ok) {
        throw new ModelError(`${describeSpec(spec)} is infeasible: ${feasible.reason}`, at, 'Choose another scheme or block for this layer (`prunemap map` suggests one).');
      }
      for (const t of weightTensorsOf(layer)) locator.locate(t, id);
      work.push({ layer, scheme, spec });
    }
  } finally {
    locator.close();
  }
  // FLOAT weights are read into two reused buffers (W and R): the weights of a layer are needed only
  // while its masks are made, and fresh buffers for a 100 MB model cost more than the reads.
  const scratch = [new ScratchBuffer(), new ScratchBuffer()];
  const compute = ({ layer, scheme, spec }: (typeof work)[number]) => (given?: readonly Float32Array[]) => {
    const tensors = weightTensorsOf(layer);
    const weights = given ?? tensors.map((t, i) => loaded.tensors.float32Into(t, scratch[i]) ?? loaded.tensors.float32(t));
    const masks = scheme.mask(geometryOf(layer), weights, spec);
    tensors.forEach((t, i) => {
      if (masks[i]?.length !== elementCount(t.dims)) {
        throw new Error(`scheme ${scheme.id} returned a mask of ${masks[i]?.length} elements for ${t.name} (${elementCount(t.dims)} weights)`);
      }
    });
    return masks;
  };
  return new Map(work.map((job) => [job.layer.id, new MasksOnDemand(job.layer, job.spec, compute(job))]));
}

/** A layer's masks, computed at the first read of `masks`. */
class MasksOnDemand implements LayerMasks {
  private computed?: readonly Uint8Array[];

  constructor(readonly layer: Layer, readonly spec: SchemeSpec, private readonly compute: (weights?: readonly Float32Array[]) => readonly Uint8Array[]) {}

  get masks(): readonly Uint8Array[] {
    return (this.computed ??= this.compute());
  }

  masksFrom(weights: readonly Float32Array[]): readonly Uint8Array[] {
    return (this.computed ??= this.compute(weights));
  }
}

/** "block-punched [8,4] at rate 0.875", for messages. */
export function describeSpec(spec: SchemeSpec): string {
  const params = [
    spec.block ? `[${spec.block.join(',')}]` : '',
    spec.n !== undefined || spec.m !== undefined ? `${spec.n}:${spec.m}` : '',
    spec.patterns !== undefined ? `${spec.patterns} patterns` : '',
  ].filter(Boolean).join(' ');
  return `${spec.scheme}${params ? ' ' + params : ''} at rate ${spec.rate}`;
}
