// What a new user does with PruneMap in a real VS Code (code-server + headless chromium, see
// docs/testing.md): the packaged extension (prunemap.vsix) is installed with code-server's
// --install-extension, a fresh workspace holds copies of torchvision's SqueezeNet 1.1 (not in the
// repository) and the sample model, and the test clicks through the overview, an override, the text
// view (hover, inlay hints, code lenses) and "Prune Model…", checking what is on screen against the
// CLI (`prunemap inspect --json`, `prunemap map --json`) and the pruned file against onnxruntime.
//
//   npm run --silent package && node --import tsx --test test/ui/prunemap-workbench.test.ts
//
// prunemap.vsix is packaged by the test itself when it is missing or older than dist/ (so build
// first when the sources changed: `npm run package` does both). Screenshots go to
// test/ui/screenshots/vscode-{overview,hover,prune}.png; with PRUNEMAP_UPDATE_DOC_IMAGES=1 they are
// also copied to docs/images/ (used by the README).

import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import type { FrameLocator, Locator, Page } from 'playwright-core';
import { REPO_ROOT, openWorkbench, screenshot, type Workbench } from '../../scripts/vscode-test';

const VSIX = join(REPO_ROOT, 'prunemap.vsix');
const MODEL = join(REPO_ROOT, 'test/corpora/torchvision/squeezenet1_1.onnx');
const SAMPLE = join(REPO_ROOT, 'samples/fashion-cnn.onnx');
const PYTHON = join(REPO_ROOT, '.venv-ref/bin/python');
const DOC_IMAGES = join(REPO_ROOT, 'docs/images');

interface InspectLayer { id: string; line: number }
interface MapResult { target: string; summary: { denseMs: number; prunedMs: number }; layers: Record<string, { scheme: string }> }

let workbench: Workbench;
let page: Page;
let workspace: string;
let layers: InspectLayer[];
let plan: MapResult;
let failures = 0;

/** The CLI of this checkout, for what the screen should show. */
function cli<T>(...args: string[]): T {
  return JSON.parse(execFileSync(process.execPath, [join(REPO_ROOT, 'dist/cli.js'), ...args, '--json'], { encoding: 'utf8', maxBuffer: 64 << 20 })) as T;
}

/** Packages prunemap.vsix unless it is newer than everything in dist/. */
function ensureVsix(): void {
  const newest = (dir: string): number =>
    Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs)));
  if (existsSync(VSIX) && statSync(VSIX).mtimeMs >= newest(join(REPO_ROOT, 'dist'))) return;
  console.log('[prunemap-workbench] packaging prunemap.vsix (npm run package)');
  execFileSync('npm', ['run', '--silent', 'package'], { cwd: REPO_ROOT, stdio: 'inherit' });
}

/** Saves test/ui/screenshots/<name>.png, and docs/images/<name>.png when asked to. */
async function shoot(name: string): Promise<void> {
  const file = await screenshot(page, name);
  if (process.env.PRUNEMAP_UPDATE_DOC_IMAGES === '1') {
    mkdirSync(DOC_IMAGES, { recursive: true });
    copyFileSync(file, join(DOC_IMAGES, `${name}.png`));
  }
}

/** The overview's content: VS Code puts a webview in an iframe that holds the page's own iframe. */
function overview(): FrameLocator {
  return page.frameLocator('iframe.webview').frameLocator('iframe#active-frame');
}

/** F1, type the command's title, wait for its entry, Enter (runs the best match: the title given). */
async function runCommand(title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor();
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor();
  await input.press('Enter');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
}

/**
 * Waits until the workbench knows the installed extension's contributions (its commands are in the
 * palette): an .onnx clicked earlier would open in the text editor, before the overview editor exists.
 */
async function waitForExtension(): Promise<void> {
  const input = page.locator('.quick-input-widget .quick-input-box input');
  const entry = page.locator('.quick-input-list .monaco-list-row', { hasText: 'PruneMap: Show Output' });
  // The palette lists the commands known when it opened: look again until the extension's are there.
  for (;;) {
    await page.keyboard.press('F1');
    await input.fill('>PruneMap: Show Output');
    const found = await entry.waitFor({ timeout: 2000 }).then(() => true, () => false); // a poll, not a limit
    await input.press('Escape');
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
    if (found) return;
  }
}

/** Ctrl+G in the active editor: the line is revealed in the middle of the editor. */
async function goToLine(line: number): Promise<void> {
  await page.keyboard.press('Control+G');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.fill(`:${line}`);
  await input.press('Enter');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
}

/** The editor line that contains `text` (only lines on screen are in the DOM). */
function editorLine(text: string): Locator {
  return page.locator('.editor-instance .view-lines .view-line', { hasText: text }).first();
}

/** Moves the mouse onto `text` in its editor line, coming from below so that it is a fresh hover. */
async function hoverText(text: string): Promise<Locator> {
  const token = editorLine(text).locator('span span', { hasText: text }).first();
  await token.waitFor();
  const box = (await token.boundingBox())!;
  const point = { x: box.x + Math.min(box.width / 2, 40), y: box.y + box.height / 2 };
  await page.mouse.move(point.x, point.y + 120);
  await page.mouse.move(point.x, point.y, { steps: 5 });
  const hover = page.locator('.monaco-hover-content').filter({ hasText: 'ms' }).first();
  await hover.waitFor();
  return hover;
}

/** A row of the overview's layer table. */
function row(layer: string): Locator {
  return overview().locator(`.layer-rows > .layer-row[data-layer="${layer}"]`);
}

async function cellValue(layer: string, column: string): Promise<number> {
  return Number(await row(layer).locator(`.col-${column}`).getAttribute('data-value'));
}

before(async () => {
  ensureVsix();
  layers = cli<{ layers: InspectLayer[] }>('inspect', MODEL).layers;
  plan = cli<MapResult>('map', MODEL);
  workspace = mkdtempSync(join(tmpdir(), 'prunemap-ui-'));
  for (const model of [MODEL, SAMPLE]) copyFileSync(model, join(workspace, basename(model)));
  workbench = await openWorkbench({ vsix: VSIX, folder: workspace });
  page = workbench.page;
  // Playwright's waits have no limit (the harness's safety timeout ends a hung run); when debugging
  // a test, PRUNEMAP_UI_WAIT_MS makes a wait that never succeeds fail fast instead.
  if (process.env.PRUNEMAP_UI_WAIT_MS) page.setDefaultTimeout(Number(process.env.PRUNEMAP_UI_WAIT_MS));
  // Large enough for the overview's chart, details and table, small enough to read in the README.
  await page.setViewportSize({ width: 1400, height: 900 });
  await waitForExtension();
});

afterEach(async (t) => {
  // What the screen showed when a test failed: test/ui/screenshots/vscode-failed-<n>.png.
  if (page && 'passed' in t && t.passed === false) console.log(`[prunemap-workbench] screen at the failure: ${await screenshot(page, `vscode-failed-${++failures}`)}`);
});

after(async () => {
  await workbench?.close();
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

describe('PruneMap in VS Code, as a new user', () => {
  test('clicking the .onnx in the explorer opens the overview: one row per prunable layer, the latency, the chart', async () => {
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'squeezenet1_1.onnx' }).click();
    await page.locator('.tabs-container .tab.active', { hasText: 'squeezenet1_1.onnx' }).waitFor();
    const o = overview();
    await o.locator('h1.file-name', { hasText: 'squeezenet1_1.onnx' }).waitFor();
    await o.locator('.layer-rows > .layer-row').first().waitFor();

    const ids = await o.locator('.layer-rows > .layer-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-layer')));
    assert.deepEqual(ids, layers.map((l) => l.id), 'the table lists the layers of `prunemap inspect --json`, in model order');
    assert.equal(await o.locator('.layer-count').textContent(), `${layers.length} prunable layers`);
    for (const l of layers.slice(0, 5)) {
      assert.equal(await row(l.id).locator('.col-scheme .scheme-chip').textContent(), plan.layers[l.id]!.scheme, `scheme of ${l.id}`);
    }

    const dense = o.locator('.summary [data-metric="denseMs"]');
    const pruned = o.locator('.summary [data-metric="prunedMs"]');
    assert.equal(Number(await dense.getAttribute('data-value')), plan.summary.denseMs, 'dense latency as `prunemap map --json`');
    assert.equal(Number(await pruned.getAttribute('data-value')), plan.summary.prunedMs, 'pruned latency as `prunemap map --json`');
    assert.match((await o.locator('.summary .metric', { hasText: 'Latency' }).innerText()).replace(/\s+/g, ' '), /[\d.]+ ms\s*→\s*[\d.]+ ms/);

    assert.equal(await o.locator('.chart svg g.bar-group').count(), layers.length, 'a pair of bars per layer');
    const heights = await o.locator('.chart svg rect.bar.dense').evaluateAll((bars) => bars.map((b) => Number(b.getAttribute('height'))));
    assert.ok(heights.some((h) => h > 0), 'the dense bars have a height');
  });

  test('an override in the overview re-plans the layer: the row shows the new scheme, rate and latency', async () => {
    const o = overview();
    // A layer the rule-based plan prunes, changed to another scheme it accepts.
    const layer = layers.find((l) => plan.layers[l.id]!.scheme !== 'dense')!.id;
    const before = { scheme: plan.layers[layer]!.scheme, prunedMs: await cellValue(layer, 'prunedMs'), total: Number(await o.locator('.summary [data-metric="prunedMs"]').getAttribute('data-value')) };
    await row(layer).click();
    await o.locator('.details-title', { hasText: layer }).waitFor();
    const offered = await o.locator('#override-scheme vscode-option').evaluateAll((opts) => opts.map((opt) => opt.getAttribute('value')));
    const scheme = ['unstructured', 'nm', 'pattern', 'block-punched', 'block-bcr'].find((s) => s !== before.scheme && s !== 'nm' && offered.includes(s))!;
    assert.ok(scheme, `another scheme for ${layer} among ${offered.join(', ')}`);

    await o.locator('#override-scheme').click();
    await o.locator('#override-scheme').getByRole('option', { name: scheme, exact: true }).click();
    await o.locator('#override-rate input').fill('0.9');
    await o.locator('#override-apply').click();

    await row(layer).locator('.col-scheme .scheme-chip', { hasText: scheme }).waitFor();
    await row(layer).locator('.col-rate[data-value="0.9"]').waitFor();
    assert.equal(await cellValue(layer, 'rate'), 0.9);
    assert.notEqual(await cellValue(layer, 'prunedMs'), before.prunedMs, 'the layer\'s pruned latency is re-estimated');
    assert.notEqual(Number(await o.locator('.summary [data-metric="prunedMs"]').getAttribute('data-value')), before.total, 'the model\'s pruned latency follows');
    assert.equal(await o.locator('#override-error').textContent(), '');
    // The overview with a layer selected: the summary, the chart, the layer's details and the table.
    await shoot('vscode-overview');
  });

  test('the text view from the palette: a hover with the latency, inlay hints and code lenses on layer lines', async () => {
    await runCommand('PruneMap: Open Text View');
    await page.locator('.tabs-container .tab.active', { hasText: 'squeezenet1_1.onnx-text' }).waitFor();
    // The layer lines are long and the inlay hints sit at their ends: wrap them, and give the editor
    // the sidebar's width, so that the hints are on screen as a reader would arrange it.
    const lens = page.locator('.codelens-decoration', { hasText: 'Prune model…' }).first();
    await lens.waitFor();
    assert.match(await lens.innerText(), /Prune model… \([\d.]+ → [\d.]+ ms on /);
    await runCommand('View: Toggle Word Wrap');
    await runCommand('View: Toggle Primary Side Bar Visibility');
    const layer = layers[4]!;
    await goToLine(layer.line);
    await editorLine(layer.id).waitFor();

    await page.locator('.codelens-decoration', { hasText: 'Why this scheme?' }).filter({ visible: true }).first().waitFor();
    // Inlay hints are decorations (dyn-rule classes) after the line's text: "scheme · rate · speedup"
    // (with non-breaking spaces).
    const hints = page.locator('.editor-instance .view-line span[class*="dyn-rule"]', { hasText: /·\s[\d.]+%\s·\s[\d.]+×|dense\s·\s/ }).filter({ visible: true });
    await hints.first().waitFor();
    assert.ok((await hints.count()) >= 2, 'inlay hints on the layer lines on screen');

    const hover = await hoverText(layer.id);
    const text = (await hover.innerText()).replace(/\s+/g, ' ');
    assert.match(text, /Latency on snapdragon855-cpu \(modelled\): dense [\d.]+ ms → pruned [\d.]+ ms/, `the hover gives the latency dense → pruned: ${text}`);
    await shoot('vscode-hover');
    await page.mouse.move(700, 880);
    await page.keyboard.press('Escape');
    await runCommand('View: Toggle Primary Side Bar Visibility');
  });

  test('"PruneMap: Prune Model…" from the palette writes a model that onnxruntime loads and runs', async () => {
    await runCommand('PruneMap: Prune Model…');
    // code-server's save dialog is a quick input prefilled with the proposed path: accept it.
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor();
    // It fills in the folder first, then the proposed name.
    await page.waitForFunction("document.querySelector('.quick-input-widget .quick-input-box input')?.value.endsWith('.onnx')");
    const proposed = await input.inputValue();
    assert.match(proposed, /squeezenet1_1\.pruned\.onnx$/, `proposed output: ${proposed}`);
    await input.press('Enter');

    const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'Pruned model written' });
    await toast.waitFor();
    // The progress notification (with its Cancel button) is gone once the model is written.
    await page.locator('.notifications-toasts .notification-toast', { hasText: 'Pruning squeezenet1_1.onnx' }).waitFor({ state: 'hidden' });
    assert.match(await toast.innerText(), /squeezenet1_1\.pruned\.onnx/);
    await shoot('vscode-prune');

    const output = join(workspace, 'squeezenet1_1.pruned.onnx');
    assert.ok(existsSync(output), `${output} exists`);
    const result = execFileSync(PYTHON, ['-c', [
      'import sys, numpy as np, onnxruntime as ort',
      's = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])',
      'i = s.get_inputs()[0]',
      'x = np.random.default_rng(0).random([d if isinstance(d, int) else 1 for d in i.shape], dtype=np.float32)',
      'y = s.run(None, {i.name: x})[0]',
      'print(y.shape, bool(np.isfinite(y).all()))',
    ].join('\n'), output], { encoding: 'utf8' }).trim();
    assert.equal(result, '(1, 1000) True', 'onnxruntime runs the pruned model');
  });
});
