// The training hand-off (`prunemap export-training`, docs/training.md): the PyTorch recipe is valid
// Python whose masks have each scheme's structure (the independent checker) and whose own Python
// port of the schemes reproduces the engine's masks; the NNI and torch.ao configs name the right
// torch modules with the plan's rates (names from samples/README.md, rates counted by numpy from
// the pruned model); bad plans and options give one-line errors and leave no folder behind.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { exportTrainingRecipe } from '../../src/core/export/training-recipe';
import { ModelError } from '../../src/core/errors';
import { findLayers } from '../../src/core/layers';
import { loadModel } from '../../src/core/onnx/load';
import type { Plan, PlanLayer } from '../../src/core/plan';
import { geometryOf } from '../../src/core/schemes/weight-matrix';
import { checkStructure } from './schemes/structure-checker';

const ROOT = path.resolve(__dirname, '..', '..');
const PYTHON = path.join(ROOT, '.venv-ref', 'bin', 'python');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const MODEL = path.join(ROOT, 'samples', 'fashion-cnn.onnx');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunemap-export-training-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

const L = {
  stem: '/features/stem/stem.0/Conv', conv1: '/features/conv1/conv1.0/Conv', dw2: '/features/dw2/dw2.0/Conv', pw2: '/features/pw2/pw2.0/Conv',
  conv2: '/features/conv2/conv2.0/Conv', dw3: '/features/dw3/dw3.0/Conv', pw3: '/features/pw3/pw3.0/Conv', conv3: '/features/conv3/conv3.0/Conv',
  fc1: '/classifier/fc1/Gemm', fc2: '/classifier/fc2/Gemm',
};
/** The torch module of each layer, from samples/README.md's table (weights keep torch's names). */
const MODULE: Record<string, string> = {
  [L.stem]: 'features.stem.0', [L.conv1]: 'features.conv1.0', [L.dw2]: 'features.dw2.0', [L.pw2]: 'features.pw2.0', [L.conv2]: 'features.conv2.0',
  [L.dw3]: 'features.dw3.0', [L.pw3]: 'features.pw3.0', [L.conv3]: 'features.conv3.0', [L.fc1]: 'classifier.fc1', [L.fc2]: 'classifier.fc2',
};

/** Every scheme at least once, on every kind of layer of the sample. */
const mixed: Record<string, PlanLayer> = {
  [L.stem]: { scheme: 'dense', rate: 0 },
  [L.conv1]: { scheme: 'pattern', rate: 0.7, patterns: 4, library: [27, 54, 216, 432] },
  [L.dw2]: { scheme: 'unstructured', rate: 0.5 },
  [L.pw2]: { scheme: 'block-punched', rate: 0.5, block: [8, 4] },
  [L.conv2]: { scheme: 'nm', rate: 0.5, n: 2, m: 4 },
  [L.dw3]: { scheme: 'filter', rate: 0.25 },
  [L.pw3]: { scheme: 'channel', rate: 0.25 },
  [L.conv3]: { scheme: 'block-bcr', rate: 0.6, block: [4, 16] },
  [L.fc1]: { scheme: 'filter', rate: 0.25 },
  [L.fc2]: { scheme: 'unstructured', rate: 0.3 },
};
/** The other parameter cases: a pattern library chosen by the scheme, punches at 3×3 kernel positions, n:m on a Linear. */
const mixed2: Record<string, PlanLayer> = {
  [L.conv1]: { scheme: 'pattern', rate: 0.8, patterns: 6 },
  [L.conv2]: { scheme: 'block-punched', rate: 0.7, block: [8, 4] },
  [L.conv3]: { scheme: 'unstructured', rate: 0.9 },
  [L.pw2]: { scheme: 'nm', rate: 0.75, n: 1, m: 4 },
  [L.pw3]: { scheme: 'block-bcr', rate: 0.5, block: [16, 8] },
  [L.fc1]: { scheme: 'nm', rate: 0.5, n: 2, m: 4 },
  [L.fc2]: { scheme: 'channel', rate: 0.5 },
  [L.dw2]: { scheme: 'filter', rate: 0.5 },
};

function planOf(layers: Record<string, PlanLayer>): Plan {
  return { model: 'fashion-cnn.onnx', target: 'host-cpu', layers };
}

function writePlan(name: string, layers: Record<string, unknown>): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, JSON.stringify({ model: MODEL, target: 'host-cpu', layers }));
  return file;
}

function exportTo(dir: string, layers: Record<string, PlanLayer>, format: 'pytorch' | 'nni' | 'torch-ao'): string {
  const out = path.join(tmp, dir);
  fs.mkdirSync(out, { recursive: true });
  const recipe = exportTrainingRecipe(MODEL, planOf(layers), 'plan.json', format);
  for (const [name, text] of Object.entries(recipe.files)) fs.writeFileSync(path.join(out, name), text);
  return out;
}

function python(code: string, ...args: string[]): string {
  return execFileSync(PYTHON, ['-c', code, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
}

function unpack(b64: string, n: number): Uint8Array {
  const bytes = Buffer.from(b64, 'base64');
  return Uint8Array.from({ length: n }, (_, i) => (bytes[i >> 3] >> (7 - (i & 7))) & 1);
}

/** The sample's weights by initializer name, read by Python's onnx (not by the engine). */
function referenceWeights(): Record<string, Float32Array> {
  const out = python(`
import sys, json, onnx
from onnx import numpy_helper
m = onnx.load(sys.argv[1])
print(json.dumps({t.name: numpy_helper.to_array(t).reshape(-1).tolist() for t in m.graph.initializer if t.name.endswith('.weight')}))`, MODEL);
  return Object.fromEntries(Object.entries(JSON.parse(out) as Record<string, number[]>).map(([k, v]) => [k, Float32Array.from(v)]));
}

for (const [name, layers] of [['mixed', mixed], ['mixed2', mixed2]] as const) {
  test(`pytorch recipe (${name} plan): valid Python; masks have each scheme's structure; the script's schemes reproduce them`, () => {
    const dir = exportTo(`pt-${name}`, layers, 'pytorch');
    assert.deepEqual(fs.readdirSync(dir).sort(), ['finetune.py', 'masks.json', 'recipe.json']);
    execFileSync(PYTHON, ['-m', 'py_compile', path.join(dir, 'finetune.py')]);
    const recipe = JSON.parse(fs.readFileSync(path.join(dir, 'recipe.json'), 'utf8'));
    const masks = JSON.parse(fs.readFileSync(path.join(dir, 'masks.json'), 'utf8')) as Record<string, string>;
    const pruned = Object.keys(layers).filter((id) => layers[id].scheme !== 'dense');
    assert.deepEqual(recipe.layers.map((l: { id: string }) => l.id).sort(), pruned.sort());

    // Structure: the independent checker, on the masks the recipe carries, with the weights Python read.
    const weights = referenceWeights();
    const loaded = loadModel(MODEL);
    try {
      const byId = new Map(findLayers(loaded.model, loaded.tensors).map((l) => [l.id, l]));
      for (const l of recipe.layers) {
        const tensor = l.tensors[0] as string;
        assert.equal(tensor, `${MODULE[l.id]}.weight`);
        const mask = unpack(masks[tensor], weights[tensor].length);
        const problems = checkStructure(geometryOf(byId.get(l.id)!), layers[l.id], [mask], [weights[tensor]]);
        assert.deepEqual(problems, [], `${l.id}: ${problems.slice(0, 3).join('; ')}`);
      }
    } finally {
      loaded.close();
    }

    // The script's own scheme definitions (used for ADMM) give the engine's masks from the same weights.
    const report = python(`
import sys, json, base64, importlib.util, numpy as np, onnx
from onnx import numpy_helper
d = sys.argv[1]
spec = importlib.util.spec_from_file_location("finetune", d + "/finetune.py")
ft = importlib.util.module_from_spec(spec); spec.loader.exec_module(ft)
recipe = json.load(open(d + "/recipe.json")); masks = json.load(open(d + "/masks.json"))
w = {t.name: numpy_helper.to_array(t) for t in onnx.load(recipe["model"]).graph.initializer}
out = {}
for layer in recipe["layers"]:
    mine = ft.scheme_masks(layer, [w[n] for n in layer["tensors"]])
    for n, m in zip(layer["tensors"], mine):
        eng = np.unpackbits(np.frombuffer(base64.b64decode(masks[n]), np.uint8))[: m.size]
        out[layer["id"]] = int((eng != m.reshape(-1)).sum())
print(json.dumps(out))`, dir);
    const diffs = JSON.parse(report) as Record<string, number>;
    assert.deepEqual(Object.keys(diffs).sort(), pruned.sort());
    for (const [id, n] of Object.entries(diffs)) assert.equal(n, 0, `${id}: ${n} mask elements differ between the script's ${layers[id].scheme} and the engine's`);
  });
}

test('pytorch recipe, --gradual: the script\'s mask updates reach the engine\'s masks at the full rate and prune the smallest weights on the way', () => {
  const dir = exportTo('pt-gradual', mixed2, 'pytorch');
  // Pruned tensors built as main() builds them (all-ones masks, dense weights), then set_rates at a
  // fraction of the plan's rate and at the full rate; counted against numpy's own ranking.
  const report = JSON.parse(python(`
import sys, json, base64, importlib.util, numpy as np, onnx, torch
from onnx import numpy_helper
d = sys.argv[1]
spec = importlib.util.spec_from_file_location("finetune", d + "/finetune.py")
ft = importlib.util.module_from_spec(spec); spec.loader.exec_module(ft)
recipe = json.load(open(d + "/recipe.json")); masks = json.load(open(d + "/masks.json"))
w = {t.name: numpy_helper.to_array(t) for t in onnx.load(recipe["model"]).graph.initializer}
pruned = [ft.Pruned(l, i, torch.nn.Parameter(torch.from_numpy(w[n].copy())), False, np.ones(w[n].shape, np.uint8))
          for l in recipe["layers"] for i, n in enumerate(l["tensors"])]
out = {"half": {}, "full": {}}
ft.set_rates(pruned, 0.5)
for p in pruned:
    n = p.layer["tensors"][p.index]; m = p.mask.numpy().reshape(-1); v = np.abs(w[n].reshape(-1))
    zeros = int((m == 0).sum())
    # Unstructured: the zeros are the smallest magnitudes, half the plan's count.
    smallest = bool(zeros == 0 or v[m == 0].max() <= v[m == 1].min())
    out["half"][p.layer["id"]] = [p.layer["spec"]["scheme"], zeros / m.size, smallest, bool((p.param.detach().numpy().reshape(-1)[m == 0] == 0).all())]
pruned = [ft.Pruned(l, i, torch.nn.Parameter(torch.from_numpy(w[n].copy())), False, np.ones(w[n].shape, np.uint8))
          for l in recipe["layers"] for i, n in enumerate(l["tensors"])]
ft.set_rates(pruned, 1.0)
for p in pruned:
    n = p.layer["tensors"][p.index]
    eng = np.unpackbits(np.frombuffer(base64.b64decode(masks[n]), np.uint8))[: p.mask.numel()]
    out["full"][p.layer["id"]] = int((eng != p.mask.numpy().reshape(-1)).sum())
print(json.dumps(out))`, dir)) as { half: Record<string, [string, number, boolean, boolean]>; full: Record<string, number> };
  for (const [id, n] of Object.entries(report.full)) assert.equal(n, 0, `${id}: ${n} mask elements differ from the engine's at the full rate`);
  const conv3 = report.half[L.conv3];
  assert.equal(conv3[0], 'unstructured');
  assert.ok(Math.abs(conv3[1] - 0.45) < 1e-4, `conv3 at half the plan's 0.9: ${conv3[1]}`);
  assert.ok(conv3[2], 'conv3: the zeros are the smallest magnitudes');
  for (const [id, [, rate, , zeroed]] of Object.entries(report.half)) {
    assert.ok(zeroed, `${id}: masked weights are zero`);
    assert.ok(rate <= mixed2[id].rate + 1e-9, `${id}: ${rate} above the plan's ${mixed2[id].rate} at half`);
  }
});

/** Rates of the pruned model written by `prunemap prune`, counted by numpy: torch module → zeros / weights. */
function prunedRates(layers: Record<string, PlanLayer>): Record<string, number> {
  const plan = writePlan(`rates-${Object.keys(layers).length}-${Math.random().toString(36).slice(2)}.json`, layers);
  const out = path.join(tmp, `pruned-${path.basename(plan, '.json')}.onnx`);
  execFileSync(process.execPath, [CLI, 'prune', MODEL, '--plan', plan, '-o', out]);
  return JSON.parse(python(`
import sys, json, onnx, numpy as np
from onnx import numpy_helper
m = onnx.load(sys.argv[1])
print(json.dumps({t.name[:-len(".weight")]: float((numpy_helper.to_array(t) == 0).mean()) for t in m.graph.initializer if t.name.endswith(".weight")}))`, out));
}

test('nni config_list: one entry per pruned layer with its torch module, the achieved rate and the closest granularity', () => {
  const dir = exportTo('nni', mixed, 'nni');
  assert.deepEqual(fs.readdirSync(dir).sort(), ['config_list.json', 'nni_config.py']);
  execFileSync(PYTHON, ['-m', 'py_compile', path.join(dir, 'nni_config.py')]);
  const list = JSON.parse(fs.readFileSync(path.join(dir, 'config_list.json'), 'utf8'));
  const fromPy = JSON.parse(python('import sys, json; sys.path.insert(0, sys.argv[1]); from nni_config import config_list; print(json.dumps(config_list))', dir));
  assert.deepEqual(fromPy, list);
  const rates = prunedRates(mixed);
  const expected: Record<string, string | number[]> = {
    [L.conv1]: 'default', [L.dw2]: 'default', [L.pw2]: [8, 4, 1, 1], [L.conv2]: 'default', [L.dw3]: 'out_channel',
    [L.pw3]: 'in_channel', [L.conv3]: 'default', [L.fc1]: 'out_channel', [L.fc2]: 'default',
  };
  assert.equal(list.length, Object.keys(expected).length);
  for (const [id, granularity] of Object.entries(expected)) {
    const e = list.find((x: { op_names: string[] }) => x.op_names[0] === MODULE[id]);
    assert.ok(e, `no entry for ${MODULE[id]}`);
    assert.deepEqual(e.target_names, ['weight']);
    assert.deepEqual(e.granularity, granularity, id);
    assert.ok(Math.abs(e.sparse_ratio - rates[MODULE[id]]) < 1e-5, `${id}: sparse_ratio ${e.sparse_ratio}, pruned model ${rates[MODULE[id]]}`);
  }
  // Schemes NNI cannot express say so next to their entry.
  const py = fs.readFileSync(path.join(dir, 'nni_config.py'), 'utf8');
  for (const scheme of ['pattern', 'nm', 'block-bcr']) assert.match(py, new RegExp(`# [^\\n]*: ${scheme} - [^\\n]*NNI has no`));
});

test('torch.ao config: tensor_fqn per pruned layer; exact block shapes where they exist, the plan\'s rate elsewhere; it prepares a torch model', () => {
  const layers = { ...mixed, [L.fc1]: { scheme: 'nm', rate: 0.5, n: 2, m: 4 } as PlanLayer, [L.fc2]: { scheme: 'block-punched', rate: 0.5, block: [2, 4] } as PlanLayer };
  const dir = exportTo('ao', layers, 'torch-ao');
  assert.deepEqual(fs.readdirSync(dir).sort(), ['torch_ao_config.json', 'torch_ao_config.py']);
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'torch_ao_config.json'), 'utf8'));
  // WeightNormSparsifier takes 2-D weights: the Linear layers are in sparse_config, the Conv layers in conv_config.
  assert.deepEqual(json.sparse_config.map((c: { tensor_fqn: string }) => c.tensor_fqn), ['classifier.fc1.weight', 'classifier.fc2.weight']);
  const config = [...json.sparse_config, ...json.conv_config];
  const rates = prunedRates(layers);
  const by = (id: string) => config.find((c: { tensor_fqn: string }) => c.tensor_fqn === `${MODULE[id]}.weight`);
  for (const id of Object.keys(layers).filter((id) => layers[id].scheme !== 'dense')) assert.ok(by(id), `no entry for ${MODULE[id]}.weight`);
  assert.equal(config.length, Object.keys(layers).length - 1);
  // Exact: n:m on a Linear is a 1×m block with m − n zeros in every block; block-punched on a Linear is a whole block.
  assert.deepEqual(by(L.fc1), { tensor_fqn: 'classifier.fc1.weight', sparsity_level: 1, sparse_block_shape: [1, 4], zeros_per_block: 2 });
  assert.deepEqual(by(L.fc2).sparse_block_shape, [2, 4]);
  assert.equal(by(L.fc2).zeros_per_block, 8);
  // Element-wise approximations carry the achieved rate.
  for (const id of [L.dw2, L.conv2, L.dw3, L.pw3, L.conv3, L.pw2]) {
    assert.deepEqual(by(id).sparse_block_shape, [1, 1], id);
    assert.ok(Math.abs(by(id).sparsity_level - rates[MODULE[id]]) < 1e-5, id);
  }
  // Pattern: whole 3×3 kernels at the kernel rate q, where rate = 1 − (4/9)(1 − q).
  const q = by(L.conv1).sparsity_level;
  assert.deepEqual(by(L.conv1).sparse_block_shape, [3, 3]);
  assert.ok(Math.abs(1 - (4 / 9) * (1 - q) - rates[MODULE[L.conv1]]) < 1e-5);

  // The .py config is accepted by torch.ao's WeightNormSparsifier on the sample's own torch model.
  const levels = JSON.parse(python(`
import sys, json, torch
sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2])
from torch_ao_config import sparse_config
from train_sample import FashionCNN
from torch.ao.pruning import WeightNormSparsifier
model = FashionCNN()
s = WeightNormSparsifier()
s.prepare(model, sparse_config)
s.step()
s.squash_mask()
print(json.dumps({n: float((p == 0).float().mean()) for n, p in model.named_parameters() if n.startswith("classifier.fc")}))`, dir, path.join(ROOT, 'scripts', 'sample')));
  assert.ok(Math.abs(levels['classifier.fc1.weight'] - 0.5) < 1e-6);
  assert.ok(Math.abs(levels['classifier.fc2.weight'] - rates['classifier.fc2']) < 0.05, `${levels['classifier.fc2.weight']} vs ${rates['classifier.fc2']}`);
});

function cli(...args: string[]) {
  return spawnSync(process.execPath, [CLI, 'export-training', ...args], { encoding: 'utf8' });
}

test('CLI: writes the folder whole; refuses an existing one without --force', () => {
  const plan = writePlan('cli-plan.json', mixed);
  const out = path.join(tmp, 'cli-out');
  const r = cli(MODEL, '--plan', plan, '-o', out);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(fs.readdirSync(out).sort(), ['finetune.py', 'masks.json', 'recipe.json']);
  const again = cli(MODEL, '--plan', plan, '--format', 'nni', '-o', out);
  assert.equal(again.status, 1);
  assert.match(again.stderr, /output folder exists.*--force/);
  assert.equal(again.stderr.trim().split('\n').length, 1);
  const forced = cli(MODEL, '--plan', plan, '--format', 'nni', '-o', out, '--force');
  assert.equal(forced.status, 0, forced.stderr);
  assert.deepEqual(fs.readdirSync(out).sort(), ['config_list.json', 'nni_config.py']);
  assert.deepEqual(fs.readdirSync(tmp).filter((f) => f.includes('.tmp-')), []);
});

test('bad plans and options: one-line errors, no folder written', () => {
  const cases: { args: string[]; status: number; message: RegExp }[] = [
    { args: ['--plan', writePlan('bad-id.json', { '/features/conv9/Conv': { scheme: 'unstructured', rate: 0.5 } })], status: 1, message: /no layer "\/features\/conv9\/Conv"/ },
    { args: ['--plan', writePlan('bad-scheme.json', { [L.dw2]: { scheme: 'pattern', rate: 0.7 } })], status: 1, message: /pattern.*depthwise/ },
    { args: ['--plan', writePlan('bad-rate.json', { [L.conv2]: { scheme: 'nm', n: 2, m: 4, rate: 0.6 } })], status: 1, message: /2:4/ },
    { args: ['--plan', path.join(tmp, 'missing.json')], status: 1, message: /missing\.json/ },
    { args: ['--plan', writePlan('ok.json', mixed), '--format', 'keras'], status: 2, message: /unknown --format "keras"/ },
    { args: [], status: 2, message: /--plan PLAN is required/ },
  ];
  for (const [i, c] of cases.entries()) {
    const out = path.join(tmp, `bad-${i}`);
    const r = cli(MODEL, ...c.args, '-o', out);
    assert.equal(r.status, c.status, `${c.args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, c.message);
    assert.ok(c.status === 2 || r.stderr.trim().split('\n').length === 1, r.stderr);
    assert.ok(!fs.existsSync(out));
  }
  // The API throws the same one-line ModelError.
  assert.throws(() => exportTrainingRecipe(MODEL, planOf({ [L.dw2]: { scheme: 'pattern', rate: 0.7 } }), 'p.json', 'pytorch'),
    (e: unknown) => e instanceof ModelError && !e.message.includes('\n') && /p\.json: layer/.test(e.message));
});
