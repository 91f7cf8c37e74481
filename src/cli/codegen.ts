// `prunemap codegen MODEL --plan PLAN -o DIR [--verify] [--bench] [--threads N] [--json] [--force]`:
// generates C sources for the model with the plan's sparse layers (docs/codegen.md). The output
// folder appears whole or not at all: sources are written and compiled in a temporary sibling.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { benchmark, type BenchResult } from '../core/codegen/bench';
import { compileRunner, compilerFromEnv } from '../core/codegen/compile';
import { generateCode } from '../core/codegen/generate';
import { writeOutputDir } from '../core/codegen/output-dir';
import { verifyAgainstOrt, type VerifyResult } from '../core/codegen/verify';
import { findLayers } from '../core/layers';
import { loadModel } from '../core/onnx/load';
import { buildMasks } from '../core/prune/masks';
import { writePrunedModel } from '../core/prune/write';
import { parse, toJson, UsageError, type Command } from './command';
import { readPlanForModel } from './read-plan';
import { table } from './format';

export const codegenCommand: Command = {
  name: 'codegen',
  usage: 'codegen MODEL --plan PLAN -o DIR [--verify] [--bench] [--threads N] [--json] [--force]',
  summary: 'generates C code (sparse kernels + whole-model runner) for the pruned model',
  async run(args) {
    const { values, positionals } = parse(args, {
      plan: { type: 'string' }, output: { type: 'string', short: 'o' }, verify: { type: 'boolean' }, bench: { type: 'boolean' },
      threads: { type: 'string' }, json: { type: 'boolean' }, force: { type: 'boolean' },
    }, ['MODEL']);
    if (values.help) return help();
    if (!values.plan) throw new UsageError('--plan PLAN is required');
    if (!values.output) throw new UsageError('-o DIR is required');
    const threads = Number(values.threads ?? 1);
    if (!Number.isInteger(threads) || threads < 1) throw new UsageError(`--threads needs a positive integer, got "${values.threads}"`);
    const loaded = loadModel(positionals[0]);
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'prunemap-codegen-'));
    try {
      const layers = findLayers(loaded.model, loaded.tensors);
      const plan = readPlanForModel(values.plan, loaded.model, layers);
      const masks = buildMasks(loaded, layers, plan, values.plan);
      const gen = generateCode(loaded, layers, masks, { threads, denseTwins: values.bench });
      const compile = values.verify || values.bench;
      // The pruned model is onnxruntime's side of --verify and --bench.
      const pruned = path.join(scratch, 'pruned.onnx');
      if (compile) await writePrunedModel(loaded, masks, pruned, { layers });
      const out = path.resolve(values.output);
      const { verify, bench } = await writeOutputDir(out, gen.files, !!values.force, async (dir) => {
        if (!compile) return {};
        compileRunner(dir, compilerFromEnv(), threads);
        const outputSize = gen.outputShape.reduce((a, b) => a * b, 1);
        const verify = values.verify ? await verifyAgainstOrt(dir, pruned, gen.inputName, gen.inputShape, outputSize) : undefined;
        const bench = values.bench ? await benchmark(dir, pruned, gen, loaded, layers, masks, { threads }) : undefined;
        return { verify, bench };
      });
      if (values.json) {
        const byId = new Map(bench?.layers.map((l) => [l.id, l]));
        process.stdout.write(toJson({
          output: out,
          verified: verify ? verify.ok : null,
          maxAbsError: verify ? verify.maxAbsError : null,
          layers: gen.layers.map((l) => ({ id: l.id, scheme: l.scheme, kept: l.kept, oursMs: byId.get(l.id)?.oursMs ?? null, ortMs: byId.get(l.id)?.ortMs ?? null, denseOursMs: byId.get(l.id)?.denseOursMs ?? null })),
          model: bench ? bench.model : null,
        }) + '\n');
      } else process.stdout.write(render(out, gen.layers.length, verify, bench));
      return verify && !verify.ok ? 1 : 0;
    } finally {
      loaded.close();
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  },
};

/** Reads and checks the plan against the model; the first error is thrown as one line with line:column. */
const ms = (x: number) => x.toFixed(3);

function render(out: string, layerCount: number, verify: VerifyResult | undefined, bench: BenchResult | undefined): string {
  const lines = [`${out}: prunemap_model.c, prunemap_model.h, model.bin, main.c, Makefile (${layerCount} layers)`];
  if (verify) lines.push(`verify: ${verify.ok ? 'ok' : 'FAILED'} — max abs error ${verify.maxAbsError.toPrecision(3)} (output scale ${verify.outputScale.toPrecision(3)}) vs onnxruntime on the pruned model`);
  if (bench) {
    const rows = bench.layers.map((l) => [l.id, l.scheme, ms(l.oursMs), ms(l.denseOursMs), ms(l.ortMs), `${(l.ortMs / l.oursMs).toFixed(2)}×`, `${(l.denseOursMs / l.oursMs).toFixed(2)}×`]);
    lines.push('', table(['layer', 'scheme', 'ours ms', 'ours dense ms', 'ort ms', 'vs ort', 'vs dense'], rows, [2, 3, 4, 5, 6]), '',
      `model: ours ${ms(bench.model.oursMs)} ms · onnxruntime ${ms(bench.model.ortMs)} ms · ${(bench.model.ortMs / bench.model.oursMs).toFixed(2)}×`);
  }
  return lines.join('\n') + '\n';
}

function help(): number {
  process.stdout.write([
    'usage: prunemap codegen MODEL --plan PLAN -o DIR [--verify] [--bench] [--threads N] [--json] [--force]',
    '',
    'Writes C sources for MODEL with the plan\'s block-punched layers as sparse kernels (others dense):',
    'prunemap_model.c/.h (C API: prunemap_model_load, prunemap_model_run), model.bin (weights),',
    'main.c and a Makefile. --verify compiles with $CC $CFLAGS (default cc -O3 -march=native) and',
    'checks the output against onnxruntime on the pruned model; --bench times every generated Conv',
    'and the model against onnxruntime (--threads N, default 1). See docs/codegen.md.',
  ].join('\n') + '\n');
  return 0;
}
