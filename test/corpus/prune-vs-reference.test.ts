// Pruned real models against an independent reference (scripts/reference/apply_masks.py: Python
// onnx + numpy + onnxruntime, with its own protobuf walker): only the planned weights change, and
// only to zero; every other tensor and every byte outside the planned weights is identical; the
// pruned model runs in Python's onnxruntime with the outputs of the dense model with the same zeros
// applied by numpy. Then the pruned models run in onnxruntime-node (npm) on the same inputs and must
// give Python onnxruntime's outputs. Storage forms covered: raw_data, external data, Constant-node
// weights (PaddleOCR), weights inside If subgraphs (silero-vad), LSTM W and R, float_data.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { findLayers, type Layer } from '../../src/core/layers';
import { defaultTarget } from '../../src/core/latency/profiles';
import { mapModel } from '../../src/core/mapper/rules';
import { loadModel } from '../../src/core/onnx/load';
import type { Plan, PlanLayer } from '../../src/core/plan';
import { buildMasks } from '../../src/core/prune/masks';
import { writePrunedModel, type PruneReport } from '../../src/core/prune/write';
import { getScheme } from '../../src/core/schemes/registry';
import { geometryOf } from '../../src/core/schemes/weight-matrix';
import { corporaDir } from '../support/manifest';

const ROOT = path.resolve(__dirname, '..', '..');
const PYTHON = path.join(ROOT, '.venv-ref', 'bin', 'python');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunemap-prune-ref-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

interface InputSpec { file: string; dtype: 'float32' | 'int64'; shape: number[] }
interface Case {
  name: string;
  model: string;
  /** 'rules' = the rule-based mapper's plan; 'unstructured' = 0.5 everywhere; 'mixed' = a feasible scheme per layer, rotating. */
  plan: 'rules' | 'unstructured' | 'mixed';
  inputs: Record<string, { dtype: 'float32' | 'int64'; shape: number[]; value?: number }>;
  /** Output folder inside tmp (external data needs its own folder). */
  outDir?: string;
}

const tv = (f: string) => path.join(corporaDir, 'torchvision', f);
const cases: Case[] = [
  { name: 'resnet18', model: tv('resnet18.onnx'), plan: 'rules', inputs: { input: { dtype: 'float32', shape: [1, 3, 224, 224] } } },
  { name: 'mobilenet_v2', model: tv('mobilenet_v2.onnx'), plan: 'mixed', inputs: { input: { dtype: 'float32', shape: [1, 3, 224, 224] } } },
  { name: 'resnet18-external', model: path.join(corporaDir, 'external', 'resnet18', 'resnet18.onnx'), plan: 'unstructured', inputs: { input: { dtype: 'float32', shape: [1, 3, 224, 224] } }, outDir: 'external' },
  { name: 'ocr-cls', model: path.join(corporaDir, 'npm', '@gutenye', 'ocr-models', 'assets', 'ch_ppocr_mobile_v2.0_cls_infer.onnx'), plan: 'unstructured', inputs: { x: { dtype: 'float32', shape: [1, 3, 48, 192] } } },
  {
    name: 'silero-vad-op18', model: path.join(corporaDir, 'npm', '@jjhbw', 'silero-vad', 'weights', 'silero_vad_op18_ifless.onnx'), plan: 'unstructured',
    inputs: { input: { dtype: 'float32', shape: [1, 512] }, sr: { dtype: 'int64', shape: [], value: 16000 }, state: { dtype: 'float32', shape: [2, 1, 128] } },
  },
  { name: 'lstm', model: tv('lstm.onnx'), plan: 'mixed', inputs: { input: { dtype: 'float32', shape: [16, 2, 32] } } },
  { name: 'mlp', model: tv('mlp.onnx'), plan: 'mixed', inputs: { input: { dtype: 'float32', shape: [2, 8, 64] } } },
  { name: 'mlp-float-data', model: path.join(tmp, 'mlp-float-data.onnx'), plan: 'unstructured', inputs: { input: { dtype: 'float32', shape: [2, 8, 64] } } },
];

/** Candidate specs for 'mixed' plans, tried in a rotating order so layers get different schemes. */
const mixed: PlanLayer[] = [
  { scheme: 'block-punched', block: [8, 4], rate: 0.75 },
  { scheme: 'pattern', patterns: 6, rate: 0.7 },
  { scheme: 'filter', rate: 0.25 },
  { scheme: 'nm', n: 2, m: 4, rate: 0.5 },
  { scheme: 'block-bcr', block: [4, 4], rate: 0.5 },
  { scheme: 'channel', rate: 0.25 },
  { scheme: 'unstructured', rate: 0.6 },
];

function planFor(c: Case, layers: Layer[], loaded: ReturnType<typeof loadModel>): Plan {
  if (c.plan === 'rules') return mapModel(loaded.model, layers, loaded.tensors, { target: defaultTarget, modelName: path.basename(c.model) });
  const entries: Record<string, PlanLayer> = {};
  layers.forEach((layer, i) => {
    if (c.plan === 'unstructured') {
      entries[layer.id] = { scheme: 'unstructured', rate: 0.5 };
      return;
    }
    for (let k = 0; k < mixed.length; k++) {
      const spec = mixed[(i + k) % mixed.length];
      if (getScheme(spec.scheme)!.feasible(geometryOf(layer), spec).ok) {
        entries[layer.id] = spec;
        return;
      }
    }
  });
  return { model: path.basename(c.model), target: 'host-cpu', layers: entries };
}

/** A deterministic uniform [-1, 1) sequence. */
function randomFloats(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

const sha = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

interface RefResult {
  name: string; ok: boolean; error: string | null; trace?: string;
  untouched: { ok: boolean; tensors: number; mismatched: string[] };
  planned: { ok: boolean; tensors: { layer: string; tensor: string; size: number; zeros: number; newly_zeroed: number; bad: number }[] };
  outputs: { ok: boolean; max_abs_diff: number; scale: number; files: Record<string, { file: string; dtype: string; shape: number[] }> };
  bytes: { ok: boolean; files: { file: string; size_equal: boolean; differing: number; outside: number }[] };
}

function runReference(jobs: object[]): RefResult[] {
  const out = execFileSync(PYTHON, [path.join(ROOT, 'scripts', 'reference', 'apply_masks.py')], { input: JSON.stringify(jobs), encoding: 'utf8', maxBuffer: 1 << 26 });
  return JSON.parse(out) as RefResult[];
}

test('pruned corpus models match the Python reference, and onnxruntime-node gives Python onnxruntime\'s outputs', { timeout: 600_000 }, async (t) => {
  // The float_data variant of mlp.onnx: every FLOAT initializer re-encoded as float_data by Python's onnx.
  execFileSync(PYTHON, ['-c', [
    'import onnx, sys',
    'from onnx import numpy_helper',
    'm = onnx.load(sys.argv[1])',
    'for t in m.graph.initializer:',
    '    if t.data_type == 1:',
    '        a = numpy_helper.to_array(t); t.ClearField("raw_data"); t.float_data.extend(a.flatten().tolist())',
    'onnx.save(m, sys.argv[2])',
  ].join('\n'), tv('mlp.onnx'), path.join(tmp, 'mlp-float-data.onnx')]);

  const jobs: object[] = [];
  const reports = new Map<string, PruneReport>();
  const feeds = new Map<string, Record<string, ort.Tensor>>();
  for (const [i, c] of cases.entries()) {
    const before = sha(c.model);
    const loaded = loadModel(c.model);
    const layers = findLayers(loaded.model, loaded.tensors);
    const plan = planFor(c, layers, loaded);
    const masks = buildMasks(loaded, layers, plan);
    assert.ok(masks.size > 0, `${c.name}: the plan prunes something`);
    const dir = path.join(tmp, c.outDir ?? 'out');
    const out = path.join(dir, c.outDir ? path.basename(c.model) : `${c.name}.pruned.onnx`);
    const report = await writePrunedModel(loaded, masks, out, { layers });
    loaded.close();
    assert.equal(sha(c.model), before, `${c.name}: the input is unchanged`);
    reports.set(c.name, report);
    const inputs: Record<string, InputSpec> = {};
    const caseFeeds: Record<string, ort.Tensor> = {};
    for (const [name, spec] of Object.entries(c.inputs)) {
      const n = spec.shape.reduce((a, b) => a * b, 1);
      const file = path.join(tmp, `${c.name}.${name}.in`);
      if (spec.dtype === 'float32') {
        const data = spec.value === undefined ? randomFloats(n, 1000 + i) : new Float32Array(n).fill(spec.value);
        fs.writeFileSync(file, data);
        caseFeeds[name] = new ort.Tensor('float32', data, spec.shape);
      } else {
        const data = new BigInt64Array(n).fill(BigInt(spec.value ?? 0));
        fs.writeFileSync(file, data);
        caseFeeds[name] = new ort.Tensor('int64', data, spec.shape);
      }
      inputs[name] = { file, dtype: spec.dtype, shape: spec.shape };
    }
    feeds.set(c.name, caseFeeds);
    jobs.push({ name: c.name, dense: c.model, pruned: out, layers: [...masks.keys()], inputs, outputs_dir: tmp });
  }

  const results = runReference(jobs);
  for (const c of cases) {
    await t.test(c.name, async () => {
      const r = results.find((x) => x.name === c.name)!;
      assert.equal(r.error, null, `${c.name}: reference failed: ${r.error}\n${r.trace ?? ''}`);
      assert.ok(r.untouched.ok && r.untouched.tensors > 0, `tensors outside the plan changed: ${r.untouched.mismatched.join(', ')}`);
      assert.ok(r.planned.ok, `planned weights hold values other than their dense value or 0: ${JSON.stringify(r.planned.tensors.filter((x) => x.bad))}`);
      assert.ok(r.bytes.ok, `bytes outside the planned weights differ: ${JSON.stringify(r.bytes.files)}`);
      assert.ok(r.outputs.ok, `pruned vs numpy-masked dense outputs: max |Δ| ${r.outputs.max_abs_diff} (scale ${r.outputs.scale})`);
      // Our report agrees with what the reference counts in the file.
      const report = reports.get(c.name)!;
      for (const l of report.layers) {
        const ref = r.planned.tensors.filter((x) => x.layer === l.id);
        assert.equal(ref.reduce((n, x) => n + x.size, 0), l.weights, `${l.id}: weights`);
        assert.equal(ref.reduce((n, x) => n + x.zeros, 0), l.zeros, `${l.id}: zeros`);
        assert.ok(ref.reduce((n, x) => n + x.newly_zeroed, 0) <= l.pruned, `${l.id}: newly zeroed ≤ pruned`);
      }
      if (c.outDir) assert.ok(r.bytes.files.length > 1, 'the external data file was compared too');

      // onnxruntime-node on the same inputs gives Python onnxruntime's outputs.
      const session = await ort.InferenceSession.create(report.output);
      const got = await session.run(feeds.get(c.name)!);
      for (const [name, f] of Object.entries(r.outputs.files)) {
        const raw = fs.readFileSync(f.file);
        const want = f.dtype === 'float32' ? new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length)) : undefined;
        assert.deepEqual(got[name].dims, f.shape, `${name}: shape`);
        if (!want) continue;
        const data = got[name].data as Float32Array;
        let maxDiff = 0, scale = 0;
        for (let i = 0; i < want.length; i++) {
          maxDiff = Math.max(maxDiff, Math.abs(data[i] - want[i]));
          scale = Math.max(scale, Math.abs(want[i]));
        }
        assert.ok(maxDiff <= 1e-5 * Math.max(scale, 1e-6), `${name}: onnxruntime-node vs Python onnxruntime max |Δ| ${maxDiff} (scale ${scale})`);
      }
    });
  }
});

test('the reference catches a changed byte outside the plan and a changed kept weight', { timeout: 120_000 }, async () => {
  const model = tv('mlp.onnx');
  const loaded = loadModel(model);
  const layers = findLayers(loaded.model, loaded.tensors);
  const plan: Plan = { model: 'mlp.onnx', target: 'host-cpu', layers: { [layers[0].id]: { scheme: 'unstructured', rate: 0.5 } } };
  const masks = buildMasks(loaded, layers, plan);
  const out = path.join(tmp, 'tamper.onnx');
  await writePrunedModel(loaded, masks, out);
  const other = (layers[1].weightTensor.storage as { range: { offset: number } }).range.offset;
  const own = (layers[0].weightTensor.storage as { range: { offset: number } }).range.offset;
  const kept = masks.get(layers[0].id)!.masks[0].indexOf(1);
  loaded.close();
  const bytes = fs.readFileSync(out);
  bytes[other + 2] ^= 0x80; // a weight of a layer outside the plan: doubled or halved
  bytes[own + kept * 4 + 2] ^= 0x80; // a kept weight of the planned layer
  fs.writeFileSync(out, bytes);
  const input = path.join(tmp, 'tamper.in');
  fs.writeFileSync(input, randomFloats(2 * 8 * 64, 7));
  const [r] = runReference([{ name: 'tamper', dense: model, pruned: out, layers: [layers[0].id], inputs: { input: { file: input, dtype: 'float32', shape: [2, 8, 64] } } }]);
  assert.equal(r.error, null);
  assert.equal(r.ok, false);
  assert.equal(r.untouched.ok, false, 'the unplanned change is seen');
  assert.equal(r.planned.tensors[0].bad, 1, 'the changed kept weight is seen');
  assert.equal(r.bytes.files[0].outside, 1, 'one byte differs outside the planned weight');
  assert.equal(r.outputs.ok, false, 'the outputs differ from the masked dense model\'s');
});
