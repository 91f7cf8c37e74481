// Searching a plan and exporting a training recipe in Restricted Mode (an untrusted folder): both
// are allowed there (docs/editors.md says why: the search only runs the model's graph in
// onnxruntime, the export only writes text files), unlike code generation.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { suite, suiteSetup, test } from 'mocha';
import * as vscode from 'vscode';

suite('Search and export in Restricted Mode', () => {
  const model = () => vscode.Uri.joinPath(vscode.workspace.workspaceFolders![0].uri, 'fashion-cnn.onnx');

  suiteSetup(async () => {
    assert.equal(vscode.workspace.isTrusted, false);
    await vscode.extensions.getExtension('prunemap.prunemap')!.activate();
  });

  test('Search Pruning Plan… runs', async () => {
    const result = await vscode.commands.executeCommand<{ search: { speedup: number } } | undefined>(
      'prunemap.searchPlan', model(), { speedup: 1.1, effort: { population: 2, generations: 1, calibrationSamples: 16 } });
    assert.ok(result, 'the search ran');
    assert.ok(result.search.speedup >= 1.1);
  });

  test('Export Training Recipe… writes its files', async () => {
    const folder = vscode.Uri.joinPath(model(), '..', 'restricted-recipe');
    const report = await vscode.commands.executeCommand<{ files: string[] } | undefined>('prunemap.exportTrainingRecipe', model(), 'torch-ao', folder);
    assert.ok(report, 'the export ran');
    for (const f of report.files) assert.equal(path.dirname(f), folder.fsPath);
    const config = JSON.parse(fs.readFileSync(report.files.find((f) => f.endsWith('.json'))!, 'utf8'));
    assert.ok(config.sparse_config.length + config.conv_config.length > 0);
  });
});
