// PruneMap in Restricted Mode (an untrusted folder): viewing and mapping work — the backend starts,
// the text view opens, the plan is computed. (VS Code itself keeps tasks from running there; asking
// for them opens the trust dialog, which a test cannot answer, so that is not exercised here.)

import * as assert from 'node:assert/strict';
import { suite, test } from 'mocha';
import * as vscode from 'vscode';

interface Api { backend: { client: { sendRequest(method: string, params: unknown): Promise<any> } } }

suite('PruneMap in Restricted Mode', () => {
  const model = () => vscode.Uri.joinPath(vscode.workspace.workspaceFolders![0].uri, 'fashion-cnn.onnx');

  test('the folder is not trusted', () => {
    assert.equal(vscode.workspace.isTrusted, false);
  });

  test('the extension activates and maps the model', async () => {
    const api = await vscode.extensions.getExtension<Api>('prunemap.prunemap')!.activate();
    const analysis = await api.backend.client.sendRequest('prunemap/analyze', { uri: model().toString() });
    assert.ok(analysis.summary.layers.length > 0);
    assert.ok(analysis.plan.totals.compression > 1, 'the rule-based plan prunes');
  });

  test('the text view opens with the model in ONNX text syntax', async () => {
    await vscode.commands.executeCommand('prunemap.openTextView', model());
    const document = vscode.window.activeTextEditor?.document;
    assert.equal(document?.languageId, 'onnx-text');
    assert.match(document!.getText(), /^<\n/);
  });
});
