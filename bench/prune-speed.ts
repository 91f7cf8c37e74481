// Our side of bench/prune-speed.sh, in one process: load ResNet-50, block-punched (8,4) at 0.875 on
// every Conv whose F and C divide by (8, 4), score, mask and write — timed from loadModel to the
// renamed output. Prints one JSON line {"ms", "loadMs", "maskMs", "writeMs", "layers"}.
//
//   node --import tsx bench/prune-speed.ts MODEL OUT [--fsync]
//   node --import tsx bench/prune-speed.ts MODEL --write-plan PLAN     (the same plan as a plan file, for the CLI)
// bench/prune-speed.sh runs it bundled by esbuild, as the CLI is (under tsx every call into another
// module goes through a getter, which slows the hot loops of the schemes severalfold).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { findLayers, type Layer } from '../src/core/layers';
import { loadModel } from '../src/core/onnx/load';
import type { Plan } from '../src/core/plan';
import { prepareMasks } from '../src/core/prune/masks';
import { writePrunedModel } from '../src/core/prune/write';

export const BLOCK: [number, number] = [8, 4];
export const RATE = 0.875;

/** The bench's plan: every Conv with F % 8 = 0 and C % 4 = 0 (group 1). */
function planOf(model: string, layers: readonly Layer[]): Plan {
  const chosen = layers.filter((l) => l.op === 'Conv' && l.group === 1 && l.weightShape[0] % BLOCK[0] === 0 && l.weightShape[1] % BLOCK[1] === 0);
  return {
    model: path.basename(model), target: 'host-cpu',
    layers: Object.fromEntries(chosen.map((l) => [l.id, { scheme: 'block-punched', block: BLOCK, rate: RATE }])),
  };
}

async function main(): Promise<void> {
  const [model, second, third] = process.argv.slice(2);
  if (second === '--write-plan') {
    const loaded = loadModel(model);
    const plan = planOf(model, findLayers(loaded.model, loaded.tensors));
    loaded.close();
    fs.writeFileSync(third, JSON.stringify(plan, null, 2) + '\n');
    process.stdout.write(JSON.stringify({ layers: Object.keys(plan.layers).length }) + '\n');
    return;
  }
  const durable = process.argv.includes('--fsync'); // as the CLI: off unless asked for
  const t0 = performance.now();
  const loaded = loadModel(model);
  const layers = findLayers(loaded.model, loaded.tensors);
  const plan = planOf(model, layers);
  const t1 = performance.now();
  const masks = prepareMasks(loaded, layers, plan); // as the CLI: computed while writing
  const t2 = performance.now();
  await writePrunedModel(loaded, masks, second, { force: true, layers, durable });
  loaded.close();
  const t3 = performance.now();
  process.stdout.write(JSON.stringify({ ms: t3 - t0, loadMs: t1 - t0, maskMs: t2 - t1, writeMs: t3 - t2, layers: masks.size }) + '\n');
}

void main();
