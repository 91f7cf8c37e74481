// Prunable layers of real exported architectures and pretrained npm models, against an independent
// computation (Python: onnx shape inference + the formulas of docs/cli.md). Ids, ops, weights,
// shapes (symbolic dims counted as 1), params and MACs must agree exactly.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { findLayers } from '../../src/core/layers';
import { loadModel } from '../../src/core/onnx/load';
import type { Dim } from '../../src/core/onnx/model';
import { loadManifest } from '../support/manifest';

const asCounted = (shape: readonly Dim[] | null) => (shape ? shape.map((d) => (typeof d === 'number' ? d : 1)) : null);

function maskUnknown(ours: number[] | null, ref: (number | null)[] | null): (number | null)[] | null {
  if (!ref || !ours || ours.length !== ref.length) return ref === null ? null : ours;
  return ours.map((d, i) => (ref[i] === null ? null : d));
}

const entries = loadManifest().entries.filter((e) => e.ok && e.layers);

for (const entry of entries) {
  test(`layers of ${entry.corpus}/${entry.relPath}`, () => {
    const loaded = loadModel(entry.path);
    try {
      const ours = findLayers(loaded.model, loaded.tensors).map((l) => ({
        id: l.id, op: l.op, weight: l.weight, weightShape: [...l.weightShape], group: l.group, kernel: [...l.kernel],
        inputShape: asCounted(l.inputShape), outputShape: asCounted(l.outputShape), params: l.params, macs: l.macs,
      }));
      assert.deepEqual(ours.map((l) => l.id), entry.layers!.map((l) => l.id), 'layer ids and order');
      ours.forEach((l, i) => {
        const ref = entry.layers![i];
        // Where Python's shape inference could not determine a dim (null), it has nothing to compare
        // with: such dims, and MACs computed from them, are left out of the comparison.
        const comparable = {
          ...l,
          inputShape: maskUnknown(l.inputShape, ref.inputShape),
          outputShape: maskUnknown(l.outputShape, ref.outputShape),
          macs: ref.macs === null ? null : l.macs,
        };
        assert.deepEqual(comparable, ref, `layer ${l.id}`);
      });
    } finally {
      loaded.close();
    }
  });
}
