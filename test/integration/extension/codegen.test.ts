// "PruneMap: Generate Sparse Code…" in a real VS Code extension host (a trusted workspace): the
// command, given its options (which skip the dialogs, as scripts and tests pass them), writes the
// folder through the server, verifies and benchmarks it; the runner it compiled is then run here on
// an input the test makes and compared with Python's onnxruntime on the pruned model
// `prunemap prune` writes for the same plan. The text view offers the command as a code lens.

import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { suite, suiteSetup, test } from 'mocha';
import * as vscode from 'vscode';
import { PYTHON, workspaceFile, cli, until } from './workspace';


interface CodegenResult {
  outputDir: string;
  files: string[];
  layers: { id: string; scheme: string }[];
  verified?: boolean;
  bench?: { layers: { id: string; oursMs: number; ortMs: number }[]; model: { oursMs: number; ortMs: number } };
}




suite('Generate Sparse Code… in VS Code', () => {
  const model = () => workspaceFile('fashion-cnn.onnx');

  suiteSetup(async () => {
    await vscode.extensions.getExtension('prunemap.prunemap')!.activate();
  });

  test('the command writes the folder, verified and benchmarked, and its runner matches onnxruntime', async () => {
    assert.equal(vscode.workspace.isTrusted, true);
    const outputDir = workspaceFile('gen/fashion-cnn');
    const result = await vscode.commands.executeCommand<CodegenResult>('prunemap.generateCode', model(), { outputDir, verify: true, bench: true });
    assert.ok(result, 'the command returned its result');
    assert.equal(result.outputDir, outputDir.fsPath);
    for (const file of ['prunemap_model.c', 'prunemap_model.h', 'model.bin', 'main.c', 'Makefile', 'prunemap_run']) {
      assert.ok(fs.existsSync(path.join(outputDir.fsPath, file)), file);
    }
    assert.equal(result.verified, true);
    assert.ok(result.bench && result.bench.model.oursMs > 0 && result.bench.model.ortMs > 0, 'the benchmark timed the model');
    assert.ok(result.bench.layers.length > 0 && result.bench.layers.every((l) => l.oursMs > 0 && l.ortMs > 0));

    // The plan the server used is the rule-based plan for the configured target, as `prunemap map` gives it.
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'prunemap-it-codegen-'));
    try {
      const target = vscode.workspace.getConfiguration('prunemap').get<string>('target')!;
      const plan = path.join(work, 'plan.json');
      cli('map', model().fsPath, '--target', target, '-o', plan);
      const planned = JSON.parse(fs.readFileSync(plan, 'utf8')).layers as Record<string, { scheme: string }>;
      assert.deepEqual(Object.fromEntries(result.layers.map((l) => [l.id, l.scheme])), Object.fromEntries(Object.entries(planned).map(([id, e]) => [id, e.scheme])));
      const pruned = path.join(work, 'pruned.onnx');
      cli('prune', model().fsPath, '--plan', plan, '-o', pruned);
      const [input, reference, ours] = ['input.f32', 'reference.f32', 'ours.f32'].map((f) => path.join(work, f));
      execFileSync(PYTHON, ['-c', [
        'import sys, numpy as np, onnxruntime as ort',
        's = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])',
        'i = s.get_inputs()[0]',
        'x = np.random.default_rng(3).standard_normal([d if isinstance(d, int) else 1 for d in i.shape]).astype(np.float32)',
        'x.tofile(sys.argv[2])',
        's.run(None, {i.name: x})[0].astype(np.float32).tofile(sys.argv[3])',
      ].join('\n'), pruned, input, reference]);
      execFileSync(path.join(outputDir.fsPath, 'prunemap_run'), [path.join(outputDir.fsPath, 'model.bin'), 'run', input, ours]);
      const floats = (f: string) => new Float32Array(new Uint8Array(fs.readFileSync(f)).buffer);
      const [expected, got] = [floats(reference), floats(ours)];
      assert.equal(got.length, expected.length);
      const scale = Math.max(...expected.map(Math.abs));
      const error = Math.max(...got.map((v, i) => Math.abs(v - expected[i]!)));
      assert.ok(error <= 1e-4 * scale, `max abs error ${error} at output scale ${scale}`);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });

  test('the text view offers "Generate sparse code…" as a code lens', async () => {
    await vscode.commands.executeCommand('prunemap.openTextView', model());
    const document = await until('the text view', async () => {
      const d = vscode.window.activeTextEditor?.document;
      return d?.uri.scheme === 'prunemap-text' && d.uri.path.includes('fashion-cnn') ? d : undefined;
    });
    const lenses = await until('the code lenses', async () => {
      const found = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', document.uri);
      return found?.length ? found : undefined;
    });
    const generate = lenses.find((l) => l.command?.title === 'Generate sparse code…');
    assert.ok(generate, `lenses: ${lenses.map((l) => l.command?.title).join(' | ')}`);
    assert.equal(generate.command!.command, 'prunemap.generateCode');
    assert.equal(generate.range.start.line, 0);
  });
});
