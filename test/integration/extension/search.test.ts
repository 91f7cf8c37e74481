// "Search Pruning Plan…", "Save Searched Plan As…" and "Export Training Recipe…" inside a real VS Code
// extension host (code-server), run with arguments that skip the quick picks and dialogs: the
// search meets the requested speedup, its rule side is the CLI's `map --json`, the overview opens
// on the model, the saved plan file holds the searched plan, and the recipes' files are written
// for the current plan (Python compiles the script). Expected values come from the CLI and Python.

import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { suite, suiteSetup, test } from 'mocha';
import * as vscode from 'vscode';
import { PYTHON, workspaceFile, cli, until } from './workspace';


interface Api { backend: { client: { sendRequest(method: string, params: unknown): Promise<any> } } }




suite('Search Pruning Plan and Export Training Recipe', () => {
  let api: Api;
  const model = () => workspaceFile('fashion-cnn.onnx');
  let comparison: any;

  suiteSetup(async () => {
    const extension = vscode.extensions.getExtension<Api>('prunemap.prunemap');
    assert.ok(extension);
    api = await extension.activate();
    // Another suite may just have restarted the backend.
    await until('the backend', () => api.backend.client.sendRequest('prunemap/analyze', { uri: model().toString() }));
  });

  test('Search Pruning Plan… reaches the speedup and opens the overview beside the rule-based plan', async () => {
    // A small effort: the test checks the flow, not the search's quality.
    comparison = await vscode.commands.executeCommand('prunemap.searchPlan', model(), { speedup: 1.2, seed: 1, effort: { population: 4, generations: 2, calibrationSamples: 64 } });
    assert.ok(comparison, 'the command returned the comparison');
    assert.ok(comparison.search.speedup >= 1.2, `searched: ${comparison.search.speedup}×`);
    const map = JSON.parse(cli('map', model().fsPath, '--json', '--target', comparison.target));
    assert.deepEqual(comparison.layers.map((l: any) => [l.id, l.rules.scheme, l.rules.rate]), Object.entries(map.layers).map(([id, e]: [string, any]) => [id, e.scheme, e.rate]));
    assert.equal(comparison.rules.speedup, map.summary.speedup);
    const tab = await until('the overview', async () => {
      const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
      return input instanceof vscode.TabInputCustom && input.viewType === 'prunemap.overview' && input.uri.fsPath === model().fsPath ? input : undefined;
    });
    assert.equal(tab.uri.fsPath, model().fsPath);
    // The overview asks the server for the same comparison.
    assert.deepEqual(await api.backend.client.sendRequest('prunemap/searchResult', { uri: model().toString() }), comparison);
  });

  test('Save Searched Plan As… adopts the searched plan and writes it as a plan file', async () => {
    const output = workspaceFile('out/searched.prune.json');
    fs.mkdirSync(path.dirname(output.fsPath), { recursive: true });
    await vscode.commands.executeCommand('prunemap.saveSearchPlan', model(), output);
    const saved = JSON.parse(fs.readFileSync(output.fsPath, 'utf8'));
    assert.deepEqual(Object.entries(saved.layers).map(([id, e]: [string, any]) => [id, e.scheme, e.rate]), comparison.layers.map((l: any) => [l.id, l.search.scheme, l.search.rate]));
    // The CLI accepts the file as a plan for the model.
    const pruned = workspaceFile('out/searched.onnx');
    cli('prune', model().fsPath, '--plan', output.fsPath, '-o', pruned.fsPath);
    assert.ok(fs.statSync(pruned.fsPath).size > 0);
    const { plan } = await api.backend.client.sendRequest('prunemap/analyze', { uri: model().toString() });
    for (const l of comparison.layers) assert.equal(plan.layers[l.id].scheme, l.search.scheme, l.id);
  });

  test('Export Training Recipe… writes each format for the current plan', async () => {
    const { plan } = await api.backend.client.sendRequest('prunemap/analyze', { uri: model().toString() });
    const pruned = Object.values(plan.layers).filter((e: any) => e.scheme !== 'dense').length;
    const nni = workspaceFile('out/nni');
    const report = await vscode.commands.executeCommand<any>('prunemap.exportTrainingRecipe', model(), 'nni', nni);
    assert.deepEqual(report.files.map((f: string) => path.basename(f)).sort(), ['config_list.json', 'nni_config.py']);
    assert.equal(JSON.parse(fs.readFileSync(path.join(nni.fsPath, 'config_list.json'), 'utf8')).length, pruned);

    const ao = workspaceFile('out/torch-ao');
    const aoReport = await vscode.commands.executeCommand<any>('prunemap.exportTrainingRecipe', model(), 'torch-ao', ao);
    // Linear layers in sparse_config (WeightNormSparsifier takes 2-D weights), Conv layers in conv_config.
    const aoConfig = JSON.parse(fs.readFileSync(aoReport.files.find((f: string) => f.endsWith('.json')), 'utf8'));
    assert.equal(aoConfig.sparse_config.length + aoConfig.conv_config.length, pruned);

    const torch = workspaceFile('out/pytorch');
    const torchReport = await vscode.commands.executeCommand<any>('prunemap.exportTrainingRecipe', model(), 'pytorch', torch);
    const script = torchReport.files.find((f: string) => f.endsWith('.py'));
    assert.ok(script);
    execFileSync(PYTHON, ['-m', 'py_compile', script]);
  });
});
