// The rule-based mapper on real corpus models (torchvision exports, random weights): on every
// target the plan reaches the asked compression within 1%, every chosen scheme is feasible, the
// R0 layers are where they should be, and the summary agrees with the layers. Skipped when the
// corpora are missing (`npm run setup:reference` fetches them; `npm test` does it for you).

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findLayers } from '../../src/core/layers';
import { profileIds } from '../../src/core/latency/profiles';
import { mapModelFile, sha256File } from '../../src/core/mapper/model-file';
import { compressionOf } from '../../src/core/mapper/rates';
import { mapModel } from '../../src/core/mapper/rules';
import { loadModel } from '../../src/core/onnx/load';
import { validatePlan } from '../../src/core/plan-validate';
import { getScheme } from '../../src/core/schemes/registry';
import { geometryOf } from '../../src/core/schemes/weight-matrix';
import { corporaDir } from '../support/manifest';

const models = ['torchvision/resnet18.onnx', 'torchvision/mobilenet_v2.onnx', 'torchvision/squeezenet1_1.onnx', 'torchvision/lstm.onnx'];

for (const rel of models) {
  const file = path.join(corporaDir, rel);
  test(`map ${rel}: compression on target, every scheme feasible`, { skip: fs.existsSync(file) ? false : `${file} is missing` }, () => {
    const loaded = loadModel(file);
    try {
      const layers = findLayers(loaded.model, loaded.tensors);
      const weights = layers.map((l) => geometryOf(l).matrices.reduce((n, m) => n + m.rows * m.channels * m.kernel, 0));
      for (const target of profileIds) {
        for (const compression of [2, 4]) {
          const plan = mapModel(loaded.model, layers, loaded.tensors, { target, compression, modelName: path.basename(file) });
          assert.deepEqual(Object.keys(plan.layers), layers.map((l) => l.id));
          const c = compressionOf(layers.map((l) => plan.layers[l.id].rate), weights);
          assert.ok(Math.abs(c - compression) / compression < 0.01, `${target} ${compression}×: got ${c}`);
          assert.ok(Math.abs(plan.summary!.compression - c) / c < 1e-4);
          for (const l of layers) {
            const e = plan.layers[l.id];
            assert.ok(e.reason, `${l.id} has a reason`);
            if (e.scheme === 'dense') continue;
            const f = getScheme(e.scheme)!.feasible(geometryOf(l), e);
            assert.ok(f.ok, `${target}: ${l.id} ${e.scheme} feasible (${f.ok ? '' : f.reason})`);
            assert.ok(e.rate <= 0.95);
            if (e.scheme === 'pattern') assert.ok(e.rate >= 5 / 9 && e.library && e.library.length > 0);
          }
          assert.ok(plan.summary!.prunedMs < plan.summary!.denseMs, `${target}: pruning is predicted to be faster`);
          // The plan passes the plan validator (schema rules + feasibility) without errors.
          const errors = validatePlan(JSON.parse(JSON.stringify(plan)), loaded.model, layers, { modelPath: file }).problems.filter((p) => p.severity === 'error');
          assert.deepEqual(errors, [], `${target}: the plan validates`);
        }
      }
    } finally {
      loaded.close();
    }
  });
}

test('resnet18 on snapdragon855-cpu: R0 and R1 where expected', { skip: fs.existsSync(path.join(corporaDir, 'torchvision/resnet18.onnx')) ? false : 'corpus missing' }, () => {
  const file = path.join(corporaDir, 'torchvision/resnet18.onnx');
  const loaded = loadModel(file);
  try {
    const layers = findLayers(loaded.model, loaded.tensors);
    const plan = mapModelFile(file, { target: 'snapdragon855-cpu' });
    assert.equal(plan.model, 'resnet18.onnx');
    assert.equal(plan.modelSha256, sha256File(file));
    assert.match(plan.modelSha256!, /^[0-9a-f]{64}$/);
    assert.equal(plan.layers['/conv1/Conv'].scheme, 'dense');
    assert.match(plan.layers['/conv1/Conv'].reason!, /^first layer: reads the raw input \(3 channels\)/);
    assert.match(plan.layers['/fc/Gemm'].reason!, /^final classifier/);
    for (const l of layers) {
      if (l.op === 'Conv' && l.kernel.join('x') === '3x3' && plan.layers[l.id].scheme !== 'dense') assert.equal(plan.layers[l.id].scheme, 'pattern', l.id);
    }
  } finally {
    loaded.close();
  }
});

test('mobilenet_v2: every depthwise conv stays dense', { skip: fs.existsSync(path.join(corporaDir, 'torchvision/mobilenet_v2.onnx')) ? false : 'corpus missing' }, () => {
  const loaded = loadModel(path.join(corporaDir, 'torchvision/mobilenet_v2.onnx'));
  try {
    const layers = findLayers(loaded.model, loaded.tensors);
    const plan = mapModel(loaded.model, layers, loaded.tensors, { target: 'adreno640-gpu' });
    const dw = layers.filter((l) => l.group > 1 && l.weightShape[1] === 1);
    assert.equal(dw.length, 17);
    for (const l of dw) assert.match(plan.layers[l.id].reason!, /^depthwise conv/);
  } finally {
    loaded.close();
  }
});
