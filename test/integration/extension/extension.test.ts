// PruneMap inside a real VS Code extension host (code-server): activation, the overview custom
// editor on a real model, the text view's hovers, inlay hints, code lenses and symbols through
// VS Code's own execute*Provider commands, an override changing the plan, the prune command writing
// a model onnxruntime runs, the task type, settings reaching the server, and the backend coming back
// after being killed. Expected values come from the CLI (`inspect --json`, `text`), which the unit
// and corpus tests check against Python's onnx, and from onnxruntime in the reference venv.

import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { suite, suiteSetup, test } from 'mocha';
import * as vscode from 'vscode';
import { PYTHON, workspaceFile, cli, until } from './workspace';

const EXTENSION_ID = 'prunemap.prunemap';

interface InspectLayer { id: string; line: number }
interface Api { backend: { client: { sendRequest(method: string, params: unknown): Promise<any> } } }



function inspectLayers(model: vscode.Uri): InspectLayer[] {
  return JSON.parse(cli('inspect', model.fsPath, '--json')).layers;
}


function hoverText(hovers: vscode.Hover[]): string {
  return hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
}

function flatten(symbols: vscode.DocumentSymbol[]): vscode.DocumentSymbol[] {
  return symbols.flatMap((s) => [s, ...flatten(s.children)]);
}

suite('PruneMap in VS Code', () => {
  let api: Api;
  const model = () => workspaceFile('squeezenet1_1.onnx');

  suiteSetup(async () => {
    const extension = vscode.extensions.getExtension<Api>(EXTENSION_ID);
    assert.ok(extension, `${EXTENSION_ID} is loaded from extensionDevelopmentPath`);
    api = await extension.activate();
  });

  test('activates and its backend answers', async () => {
    const analysis = await api.backend.client.sendRequest('prunemap/analyze', { uri: model().toString() });
    assert.equal(analysis.summary.layers.length, inspectLayers(model()).length);
  });

  test('opening an .onnx file shows the overview custom editor', async () => {
    await vscode.commands.executeCommand('vscode.open', model());
    const tab = await until('the overview tab', async () => {
      const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
      return input instanceof vscode.TabInputCustom && input.viewType === 'prunemap.overview' ? input : undefined;
    });
    assert.equal(tab.uri.fsPath, model().fsPath);
  });

  suite('the text view', () => {
    let document: vscode.TextDocument;
    let layers: InspectLayer[];

    suiteSetup(async () => {
      await vscode.commands.executeCommand('prunemap.openTextView', model());
      const editor = await until('the text view', async () => (vscode.window.activeTextEditor?.document.uri.scheme === 'prunemap-text' ? vscode.window.activeTextEditor : undefined));
      document = editor.document;
      layers = inspectLayers(model());
    });

    test('is a read-only onnx-text document with the model in ONNX text syntax', () => {
      assert.equal(document.languageId, 'onnx-text');
      assert.equal(document.getText(), cli('text', model().fsPath));
    });

    test('every prunable layer has an inlay hint on its line', async () => {
      const range = new vscode.Range(0, 0, document.lineCount, 0);
      const hints = await until('inlay hints', async () => {
        const h = await vscode.commands.executeCommand<vscode.InlayHint[]>('vscode.executeInlayHintProvider', document.uri, range);
        return h.length ? h : undefined;
      });
      const hinted = new Set(hints.map((h) => h.position.line));
      for (const l of layers) assert.ok(hinted.has(l.line - 1), `no inlay hint on the line of ${l.id}`);
    });

    test('hovering a layer shows its latency dense → pruned on the target', async () => {
      for (const l of layers.slice(0, 5)) {
        const line = document.lineAt(l.line - 1);
        const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', document.uri, new vscode.Position(line.lineNumber, line.firstNonWhitespaceCharacterIndex + 1));
        const text = hoverText(hovers);
        assert.match(text, /ms/, `hover of ${l.id}: ${text}`);
        assert.match(text, /→/, `hover of ${l.id} has no dense → pruned latency: ${text}`);
      }
    });

    test('code lenses offer Prune model…, Why this scheme? and Change scheme…', async () => {
      const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', document.uri, 100);
      const titles = lenses.map((l) => l.command?.title ?? '');
      for (const title of ['Prune model…', 'Why this scheme?', 'Change scheme…']) assert.ok(titles.some((t) => t.startsWith(title)), `missing code lens ${title}: ${titles.join(', ')}`);
      assert.ok(titles.some((t) => /^Prune model… \([0-9.]+ → [0-9.]+ ms on /.test(t)), 'the prune lens gives the model\'s latency dense → pruned');
    });

    test('the outline lists every layer', async () => {
      const symbols = await vscode.commands.executeCommand<vscode.DocumentSymbol[]>('vscode.executeDocumentSymbolProvider', document.uri);
      const names = new Set(flatten(symbols).map((s) => s.name));
      for (const l of layers) assert.ok(names.has(l.id), `the outline lacks ${l.id}`);
    });

    test('an override changes the plan and the layer\'s inlay hint', async () => {
      const layer = layers[1];
      const hintOn = async () => {
        const hints = await vscode.commands.executeCommand<vscode.InlayHint[]>('vscode.executeInlayHintProvider', document.uri, new vscode.Range(layer.line - 1, 0, layer.line, 0));
        return hints.map((h) => (typeof h.label === 'string' ? h.label : h.label.map((p) => p.value).join(''))).join(' ');
      };
      await api.backend.client.sendRequest('prunemap/setLayer', { uri: model().toString(), layer: layer.id, scheme: 'unstructured', rate: 0.5 });
      const analysis = await api.backend.client.sendRequest('prunemap/analyze', { uri: model().toString() });
      assert.equal(analysis.plan.layers[layer.id].scheme, 'unstructured');
      assert.equal(analysis.plan.layers[layer.id].rate, 0.5);
      assert.match(await until('the new hint', async () => ((await hintOn()).includes('unstructured') ? hintOn() : undefined)), /50(\.0)?%/);
    });
  });

  suite('commands, tasks, settings and the backend', () => {
    test('the prune command writes a pruned model that onnxruntime runs', async () => {
      const output = workspaceFile('out/squeezenet1_1.pruned.onnx');
      const report = await vscode.commands.executeCommand<{ output: string; totals: { rate: number } }>('prunemap.pruneModel', model(), output);
      assert.equal(report.output, output.fsPath);
      assert.ok(report.totals.rate > 0);
      const check = execFileSync(PYTHON, ['-c', [
        'import sys, numpy as np, onnx, onnxruntime as ort',
        'onnx.checker.check_model(onnx.load(sys.argv[1]))',
        's = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])',
        'i = s.get_inputs()[0]',
        'shape = [d if isinstance(d, int) else 1 for d in i.shape]',
        'print(s.run(None, {i.name: np.zeros(shape, np.float32)})[0].shape)',
      ].join('\n'), output.fsPath], { encoding: 'utf8' });
      assert.match(check, /\(1, 1000\)/);
    });

    test('a prunemap task from tasks.json runs the CLI and writes its output', async () => {
      // The runner's workspace has .vscode/tasks.json with the task "prune sample" (fashion-cnn.onnx → out/task.pruned.onnx).
      const output = workspaceFile('out/task.pruned.onnx');
      const tasks = await vscode.tasks.fetchTasks({ type: 'prunemap' });
      assert.ok(tasks.some((t) => (t.definition as { model?: string }).model === 'squeezenet1_1.onnx'), 'a prune task is offered for each model');
      const task = tasks.find((t) => t.name === 'prune sample');
      assert.ok(task, `tasks.json's task is listed: ${tasks.map((t) => t.name).join(', ')}`);
      const ended = new Promise<number | undefined>((resolve) => {
        const listener = vscode.tasks.onDidEndTaskProcess((e) => {
          if (e.execution.task.name === 'prune sample') {
            listener.dispose();
            resolve(e.exitCode);
          }
        });
      });
      await vscode.tasks.executeTask(task);
      assert.equal(await ended, 0);
      assert.ok(fs.statSync(output.fsPath).size > 0);
    });

    test('Open Plan writes the plan next to the model when there is none, and opens it', async () => {
      await vscode.commands.executeCommand('prunemap.openPlan', model());
      const document = vscode.window.activeTextEditor?.document;
      assert.equal(document?.uri.fsPath, workspaceFile('squeezenet1_1.prune.json').fsPath);
      const plan = JSON.parse(fs.readFileSync(document!.uri.fsPath, 'utf8'));
      assert.deepEqual(Object.keys(plan.layers).sort(), inspectLayers(model()).map((l) => l.id).sort());
    });

    test('a settings change reaches the server', async () => {
      const config = vscode.workspace.getConfiguration('prunemap');
      await config.update('target', 'host-cpu', vscode.ConfigurationTarget.Workspace);
      try {
        const target = await until('the new target', async () => {
          const analysis = await api.backend.client.sendRequest('prunemap/analyze', { uri: model().toString() });
          return analysis.plan.target === 'host-cpu' ? analysis.plan.target : undefined;
        });
        assert.equal(target, 'host-cpu');
      } finally {
        await config.update('target', undefined, vscode.ConfigurationTarget.Workspace);
      }
    });

    test('the backend is restarted after it is killed', async () => {
      // The backend is a child of this extension host (other servers may run on the machine).
    const pids = () => {
      try {
        return execFileSync('pgrep', ['-P', String(process.pid), '-f', 'dist/server.js'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
      } catch {
        return []; // pgrep exits 1 when nothing matches
      }
    };
      const before = pids();
      assert.equal(before.length, 1, `one backend runs: ${before.join(', ')}`);
      process.kill(before[0], 'SIGKILL');
      const after = await until('a new backend', async () => {
        const now = pids();
        return now.length === 1 && now[0] !== before[0] ? now[0] : undefined;
      });
      assert.notEqual(after, before[0]);
      const analysis = await until('the new backend to answer', () => api.backend.client.sendRequest('prunemap/analyze', { uri: model().toString() }));
      assert.ok(analysis.summary.layers.length > 0);
    });
  });
});
