// The independent structure checker (scripts/reference/check_structure.py, Python + numpy + onnx,
// written from DOMAIN.md §3 and docs/plan.md): first its own self-test on hand-made masks, then
// the engine's schemes checked by it — every scheme's masks on the sample model and on a model
// with one layer of each other kind (grouped Conv, ConvTranspose, Gemm without transB, MatMul,
// LSTM with W and R), written into copies of the models and compared with the dense originals.

import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findLayers, type Layer } from '../../src/core/layers';
import { loadModel } from '../../src/core/onnx/load';
import type { Plan, PlanLayer } from '../../src/core/plan';
import { writePlanFile } from '../../src/core/plan-io';
import { getScheme } from '../../src/core/schemes/registry';
import type { SchemeSpec } from '../../src/core/schemes/scheme';
import { geometryOf } from '../../src/core/schemes/weight-matrix';
import { attr, filledTensor, graph, modelBytes, node, valueInfo } from '../support/build-model';

const ROOT = path.resolve(__dirname, '..', '..');
const PYTHON = path.join(ROOT, '.venv-ref', 'bin', 'python');
const CHECKER = path.join(ROOT, 'scripts', 'reference', 'check_structure.py');
const SETUP = 'run `bash scripts/setup-reference.sh` (npm test does it for you)';

interface LayerResult { id: string; scheme: string; planned: number; achieved: number | null; ok: boolean; violations: string[] }
interface CheckResult { ok: boolean; layers: LayerResult[]; others: { ok: boolean; checked: number; changed: string[] } }

function python(args: string[], input?: string): string {
  assert.ok(fs.existsSync(PYTHON), `no ${PYTHON}: ${SETUP}`);
  return execFileSync(PYTHON, [CHECKER, ...args], { input, encoding: 'utf8', maxBuffer: 64 << 20 });
}

test('check_structure.py --self-test: the checker catches corrupted masks and accepts valid ones', () => {
  const out = python(['--self-test']);
  const m = /self-test: (\d+) of (\d+) cases as expected/.exec(out);
  assert.ok(m, out);
  assert.equal(m[1], m[2], out);
  assert.ok(Number(m[2]) >= 25, `only ${m[2]} self-test cases`);
});

// ---------------------------------------------------------------- the engine's masks, checked

/** One layer of each kind the sample lacks. */
function zooBytes(): Uint8Array {
  return modelBytes(graph({
    node: [
      node('Conv', ['x', 'wg'], ['h'], [attr.int('group', 2), attr.ints('kernel_shape', [3, 3]), attr.ints('pads', [1, 1, 1, 1])], 'grouped'),
      node('ConvTranspose', ['h', 'wt'], ['u'], [attr.ints('kernel_shape', [3, 3])], 'up'),
      node('Gemm', ['v', 'wf'], ['f'], [], 'fc'), // no transB: W[C=16][F=12]
      node('MatMul', ['f', 'wm'], ['p'], [], 'proj'),
      node('LSTM', ['s', 'lw', 'lr'], ['ys'], [attr.int('hidden_size', 4)], 'lstm'),
    ],
    initializer: [
      filledTensor('wg', [8, 4, 3, 3]), filledTensor('wt', [8, 4, 3, 3]), filledTensor('wf', [16, 12]),
      filledTensor('wm', [12, 8]), filledTensor('lw', [1, 16, 8]), filledTensor('lr', [1, 16, 4]),
    ],
    input: [valueInfo('x', 1, [1, 8, 6, 6]), valueInfo('v', 1, [2, 16]), valueInfo('s', 1, [5, 1, 8])],
    output: [valueInfo('u', 1), valueInfo('p', 1), valueInfo('ys', 1)],
  }));
}

/** Per scheme, the spec tried on every layer (layers it does not fit are left out of that plan). */
const SPECS: Record<string, SchemeSpec> = {
  unstructured: { scheme: 'unstructured', rate: 0.6 },
  filter: { scheme: 'filter', rate: 0.25 },
  channel: { scheme: 'channel', rate: 0.25 },
  pattern: { scheme: 'pattern', patterns: 4, rate: 0.7 },
  'block-punched': { scheme: 'block-punched', block: [2, 2], rate: 0.5 },
  'block-punched-partial': { scheme: 'block-punched', block: [3, 3], rate: 0.4 },
  'block-bcr': { scheme: 'block-bcr', block: [2, 4], rate: 0.5 },
  'block-bcr-partial': { scheme: 'block-bcr', block: [3, 5], rate: 0.3 },
  nm: { scheme: 'nm', n: 1, m: 2, rate: 0.5 },
};

interface Job { model: string; plan: string; layers: string[]; dense: string; pruned: string; kernelled: boolean }

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunemap-structure-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const jobs: Job[] = [];
let results: CheckResult[] = [];

/** Masks from the engine's schemes, written over the weights' raw bytes in a copy of the model file. */
function pruneCopy(dense: string, pruned: string, layers: readonly Layer[], plan: Plan, read: (l: Layer) => Float32Array[]): void {
  const bytes = fs.readFileSync(dense);
  for (const l of layers) {
    const spec = plan.layers[l.id];
    if (!spec) continue;
    const tensors = [l.weightTensor, ...(l.recurrentTensor ? [l.recurrentTensor] : [])];
    const weights = read(l);
    const masks = getScheme(spec.scheme)!.mask(geometryOf(l), weights, spec);
    tensors.forEach((t, i) => {
      assert.equal(t.storage.kind, 'raw', `${t.name} must be raw_data to be patched`);
      if (t.storage.kind !== 'raw') return;
      const q = weights[i].map((w, j) => (masks[i][j] ? w : 0));
      bytes.set(new Uint8Array(q.buffer), t.storage.range.offset);
    });
  }
  fs.writeFileSync(pruned, bytes);
}

function addJobs(name: string, densePath: string): void {
  const loaded = loadModel(densePath);
  try {
    const layers = findLayers(loaded.model, loaded.tensors);
    for (const [label, spec] of Object.entries(SPECS)) {
      // nm groups differ by convention only where K > 1: those layers get a plan of their own.
      for (const kernelled of label === 'nm' ? [false, true] : [false]) {
        const entries: [string, PlanLayer][] = [];
        for (const l of layers) {
          if (label === 'nm' && geometryOf(l).matrices[0].kernel > 1 !== kernelled) continue;
          if (getScheme(spec.scheme)!.feasible(geometryOf(l), spec).ok) entries.push([l.id, spec]);
        }
        if (!entries.length) continue;
        const base = path.join(tmp, `${name}.${label}${kernelled ? '-k' : ''}`);
        const plan: Plan = { model: path.basename(densePath), target: 'host-cpu', layers: Object.fromEntries(entries) };
        writePlanFile(`${base}.prune.json`, plan);
        pruneCopy(densePath, `${base}.onnx`, layers, plan, (l) => [l.weightTensor, ...(l.recurrentTensor ? [l.recurrentTensor] : [])].map((t) => loaded.tensors.float32(t)));
        jobs.push({ model: name, plan: label, layers: entries.map(([id]) => id), dense: densePath, pruned: `${base}.onnx`, kernelled });
      }
    }
  } finally {
    loaded.close();
  }
}

describe('the engine\'s masks pass the independent checker', () => {
  before(() => {
    const zoo = path.join(tmp, 'zoo.onnx');
    fs.writeFileSync(zoo, zooBytes());
    addJobs('tiny-cnn', path.join(ROOT, 'samples', 'tiny-cnn.onnx'));
    addJobs('zoo', zoo);
    const input = JSON.stringify(jobs.map((j) => ({ dense: j.dense, pruned: j.pruned, plan: j.pruned.replace(/\.onnx$/, '.prune.json') })));
    results = JSON.parse(python(['--batch'], input)) as CheckResult[];
  });

  test('every scheme was tried on every layer kind it fits', () => {
    const tried = (model: string, plan: string) => jobs.filter((j) => j.model === model && j.plan === plan).flatMap((j) => j.layers).sort();
    assert.deepEqual(tried('zoo', 'filter'), ['fc', 'grouped', 'lstm', 'proj', 'up']);
    assert.deepEqual(tried('zoo', 'block-bcr'), ['fc', 'grouped', 'lstm', 'proj', 'up']);
    assert.deepEqual(tried('tiny-cnn', 'pattern'), ['block1.conv3x3', 'stem']);
    assert.deepEqual(tried('zoo', 'nm'), ['fc', 'grouped', 'lstm', 'proj', 'up']);
  });

  for (const model of ['tiny-cnn', 'zoo']) {
    for (const label of Object.keys(SPECS)) {
      if (model === 'zoo' && label === 'pattern') continue; // no 3×3 Conv with group 1 there
      for (const kernelled of label === 'nm' ? [false, true] : [false]) {
        const name = `${model}: ${label}${label === 'nm' ? (kernelled ? ' on layers with K > 1' : ' on layers with K = 1') : ''}`;
        // n:m groups run along the input channels at each kernel position (docs/plan.md, as NVIDIA's
        // ASP does); layers with K > 1 are where a column-wise grouping would differ.
        test(name, () => {
          const i = jobs.findIndex((j) => j.model === model && j.plan === label && j.kernelled === kernelled);
          assert.ok(i >= 0, 'the scheme fits no layer of this model');
          const r = results[i];
          const bad = r.layers.filter((l) => !l.ok).map((l) => `${l.id}: ${l.violations.join('; ')}`);
          assert.deepEqual(bad, []);
          assert.deepEqual(r.others, { ok: true, checked: r.others.checked, changed: [] });
          assert.deepEqual(r.layers.map((l) => l.id), jobs[i].layers);
          for (const l of r.layers) assert.notEqual(l.achieved, null, `${l.id}: the checker measured no rate`);
        });
      }
    }
  }
});
