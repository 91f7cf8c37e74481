// Issue 7's acceptance check, as the issue states it: on the bundled sample, S = the rule plan's
// estimated speedup (`map --json` summary, default 4× compression); `search --speedup S --json`
// with the default effort; both plans pruned one-shot by `prunemap prune`; top-1 on the FULL
// fashion-mnist test set (10,000 images, Debian's dataset-fashion-mnist) measured by Python's
// onnxruntime (.venv-ref), not by PruneMap. The search plan must keep at least the rule plan's
// top-1 at no lower estimated speedup, and both pruned models must pass the independent
// structure checker (scripts/reference/check_structure.py).

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const sample = path.join(root, 'samples', 'fashion-cnn.onnx');
const PYTHON = path.join(root, '.venv-ref', 'bin', 'python');
const DATA = '/usr/share/datasets/fashion-mnist';

function prunemap(...args: string[]): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'src', 'cli', 'main.ts'), ...args], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `prunemap ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Top-1 of each model on the full test set, by Python's onnxruntime. */
function top1(models: string[]): number[] {
  const py = `
import gzip, json, sys
import numpy as np, onnxruntime as ort
d = sys.argv[1]
img = np.frombuffer(gzip.open(d + '/t10k-images-idx3-ubyte.gz').read(), np.uint8, offset=16).reshape(-1, 1, 28, 28).astype(np.float32) / 255
lab = np.frombuffer(gzip.open(d + '/t10k-labels-idx1-ubyte.gz').read(), np.uint8, offset=8)
out = []
for m in sys.argv[2:]:
    s = ort.InferenceSession(m, providers=['CPUExecutionProvider'])
    name = s.get_inputs()[0].name
    pred = np.concatenate([s.run(None, {name: img[i:i + 1000]})[0].argmax(1) for i in range(0, len(img), 1000)])
    out.append(float((pred == lab).mean()))
print(json.dumps(out))
`;
  const r = spawnSync(PYTHON, ['-c', py, DATA, ...models], { encoding: 'utf8', maxBuffer: 16 << 20 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

function structureOk(dense: string, pruned: string, plan: string): void {
  const r = spawnSync(PYTHON, [path.join(root, 'scripts', 'reference', 'check_structure.py'), '--dense', dense, '--pruned', pruned, '--plan', plan, '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.ok(result.ok, JSON.stringify(result.layers.filter((l: { ok: boolean }) => !l.ok)));
}

test('search keeps at least the rule plan\'s full-test-set top-1 at the rule plan\'s estimated speedup', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prunemap-search-accept-'));
  try {
    const model = path.join(dir, 'fashion-cnn.onnx');
    fs.copyFileSync(sample, model);
    const rule = JSON.parse(prunemap('map', model, '--json'));
    const S: number = rule.summary.speedup;
    const search = JSON.parse(prunemap('search', model, '--speedup', String(S), '--json'));
    assert.ok(search.summary.speedup >= S, `search speedup ${search.summary.speedup} < rule ${S}`);

    const files = { rule: path.join(dir, 'rule.prune.json'), search: path.join(dir, 'search.prune.json') };
    fs.writeFileSync(files.rule, JSON.stringify(rule));
    fs.writeFileSync(files.search, JSON.stringify(search));
    const pruned = { rule: path.join(dir, 'rule.onnx'), search: path.join(dir, 'search.onnx') };
    prunemap('prune', model, '--plan', files.rule, '-o', pruned.rule);
    prunemap('prune', model, '--plan', files.search, '-o', pruned.search);
    structureOk(model, pruned.rule, files.rule);
    structureOk(model, pruned.search, files.search);

    const [dense, ruleTop1, searchTop1] = top1([model, pruned.rule, pruned.search]);
    console.log(`dense ${dense}, rule plan ${ruleTop1} and search plan ${searchTop1} at ${S}× (search ${search.summary.speedup}×)`);
    assert.ok(Math.abs(dense - 0.9154) < 1e-9, `dense top-1 ${dense} (samples/README.md says 0.9154)`);
    assert.ok(searchTop1 >= ruleTop1, `search top-1 ${searchTop1} < rule top-1 ${ruleTop1}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
