// The extension manifest (package.json) against what the code and the engine really have: the
// custom editor, language, grammar, commands (each one implemented), settings (each one read by
// the server), tasks, plan file validation and trust; and what `vsce ls` would ship.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '../..');
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const contributes = manifest.contributes;
const read = (file: string) => fs.readFileSync(path.join(root, file), 'utf8');

test('a click on an .onnx file opens the overview (custom editor, priority default)', () => {
  assert.deepEqual(contributes.customEditors, [{
    viewType: 'prunemap.overview', displayName: 'PruneMap Overview', selector: [{ filenamePattern: '*.onnx' }], priority: 'default',
  }]);
  assert.match(read('src/extension/active-model.ts'), /OVERVIEW_VIEW_TYPE = 'prunemap\.overview'/);
  assert.equal(manifest.main, './dist/extension.js');
});

test('the text view language: onnx-text, files *.onnx-text, grammar and language configuration exist', () => {
  const language = contributes.languages.find((l: { id: string }) => l.id === 'onnx-text');
  assert.deepEqual(language.extensions, ['.onnx-text']);
  assert.ok(fs.existsSync(path.join(root, language.configuration)));
  const grammar = contributes.grammars.find((g: { language: string }) => g.language === 'onnx-text');
  assert.ok(fs.existsSync(path.join(root, grammar.path)));
  assert.match(read('src/protocol/constants.ts'), /TEXT_VIEW_LANGUAGE = 'onnx-text'/);
});

test('every contributed command is in category PruneMap and implemented in the command table, and vice versa', () => {
  const ids: string[] = contributes.commands.map((c: { command: string }) => c.command);
  for (const c of contributes.commands) assert.equal(c.category, 'PruneMap', c.command);
  const table = read('src/extension/commands.ts');
  const constants = read('src/protocol/constants.ts');
  const implemented = new Set([...table.matchAll(/^ {2}'(prunemap\.[A-Za-z]+)'/gm)].map((m) => m[1]));
  for (const m of table.matchAll(/^ {2}\[Commands\.(\w+)\]/gm)) implemented.add(new RegExp(`${m[1]} = '([^']+)'`).exec(constants)![1]);
  assert.deepEqual([...implemented].sort(), [...ids].sort());
  for (const title of ['Open Text View', 'Map Pruning Schemes', 'Prune Model…', 'Select Target Device', 'Set Target Compression', 'Open Plan', 'Show Output', 'Restart Backend']) {
    assert.ok(contributes.commands.some((c: { title: string }) => c.title === title), title);
  }
  // Model commands are offered in the palette only where a model is in front; code-lens commands never.
  const when = Object.fromEntries(contributes.menus.commandPalette.map((m: { command: string; when: string }) => [m.command, m.when]));
  assert.equal(when['prunemap.explainLayer'], 'false');
  assert.match(when['prunemap.pruneModel'], /prunemap\.modelActive/);
  // Generated code is compiled and run: never offered in an untrusted workspace (Restricted Mode).
  assert.match(when['prunemap.generateCode'], /^isWorkspaceTrusted && /);
  for (const menu of Object.values<{ command: string; when?: string }[]>(contributes.menus)) {
    for (const item of menu.filter((m) => m.command === 'prunemap.generateCode')) assert.match(item.when ?? '', /^isWorkspaceTrusted && /);
  }
});

test('settings: the target list is exactly the device profiles, and every setting is one the server reads', () => {
  const properties = contributes.configuration.properties;
  const profiles = fs.readdirSync(path.join(root, 'src/core/latency/profiles')).map((f) => JSON.parse(read(`src/core/latency/profiles/${f}`)));
  assert.deepEqual([...properties['prunemap.target'].enum].sort(), profiles.map((p) => p.id).sort());
  assert.equal(properties['prunemap.target'].enumDescriptions.length, profiles.length);
  const settingsType = /interface PruneMapSettings \{([^}]*)\}/.exec(read('src/protocol/constants.ts'))![1];
  const serverKeys = [...settingsType.matchAll(/^\s*(\w+)\?:/gm)].map((m) => `prunemap.${m[1]}`);
  assert.deepEqual(Object.keys(properties).sort(), serverKeys.sort());
});

test('tasks, plan file validation and workspace trust are declared', () => {
  assert.deepEqual(contributes.taskDefinitions[0].required, ['command', 'model']);
  assert.equal(contributes.taskDefinitions[0].type, 'prunemap');
  assert.deepEqual(contributes.jsonValidation, [{ fileMatch: '*.prune.json', url: './schemas/prune-plan.schema.json' }]);
  assert.ok(fs.existsSync(path.join(root, 'schemas/prune-plan.schema.json')));
  assert.equal(manifest.capabilities.untrustedWorkspaces.supported, 'limited');
  assert.match(manifest.capabilities.untrustedWorkspaces.description, /trusted workspace/);
});

test('the VSIX ships the bundles, grammar, schema and onnxruntime for linux-x64 only, and no sources, tests or node_modules', () => {
  const files = execFileSync(path.join(root, 'node_modules/.bin/vsce'), ['ls', '--no-dependencies'], { cwd: root, encoding: 'utf8' }).trim().split('\n');
  for (const needed of ['package.json', 'dist/extension.js', 'dist/server.js', 'dist/cli.js', 'dist/webview/overview.js', 'dist/webview/overview.css', 'syntaxes/onnx-text.tmLanguage.json', 'schemas/prune-plan.schema.json']) {
    assert.ok(files.includes(needed), `${needed} is not in the VSIX`);
  }
  // onnxruntime-node is the one unbundled dependency (native): the build vendors it into dist/.
  const ort = 'dist/node_modules/onnxruntime-node/';
  for (const needed of [`${ort}package.json`, `${ort}dist/index.js`, `${ort}bin/napi-v6/linux/x64/onnxruntime_binding.node`, 'dist/node_modules/onnxruntime-common/dist/cjs/index.js']) {
    assert.ok(files.includes(needed), `${needed} is not in the VSIX`);
  }
  const otherPlatforms = files.filter((f) => f.startsWith(`${ort}bin/`) && !f.startsWith(`${ort}bin/napi-v6/linux/x64/`));
  assert.deepEqual(otherPlatforms, [], 'only linux-x64 binaries ship (the VSIX is packaged with --target linux-x64)');
  assert.match(manifest.scripts.package, /--target linux-x64/);
  const unwanted = files.filter((f) => /^(src|test|scripts|bench|webview|samples|node_modules)\/|^docs\/(?!images\/)|\.ts$|\.map$/.test(f));
  // The README's screenshots are linked relatively: they ship so that the Extensions view shows them.
  for (const image of fs.readdirSync(path.join(root, 'docs/images'))) assert.ok(files.includes(`docs/images/${image}`), image);
  assert.deepEqual(unwanted, []);
});
