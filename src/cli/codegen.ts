// `prunemap codegen MODEL --plan PLAN -o DIR [--verify] [--bench] [--threads N] [--json] [--force]`:
// generates C sources for the model with the plan's sparse layers (docs/codegen.md). A thin shell
// over the codegen job (src/core/codegen/job.ts), which the language server runs too.

import { runCodegenJob, type CodegenJobResult } from '../core/codegen/job';
import { ARCHES, type Arch } from '../core/codegen/target';
import { findLayers } from '../core/layers';
import { loadModel } from '../core/onnx/load';
import { parse, toJson, UsageError, type Command } from './command';
import { readPlanForModel } from './read-plan';
import { table } from './format';

export const codegenCommand: Command = {
  name: 'codegen',
  usage: 'codegen MODEL --plan PLAN -o DIR [--verify] [--bench] [--threads N] [--arch host|arm64] [--json] [--force]',
  summary: 'generates C code (sparse kernels + whole-model runner) for the pruned model',
  async run(args) {
    const { values, positionals } = parse(args, {
      plan: { type: 'string' }, output: { type: 'string', short: 'o' }, verify: { type: 'boolean' }, bench: { type: 'boolean' },
      threads: { type: 'string' }, arch: { type: 'string' }, json: { type: 'boolean' }, force: { type: 'boolean' },
    }, ['MODEL']);
    if (values.help) return help();
    if (!values.plan) throw new UsageError('--plan PLAN is required');
    if (!values.output) throw new UsageError('-o DIR is required');
    const threads = Number(values.threads ?? 1);
    if (!Number.isInteger(threads) || threads < 1) throw new UsageError(`--threads needs a positive integer, got "${values.threads}"`);
    const arch = (values.arch ?? 'host') as Arch;
    if (!ARCHES.includes(arch)) throw new UsageError(`--arch must be one of ${ARCHES.join(', ')}, got "${values.arch}"`);
    // The plan is checked against the model here, so its problems point at the plan file's line and column.
    const loaded = loadModel(positionals[0]);
    let plan;
    try {
      plan = readPlanForModel(values.plan, loaded.model, findLayers(loaded.model, loaded.tensors));
    } finally {
      loaded.close();
    }
    // Ctrl+C cancels the job: the running compiler or model is killed and nothing is left behind.
    const controller = new AbortController();
    const onSigint = () => controller.abort();
    process.on('SIGINT', onSigint);
    try {
      const result = await runCodegenJob(positionals[0], plan, values.plan, values.output, {
        verify: values.verify, bench: values.bench, threads, force: values.force, arch, signal: controller.signal,
      });
      if (values.json) {
        const byId = new Map(result.bench?.layers.map((l) => [l.id, l]));
        process.stdout.write(toJson({
          output: result.outputDir,
          verified: result.verified ?? null,
          maxAbsError: result.maxAbsError ?? null,
          layers: result.layers.map((l) => ({ id: l.id, scheme: l.scheme, kept: l.kept, oursMs: byId.get(l.id)?.oursMs ?? null, ortMs: byId.get(l.id)?.ortMs ?? null, denseOursMs: byId.get(l.id)?.denseOursMs ?? null })),
          model: result.bench ? result.bench.model : null,
        }) + '\n');
      } else process.stdout.write(render(result, arch));
      return result.verified === false ? 1 : 0;
    } catch (err) {
      if ((err as Error).name !== 'AbortError') throw err;
      process.stderr.write('prunemap: interrupted; no output was written\n');
      return 130;
    } finally {
      process.off('SIGINT', onSigint);
    }
  },
};

const ms = (x: number) => x.toFixed(3);

function render(r: CodegenJobResult, arch: Arch): string {
  const lines = [`${r.outputDir}: ${r.files.join(', ')} (${r.layers.length} layers${arch === 'host' ? '' : `, ${arch}`})`];
  if (r.verified !== undefined) {
    const on = arch === 'host' ? '' : ` (${arch} binary under qemu)`;
    lines.push(`verify${on}: ${r.verified ? 'ok' : 'FAILED'} — max abs error ${r.maxAbsError!.toPrecision(3)} (output scale ${r.outputScale!.toPrecision(3)}) vs onnxruntime on the pruned model`);
  }
  const bench = r.bench;
  if (bench) {
    const rows = bench.layers.map((l) => [l.id, l.scheme, ms(l.oursMs), ms(l.denseOursMs), ms(l.ortMs), `${(l.ortMs / l.oursMs).toFixed(2)}×`, `${(l.denseOursMs / l.oursMs).toFixed(2)}×`]);
    lines.push('', table(['layer', 'scheme', 'ours ms', 'ours dense ms', 'ort ms', 'vs ort', 'vs dense'], rows, [2, 3, 4, 5, 6]), '',
      `model: ours ${ms(bench.model.oursMs)} ms · onnxruntime ${ms(bench.model.ortMs)} ms · ${(bench.model.ortMs / bench.model.oursMs).toFixed(2)}×`);
  }
  return lines.join('\n') + '\n';
}

function help(): number {
  process.stdout.write([
    'usage: prunemap codegen MODEL --plan PLAN -o DIR [--verify] [--bench] [--threads N] [--arch host|arm64] [--json] [--force]',
    '',
    'Writes C sources for MODEL with the plan\'s block-punched layers as sparse kernels (others dense):',
    'prunemap_model.c/.h (C API: prunemap_model_load, prunemap_model_run), model.bin (weights),',
    'main.c and a Makefile. --verify compiles with $CC $CFLAGS (default cc -O3 -march=native) and',
    'checks the output against onnxruntime on the pruned model; --bench times every generated Conv',
    'and the model against onnxruntime (--threads N, default 1). --arch arm64 cross-compiles with',
    '$CC_ARM64 $CFLAGS_ARM64 (default aarch64-linux-gnu-gcc -O3 -march=armv8-a, linked statically);',
    'with --verify the binary runs under qemu-aarch64. See docs/codegen.md.',
  ].join('\n') + '\n');
  return 0;
}
