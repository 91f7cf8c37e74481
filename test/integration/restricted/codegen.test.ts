// "Generate Sparse Code…" in Restricted Mode (an untrusted folder): never compiles. The command,
// invoked anyway (the palette hides it there), writes nothing and returns nothing; the server itself
// refuses the request with the reason; the text view has no "Generate sparse code…" lens, while
// its other lenses are there.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { suite, suiteSetup, test } from 'mocha';
import * as vscode from 'vscode';

interface Api { backend: { client: { sendRequest(method: string, params: unknown): Promise<any> } } }

suite('Generate Sparse Code… in Restricted Mode', () => {
  let api: Api;
  const folder = () => vscode.workspace.workspaceFolders![0].uri;
  const model = () => vscode.Uri.joinPath(folder(), 'fashion-cnn.onnx');

  suiteSetup(async () => {
    api = await vscode.extensions.getExtension<Api>('prunemap.prunemap')!.activate();
  });

  test('the command, invoked anyway, writes nothing', async () => {
    assert.equal(vscode.workspace.isTrusted, false);
    const outputDir = vscode.Uri.joinPath(folder(), 'gen-restricted');
    const result = await vscode.commands.executeCommand('prunemap.generateCode', model(), { outputDir, verify: true });
    assert.equal(result, undefined);
    assert.equal(fs.existsSync(outputDir.fsPath), false);
    assert.equal(fs.existsSync(vscode.Uri.joinPath(folder(), 'fashion-cnn.codegen').fsPath), false);
  });

  test('the server refuses it: it was told the workspace is not trusted', async () => {
    await assert.rejects(
      api.backend.client.sendRequest('prunemap/codegen', { uri: model().toString(), verify: true }),
      (err: Error) => /^Generating sparse code needs a trusted workspace/.test(err.message),
    );
    assert.equal(fs.existsSync(vscode.Uri.joinPath(folder(), 'fashion-cnn.codegen').fsPath), false);
  });

  test('the text view has the prune lens but no "Generate sparse code…" lens', async () => {
    await vscode.commands.executeCommand('prunemap.openTextView', model());
    const document = vscode.window.activeTextEditor?.document;
    assert.equal(document?.uri.scheme, 'prunemap-text');
    let lenses: vscode.CodeLens[] = [];
    // Lenses arrive once the server has the document open: poll (the runner's safety timeout ends a hang).
    for (;;) {
      lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', document!.uri)) ?? [];
      if (lenses.some((l) => l.command?.title.startsWith('Prune model…'))) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.ok(!lenses.some((l) => l.command?.command === 'prunemap.generateCode'), lenses.map((l) => l.command?.title).join(' | '));
  });
});
