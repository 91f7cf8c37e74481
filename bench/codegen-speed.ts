// Benchmark of `prunemap codegen --bench` on one model: every Conv whose F and C divide by (8, 4)
// block-punched (8, 4) at 87.5%; prints per layer ours-sparse / ours-dense / onnxruntime-dense with
// the goals side by side (≥ 3× onnxruntime, ≥ half the ideal 1/(1−rate) = 8× over our dense)
// and the whole model (goal ≥ 2× onnxruntime, outputs verified). Usage: see codegen-speed.sh.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findLayers } from '../src/core/layers';
import { loadModel } from '../src/core/onnx/load';

const [model, threads = '1'] = process.argv.slice(2);
const ROOT = path.resolve(__dirname, '..');
const RATE = 0.875, IDEAL = 1 / (1 - RATE);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'prunemap-bench-codegen-'));
try {
  const loaded = loadModel(model);
  const layers: Record<string, unknown> = {};
  for (const l of findLayers(loaded.model, loaded.tensors)) {
    if (l.op === 'Conv' && l.group === 1 && l.weightShape[0] % 8 === 0 && l.weightShape[1] % 4 === 0) layers[l.id] = { scheme: 'block-punched', block: [8, 4], rate: RATE };
  }
  loaded.close();
  const plan = path.join(work, 'plan.json');
  fs.writeFileSync(plan, JSON.stringify({ model: path.resolve(model), target: 'host-cpu', layers }));
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'codegen', model, '--plan', plan, '-o', path.join(work, 'out'), '--verify', '--bench', '--json', '--threads', threads],
    { encoding: 'utf8', cwd: ROOT, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(r.stderr.trim());
  const rep = JSON.parse(r.stdout);
  const pad = (s: string, n: number) => s.padStart(n);
  console.log(`${path.basename(model)}: block-punched (8,4) at ${RATE} on ${Object.keys(layers).length} Conv layers, ${threads} thread(s); verified ${rep.verified} (max abs error ${rep.maxAbsError.toExponential(2)})`);
  console.log(`${'layer'.padEnd(46)}${pad('ours', 9)}${pad('dense', 9)}${pad('ort', 9)}${pad('vs ort', 9)}${pad('goal', 6)}${pad('vs dense', 10)}${pad('goal', 6)}`);
  let pass = 0, total = 0;
  for (const l of rep.layers) {
    if (l.oursMs === null) continue;
    const vsOrt = l.ortMs / l.oursMs, vsDense = l.denseOursMs / l.oursMs;
    const sparse = l.scheme === 'block-punched';
    const ok = sparse && vsOrt >= 3 && vsDense >= IDEAL / 2;
    if (sparse) { total++; if (ok) pass++; }
    console.log(`${l.id.slice(0, 45).padEnd(46)}${pad(l.oursMs.toFixed(3), 9)}${pad(l.denseOursMs.toFixed(3), 9)}${pad(l.ortMs.toFixed(3), 9)}${pad(vsOrt.toFixed(2) + '×', 9)}${pad(sparse ? (vsOrt >= 3 ? 'ok' : 'MISS') : '-', 6)}${pad(vsDense.toFixed(2) + '×', 10)}${pad(sparse ? (vsDense >= IDEAL / 2 ? 'ok' : 'MISS') : '-', 6)}`);
  }
  const m = rep.model, speedup = m.ortMs / m.oursMs;
  console.log(`sparse layers meeting both goals: ${pass}/${total}`);
  console.log(`model: ours ${m.oursMs.toFixed(2)} ms, onnxruntime ${m.ortMs.toFixed(2)} ms: ${speedup.toFixed(2)}× (goal ≥ 2×: ${speedup >= 2 && rep.verified ? 'ok' : 'MISS'})`);
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
