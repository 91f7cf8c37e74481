// The text view over LSP on real models, as a plain client sees it: prunemap/textView returns the
// CLI's `text` output under the agreed URI; every prunable layer's line (found independently: by
// the CLI's `inspect --json` and by reading node names out of the text for the layers Python's onnx
// found) has exactly one inlay hint and a hover whose dense → pruned latency is the CLI's
// `map --json` figure; the outline lists every layer; code lenses and diagnostics sit on the right
// lines; a model with subgraphs nests its symbols.

import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { attr, filledTensor, graph, modelBytes, node, valueInfo } from '../support/build-model';
import { LspClient } from './support/client';
import { cli, fashionCnn, inspectJson, mapJson, nodeLinesByName, referenceLayerIds, tempDir, threeDigits, torchvision } from './support/references';

const models = [
  { file: torchvision('resnet18.onnx'), pythonReference: true },
  { file: torchvision('mobilenet_v2.onnx'), pythonReference: true },
  { file: torchvision('squeezenet1_1.onnx'), pythonReference: true },
  { file: torchvision('gru-bidir.onnx'), pythonReference: true },
  { file: torchvision('densenet121.onnx'), pythonReference: true },
  { file: fashionCnn, pythonReference: false },
];

let client: LspClient;
before(async () => {
  client = await LspClient.start();
});
after(async () => {
  await client.stop();
});

interface Symbol {
  name: string;
  kind: number;
  range: { start: { line: number }; end: { line: number } };
  selectionRange: { start: { line: number } };
  children?: Symbol[];
}
const FUNCTION = 12;

function layerSymbols(symbols: Symbol[]): Symbol[] {
  return symbols.flatMap((s) => [...(s.kind === FUNCTION ? [s] : []), ...layerSymbols(s.children ?? [])]);
}

for (const { file, pythonReference } of models) {
  describe(path.basename(file), () => {
    const inspect = inspectJson(file);
    const plan = mapJson(file);
    const layerLines = new Map(inspect.layers.map((l) => [l.id, l.line - 1]));
    let view: { uri: string; text: string };

    before(async () => {
      view = await client.openTextView(file);
    });

    test('textView: the agreed URI and exactly the CLI\'s `text` output', () => {
      assert.equal(view.uri, `prunemap-text:${pathToFileURL(file).pathname}-text`);
      assert.equal(view.text, cli('text', file));
    });

    test('every prunable layer\'s line has one inlay hint, and no other line has one', async () => {
      const hints = await client.inlayHints(view.uri);
      const hinted = hints.map((h) => h.position.line).sort((a, b) => a - b);
      assert.deepEqual(hinted, [...layerLines.values()].sort((a, b) => a - b));
      if (pythonReference) {
        const ids = referenceLayerIds(file);
        const byName = nodeLinesByName(view.text, ids);
        assert.equal(byName.size, ids.length, 'every layer Python found is a named node line in the text');
        assert.deepEqual(hinted, [...byName.values()].sort((a, b) => a - b));
      }
      const lines = view.text.split('\n');
      for (const h of hints) {
        const id = inspect.layers.find((l) => l.line - 1 === h.position.line)!.id;
        const entry = plan.layers[id];
        assert.equal(h.position.character, lines[h.position.line].length, 'at the end of the line');
        if (entry.scheme === 'dense') assert.match(h.label, /^dense · /);
        else assert.ok(h.label.startsWith(`${entry.scheme}${entry.block ? ` ${entry.block[0]}×${entry.block[1]}` : ''}`) && h.label.includes(`${(entry.rate * 100).toFixed(1)}%`), `${id}: ${h.label}`);
      }
    });

    test('hover on every layer: shapes and the latency of `map --json`, dense → pruned', async () => {
      for (const l of inspect.layers) {
        const hover = await client.hover(view.uri, l.line - 1);
        assert.ok(hover, `hover on ${l.id}`);
        const text: string = hover.contents.value;
        assert.ok(text.includes(l.id), l.id);
        assert.ok(text.includes(`[${l.weightShape.join(',')}]`), `${l.id}: weight shape`);
        const m = /dense ([\d.e+-]+) ms → pruned ([\d.e+-]+) ms/.exec(text);
        assert.ok(m, `${l.id}: latency in ${text}`);
        const { denseMs, prunedMs } = plan.layers[l.id].latency;
        assert.deepEqual([Number(m[1]), Number(m[2])], [threeDigits(denseMs), threeDigits(prunedMs)], l.id);
        assert.ok(text.includes(`Latency on ${plan.target}`));
      }
      assert.equal(await client.hover(view.uri, 0), null, 'no hover off a layer');
    });

    test('analyze: the summary of `inspect --json` and the plan of `map --json`', async () => {
      const result = await client.request('prunemap/analyze', { uri: pathToFileURL(file).href });
      assert.deepEqual(result.summary, inspect);
      assert.equal(result.textUri, view.uri);
      assert.equal(result.plan.source, 'rules');
      assert.equal(result.plan.target, plan.target);
      assert.deepEqual(Object.keys(result.plan.layers), Object.keys(plan.layers));
      for (const [id, e] of Object.entries(plan.layers)) {
        const got = result.plan.layers[id];
        assert.equal(got.scheme, e.scheme, id);
        assert.equal(got.rate, e.rate, id);
        assert.deepEqual(got.latency, e.latency, id);
        assert.equal(got.source, 'rules');
        assert.ok(got.feasibleSchemes.includes('dense') && got.feasibleSchemes.includes(e.scheme), id);
      }
    });

    test('document symbols list every layer, each on its line', async () => {
      const symbols: Symbol[] = await client.request('textDocument/documentSymbol', { textDocument: { uri: view.uri } });
      const layers = layerSymbols(symbols);
      const expected = pythonReference ? referenceLayerIds(file) : inspect.layers.map((l) => l.id);
      assert.deepEqual(layers.map((s) => s.name), expected);
      for (const s of layers) assert.equal(s.range.start.line, layerLines.get(s.name), s.name);
    });

    test('code lenses: "Prune model…" on top, "Why this scheme?" and "Change scheme…" on every layer', async () => {
      const lenses = await client.request('textDocument/codeLens', { textDocument: { uri: view.uri } });
      const top = lenses.filter((c: any) => c.command.command === 'prunemap.pruneModel');
      assert.equal(top.length, 1);
      assert.equal(top[0].range.start.line, 0);
      assert.deepEqual(top[0].command.arguments, [{ uri: pathToFileURL(file).href, textUri: view.uri }]);
      for (const command of ['prunemap.explainLayer', 'prunemap.changeScheme']) {
        const lines = lenses.filter((c: any) => c.command.command === command);
        assert.deepEqual(lines.map((c: any) => c.command.arguments[0].layer), inspect.layers.map((l) => l.id));
        assert.deepEqual(lines.map((c: any) => c.range.start.line), inspect.layers.map((l) => l.line - 1));
      }
    });

    test('diagnostics: information on exactly the layers left dense, with the reason', async () => {
      const diagnostics = await client.diagnostics(view.uri);
      const dense = Object.entries(plan.layers).filter(([, e]) => e.scheme === 'dense').map(([id]) => id);
      assert.deepEqual(diagnostics.map((d) => d.range.start.line).sort((a, b) => a - b), dense.map((id) => layerLines.get(id)).sort((a, b) => (a ?? 0) - (b ?? 0)));
      for (const d of diagnostics) {
        assert.equal(d.severity, 3, 'information');
        assert.match(d.message, /is left dense: ./);
      }
    });
  });
}

describe('a model with layers inside subgraphs', () => {
  // Main graph: Gemm, then If whose branches each hold a Conv reading the outer input.
  const conv = (branch: string) => graph({
    name: branch,
    node: [node('Conv', ['x', `${branch}.w`], [`${branch}.y`], [attr.ints('kernel_shape', [3, 3])], `${branch}/Conv`)],
    initializer: [filledTensor(`${branch}.w`, [16, 8, 3, 3])],
    output: [valueInfo(`${branch}.y`, 1, [1, 16, 6, 6])],
  });
  const bytes = modelBytes(graph({
    name: 'nested',
    node: [
      node('Gemm', ['v', 'fc.w'], ['fc.y'], [attr.int('transB', 1)], 'fc/Gemm'),
      node('If', ['cond'], ['y'], [attr.graph('then_branch', conv('then')), attr.graph('else_branch', conv('else'))], 'choose/If'),
    ],
    initializer: [filledTensor('fc.w', [32, 64])],
    input: [valueInfo('x', 1, [1, 8, 8, 8]), valueInfo('v', 1, [1, 64]), valueInfo('cond', 9, [])],
    output: [valueInfo('y', 1, [1, 16, 6, 6]), valueInfo('fc.y', 1, [1, 32])],
  }));
  const file = path.join(tempDir(), 'nested.onnx');
  fs.writeFileSync(file, bytes);

  test('symbols nest: main graph → If → then_branch / else_branch → their Conv', async () => {
    const view = await client.openTextView(file);
    const [root]: Symbol[] = await client.request('textDocument/documentSymbol', { textDocument: { uri: view.uri } });
    assert.equal(root.name, 'nested');
    assert.deepEqual(root.children!.map((c) => c.name), ['fc/Gemm', 'choose/If']);
    const ifSymbol = root.children![1];
    assert.deepEqual(ifSymbol.children!.map((c) => c.name), ['then_branch', 'else_branch']);
    assert.deepEqual(ifSymbol.children!.map((c) => c.children!.map((l) => l.name)), [['then/Conv'], ['else/Conv']]);
    const lines = view.text.split('\n');
    for (const branch of ifSymbol.children!) {
      const layer = branch.children![0];
      assert.ok(lines[layer.range.start.line].includes(`"${layer.name}"`), `${layer.name} on its line`);
      assert.ok(layer.range.start.line >= branch.range.start.line && layer.range.end.line <= branch.range.end.line, 'inside its subgraph');
      assert.ok(branch.range.start.line >= ifSymbol.range.start.line && branch.range.end.line <= ifSymbol.range.end.line, 'inside its node');
    }
    const hints = await client.inlayHints(view.uri);
    assert.deepEqual(hints.map((h) => h.position.line).sort((a, b) => a - b), inspectJson(file).layers.map((l) => l.line - 1).sort((a, b) => a - b));
  });

  test('a client without hierarchical symbols gets the layers as a flat list', async () => {
    const flat = await LspClient.start({ capabilities: { textDocument: { documentSymbol: {} } } });
    try {
      const view = await flat.openTextView(file);
      const symbols = await flat.request('textDocument/documentSymbol', { textDocument: { uri: view.uri } });
      assert.deepEqual(symbols.map((s: any) => [s.name, s.containerName]), [['fc/Gemm', 'nested'], ['then/Conv', 'then_branch'], ['else/Conv', 'else_branch']]);
      assert.ok(symbols.every((s: any) => s.location.uri === view.uri));
    } finally {
      await flat.stop();
    }
  });
});
