// Every corpus file decoded by the engine and by Python's onnx (the manifest) must agree: header,
// node and initializer counts (subgraphs included), op types, and per tensor its data type, shape,
// storage form, byte counts and the sum of |values| — which proves each storage form is read right.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { loadModel } from '../../src/core/onnx/load';
import { walkGraphs, constantNodeTensor } from '../../src/core/onnx/graph-view';
import type { Model, Tensor } from '../../src/core/onnx/model';
import type { TensorReader } from '../../src/core/onnx/tensor-data';
import { loadManifest, type RefEntry } from '../support/manifest';

const absSumTypes = new Set([1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 16]);

function opKey(domain: string, op: string): string {
  return domain === '' || domain === 'ai.onnx' ? op : `${domain}::${op}`;
}

function absSum(reader: TensorReader, t: Tensor): number {
  if (t.dataType === 7 || t.dataType === 13) return reader.int64(t).reduce<number>((s, v) => s + Math.abs(Number(v)), 0);
  let s = 0;
  for (const v of reader.float32(t)) s += Math.abs(v);
  return s;
}

function near(a: number, reference: number | string): boolean {
  const b = Number(reference); // the manifest may spell non-finite sums as strings
  if (!Number.isFinite(b)) return Number.isNaN(b) ? Number.isNaN(a) : a === b;
  return Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b));
}

/** Differences between our decode and the reference, as readable lines (empty when they agree). */
function compare(model: Model, reader: TensorReader, ref: RefEntry): string[] {
  const diffs: string[] = [];
  const check = (what: string, ours: unknown, theirs: unknown) => {
    if (JSON.stringify(ours) !== JSON.stringify(theirs)) diffs.push(`${what}: ours ${JSON.stringify(ours)} vs onnx ${JSON.stringify(theirs)}`);
  };
  check('irVersion', model.irVersion, ref.irVersion);
  check('opsets', Object.fromEntries(model.opsets.map((o) => [o.domain, o.version])), ref.opsets);
  check('producer', model.producerName, ref.producer);
  let nodes = 0;
  const ops: Record<string, number> = {};
  const tensors: Tensor[] = [];
  const constants: [string, Tensor][] = [];
  for (const { graph } of walkGraphs(model)) {
    nodes += graph.nodes.length;
    tensors.push(...graph.initializers);
    for (const n of graph.nodes) {
      const k = opKey(n.domain, n.opType);
      ops[k] = (ops[k] ?? 0) + 1;
      if (n.opType === 'Constant' && (n.domain === '' || n.domain === 'ai.onnx')) {
        const value = n.attributes.find((a) => a.name === 'value' && a.t);
        if (value) constants.push([n.name || n.outputs[0], constantNodeTensor(n)!]);
      }
    }
  }
  check('nodeCount', nodes, ref.nodeCount);
  check('initializerCount', tensors.length, ref.initializerCount);
  check('functionCount', model.functions.length, ref.functionCount);
  check('functionNodeCount', model.functions.reduce((s, f) => s + f.nodes.length, 0), ref.functionNodeCount);
  check('opTypes', Object.fromEntries(Object.entries(ops).sort()), Object.fromEntries(Object.entries(ref.opTypes).sort()));
  check('rawBytes', tensors.reduce((s, t) => s + (t.storage.kind === 'raw' ? t.storage.range.length : 0), 0), ref.rawBytes);
  ref.initializers.forEach((r, i) => {
    const t = tensors[i];
    if (!t) return;
    const storage = t.storage.kind === 'typed' ? 'typed' : t.storage.kind;
    check(`initializer ${r.name}`, [t.name, t.dataType, t.dims, storage], [r.name, r.dataType, r.dims, r.storage]);
    if (t.storage.kind === 'external') check(`initializer ${r.name} external length`, t.storage.range.length, r.externalLength);
    if (r.absSum !== undefined && absSumTypes.has(t.dataType)) {
      const ours = absSum(reader, t);
      if (!near(ours, r.absSum)) diffs.push(`initializer ${r.name} sum|x|: ours ${ours} vs onnx ${r.absSum}`);
    }
  });
  // Constants are compared by output name: the two walks may visit subgraphs in another order.
  check('constant tensors', constants.length, ref.constantTensors.length);
  const byName = new Map(constants);
  for (const r of ref.constantTensors) {
    const t = byName.get(r.node);
    if (!t) continue;
    check(`constant ${r.node}`, [t.dataType, t.dims], [r.dataType, r.dims]);
    if (r.absSum !== undefined && absSumTypes.has(t.dataType)) {
      const ours = absSum(reader, t);
      if (!near(ours, r.absSum)) diffs.push(`constant ${r.node} sum|x|: ours ${ours} vs onnx ${r.absSum}`);
    }
  }
  return diffs;
}

const manifest = loadManifest();
const corpora = [...new Set(manifest.entries.map((e) => e.corpus))];

for (const corpus of corpora) {
  const entries = manifest.entries.filter((e) => e.corpus === corpus && e.ok);
  test(`${corpus}: ${entries.length} files decode as Python onnx decodes them`, () => {
    const failures: string[] = [];
    for (const entry of entries) {
      let loaded;
      try {
        loaded = loadModel(entry.path);
      } catch (err) {
        failures.push(`${entry.path}: ${(err as Error).message}`);
        continue;
      }
      try {
        for (const d of compare(loaded.model, loaded.tensors, entry)) failures.push(`${entry.path}: ${d}`);
      } catch (err) {
        failures.push(`${entry.path}: ${(err as Error).stack}`);
      } finally {
        loaded.close();
      }
    }
    assert.equal(failures.length, 0, `${failures.length} mismatches, first ones:\n${failures.slice(0, 25).join('\n')}`);
  });
}
