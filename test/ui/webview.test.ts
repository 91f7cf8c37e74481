// The overview webview in a real browser (Debian's Chromium through playwright-core): the page
// `overviewHtml` writes, with its CSP, running the bundle `npm run build` makes
// (dist/webview/overview.js). The expected values come from the CLI's JSON on a real model
// (webview-fixtures.ts), never from the page's own formatting.
//
// Not covered here: the real host. In VS Code the page runs in the webview iframe, which provides
// acquireVsCodeApi, the theme variables and the message channel; a plain browser has none of
// them, so webview-harness.ts stands in for all three. The extension's tests in code-server cover
// the real host.

import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import type { LayerRow, ModelView } from '../../src/protocol/webview';
import { largeView, ROOT, runCli, viewFromCli, type CliOutputs } from './webview-fixtures';
import { assertClean, launchChromium, openOverview, openOverviewShowing, serveOverview, type OverviewPage, type PageGlobals, type Served } from './webview-harness';
import { DARK_MODERN, LIGHT_MODERN } from './webview-themes';

const SCREENSHOTS = path.join(ROOT, 'test', 'ui', 'screenshots');

let served: Served;
let browser: Browser;
let cli: CliOutputs;
let view: ModelView;

before(async () => {
  cli = runCli('samples/fashion-cnn.onnx');
  view = viewFromCli(cli);
  served = await serveOverview();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await served?.close();
});

const openWith = (model: ModelView, options?: Parameters<typeof openOverviewShowing>[3]) => openOverviewShowing(browser, served.origin, model, options);


/** The table row of a layer; the id is quoted for CSS, as ids may hold anything. */
function rowOf(page: Page, id: string): Locator {
  const quoted = `"${id.replace(/[\\"]/g, '\\$&').replace(/\n/g, '\\a ')}"`;
  return page.locator(`.layer-rows > .layer-row[data-layer=${quoted}]`);
}

const rowIds = (o: OverviewPage) => o.page.locator('.layer-rows > .layer-row').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-layer')));
const lastPosted = async (o: OverviewPage) => (await o.posted()).at(-1);

/**
 * Reads a number as the page shows it ("4.64k", "1.81M", "0.0236 ms", "1.27×", "0.5556") — a
 * reader of the display convention, written separately from the page's formatter.
 */
function readShown(text: string): number {
  const m = /^\s*([\d.,]+)\s*([kMGT]?)\s*(ms|×)?\s*$/.exec(text);
  assert.ok(m, `not a number as shown: "${text}"`);
  const scale = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12 }[m[2] as '' | 'k' | 'M' | 'G' | 'T'];
  return Number(m[1]!.replace(/,/g, '')) * scale;
}

/** Shown to 3 significant digits (2 decimals for ×): within half a unit of the last digit. */
function assertShows(text: string, exact: number, what: string): void {
  const shown = readShown(text);
  const tolerance = text.endsWith('×') ? 0.005 : Math.abs(exact) * 0.005;
  assert.ok(Math.abs(shown - exact) <= tolerance + 1e-12, `${what}: shows "${text}", expected about ${exact}`);
}

async function pickOption(select: Locator, label: string): Promise<void> {
  await select.click();
  await select.getByRole('option', { name: label, exact: true }).click();
}

describe('overview webview (Chromium)', () => {
  test('summary and rows show the numbers of `inspect --json` and `map --json`', async () => {
    const o = await openWith(view);
    const { page } = o;
    assert.deepEqual((await o.posted())[0], { type: 'ready' });
    assert.equal(await page.locator('h1.file-name').textContent(), path.basename('samples/fashion-cnn.onnx'));

    const expectedSummary = {
      params: cli.inspect.totalParams,
      macs: cli.inspect.totalMacs,
      denseMs: cli.map.summary.denseMs,
      prunedMs: cli.map.summary.prunedMs,
      speedup: cli.map.summary.speedup,
      compression: cli.map.summary.compression,
    };
    for (const [metric, exact] of Object.entries(expectedSummary)) {
      const shown = page.locator(`.summary [data-metric="${metric}"]`);
      assert.equal(Number(await shown.getAttribute('data-value')), exact, metric);
      assertShows((await shown.textContent())!, exact, metric);
    }
    const targetName = cli.targets.find((t) => t.id === cli.map.target)!.name;
    assert.equal(await page.locator('.summary [data-metric="target"]').textContent(), targetName);

    assert.deepEqual(await rowIds(o), cli.inspect.layers.map((l) => l.id));
    for (const layer of cli.inspect.layers) {
      const planned = cli.map.layers[layer.id]!;
      const row = rowOf(page, layer.id);
      const cell = (column: string) => row.locator(`[role=cell].col-${column}`);
      assert.equal(await cell('layer').textContent(), layer.id);
      assert.equal(await cell('op').textContent(), layer.op);
      assert.deepEqual((await cell('input').textContent())!.split('×'), layer.inputShape!.map(String));
      assert.deepEqual((await cell('output').textContent())!.split('×'), layer.outputShape!.map(String));
      assert.deepEqual((await cell('weight').textContent())!.split('×'), layer.weightShape.map(String));
      assert.equal(await cell('scheme').textContent(), planned.scheme);
      // docs/cli.md: a block reads "8×4".
      assert.equal(await cell('block').textContent(), planned.block ? `${planned.block[0]}×${planned.block[1]}` : '');
      const numbers: [string, number][] = [
        ['macs', layer.macs],
        ['params', layer.params],
        ['rate', planned.rate],
        ['denseMs', planned.latency.denseMs],
        ['prunedMs', planned.latency.prunedMs],
        ['speedup', planned.latency.denseMs / planned.latency.prunedMs],
      ];
      for (const [column, exact] of numbers) {
        assert.ok(Math.abs(Number(await cell(column).getAttribute('data-value')) - exact) <= 1e-12 * exact, `${layer.id} ${column}`);
        assertShows((await cell(column).textContent())!, exact, `${layer.id} ${column}`);
      }
      assert.equal(await cell('reason').textContent(), planned.reason);
    }
    assert.equal(await page.locator('.row-count').textContent(), `${cli.inspect.layers.length} layers`);
    await assertClean(o);
    await o.close();
  });

  test('sorting by MACs orders the rows as a plain sort of the data; a third click restores file order', async () => {
    const o = await openWith(view);
    const header = o.page.locator('[role=columnheader].col-macs');
    const byMacs = (sign: number) => [...cli.inspect.layers].sort((a, b) => sign * (a.macs - b.macs)).map((l) => l.id);

    await header.locator('button').click();
    assert.equal(await header.getAttribute('aria-sort'), 'descending');
    assert.deepEqual(await rowIds(o), byMacs(-1));
    await header.locator('button').click();
    assert.equal(await header.getAttribute('aria-sort'), 'ascending');
    assert.deepEqual(await rowIds(o), byMacs(1));
    await header.locator('button').click();
    assert.equal(await header.getAttribute('aria-sort'), 'none');
    assert.deepEqual(await rowIds(o), cli.inspect.layers.map((l) => l.id));

    // A text column: A→Z first, ties in file order.
    await o.page.locator('[role=columnheader].col-scheme button').click();
    const byScheme = [...cli.inspect.layers].sort((a, b) => cli.map.layers[a.id]!.scheme.localeCompare(cli.map.layers[b.id]!.scheme)).map((l) => l.id);
    assert.deepEqual(await rowIds(o), byScheme);
    await assertClean(o);
    await o.close();
  });

  test('filters by text and by scheme', async () => {
    const o = await openWith(view);
    const { page } = o;
    await page.locator('#layer-filter input').fill('PW');
    const matching = cli.inspect.layers
      .filter((l) => [l.id, l.op, cli.map.layers[l.id]!.scheme, cli.map.layers[l.id]!.reason].some((s) => s.toLowerCase().includes('pw')))
      .map((l) => l.id);
    assert.ok(matching.length > 0 && matching.length < cli.inspect.layers.length);
    assert.deepEqual(await rowIds(o), matching);
    assert.equal(await page.locator('.row-count').textContent(), `${matching.length} of ${cli.inspect.layers.length} layers`);
    assert.equal(await page.locator('.chart g.bar-group').count(), matching.length, 'the chart shows the same layers');

    await page.locator('#layer-filter input').fill('');
    const patterns = cli.inspect.layers.filter((l) => cli.map.layers[l.id]!.scheme === 'pattern').map((l) => l.id);
    await pickOption(page.locator('#scheme-filter'), `pattern (${patterns.length})`);
    assert.deepEqual(await rowIds(o), patterns);
    await pickOption(page.locator('#scheme-filter'), 'All schemes');
    assert.equal(await page.locator('.layer-rows > .layer-row').count(), cli.inspect.layers.length);
    await assertClean(o);
    await o.close();
  });

  test('an override offers the layer’s feasible schemes, rejects a bad rate and posts setLayer', async () => {
    const o = await openWith(view);
    const { page } = o;
    const row = view.layers.find((l) => l.scheme === 'block-punched' && !l.feasibleSchemes.includes('pattern'))!;
    await rowOf(page, row.id).click();
    assert.equal(await page.locator('.details-title').textContent(), row.id);
    const offered = await page.locator('#override-scheme vscode-option').evaluateAll((os) => os.map((opt) => opt.getAttribute('value')));
    assert.deepEqual(offered, row.feasibleSchemes);

    const rate = page.locator('#override-rate input');
    const apply = page.locator('#override-apply');
    const countSetLayer = async () => (await o.posted()).filter((m) => m.type === 'setLayer').length;

    await pickOption(page.locator('#override-scheme'), 'unstructured');
    for (const bad of ['1.5', '-0.1', '0.995', 'abc', '']) {
      await rate.fill(bad);
      await apply.click();
      assert.match((await page.locator('#override-error').textContent())!, /Rate must be a number from 0 to 0\.99/, `rate "${bad}"`);
      assert.equal(await countSetLayer(), 0, `rate "${bad}" must not be posted`);
    }
    await rate.fill('0.7');
    await apply.click();
    assert.equal(await page.locator('#override-error').textContent(), '');
    assert.deepEqual(await lastPosted(o), { type: 'setLayer', layer: row.id, scheme: 'unstructured', rate: 0.7 });

    await pickOption(page.locator('#override-scheme'), 'block-bcr');
    await page.locator('#override-block-0 input').fill('8');
    await page.locator('#override-block-1 input').fill('4');
    await rate.fill('0.6');
    await rate.press('Enter');
    assert.deepEqual(await lastPosted(o), { type: 'setLayer', layer: row.id, scheme: 'block-bcr', rate: 0.6, block: [8, 4] });

    await pickOption(page.locator('#override-scheme'), 'nm');
    await page.locator('#override-n input').fill('1');
    await page.locator('#override-m input').fill('4');
    await apply.click();
    assert.deepEqual(await lastPosted(o), { type: 'setLayer', layer: row.id, scheme: 'nm', rate: 0.75, n: 1, m: 4 });

    await pickOption(page.locator('#override-scheme'), 'dense');
    await apply.click();
    assert.deepEqual(await lastPosted(o), { type: 'setLayer', layer: row.id, scheme: 'dense', rate: 0 });

    // While the server re-plans, Apply and Prune wait.
    await o.send({ type: 'show', view: { ...view, busy: true } });
    assert.equal(await apply.getAttribute('disabled'), '');
    assert.ok(await page.locator('vscode-progress-bar').isVisible());
    const before = await countSetLayer();
    await apply.click({ force: true });
    assert.equal(await countSetLayer(), before);
    await assertClean(o);
    await o.close();
  });

  test('the target picker posts setTarget; the actions post their messages', async () => {
    const o = await openWith(view);
    const { page } = o;
    const other = cli.targets.find((t) => t.id !== cli.map.target)!;
    await pickOption(page.locator('#target-picker'), other.name);
    assert.deepEqual(await lastPosted(o), { type: 'setTarget', target: other.id });

    const layer = view.layers[2]!.id;
    await page.locator('[data-action="open-text-view"]').click();
    assert.deepEqual(await lastPosted(o), { type: 'openTextView' });
    await rowOf(page, layer).click();
    await page.locator('[data-action="open-text-view"]').click();
    assert.deepEqual(await lastPosted(o), { type: 'openTextView', layer });
    await rowOf(page, layer).dblclick();
    assert.deepEqual(await lastPosted(o), { type: 'openTextView', layer });
    await page.locator('[data-action="open-plan"]').click();
    assert.deepEqual(await lastPosted(o), { type: 'openPlan' });
    await page.locator('[data-action="prune"]').click();
    assert.deepEqual(await lastPosted(o), { type: 'prune' });

    await o.send({ type: 'error', message: 'the server stopped' });
    assert.equal(await page.locator('.error-banner .error-message').textContent(), 'the server stopped');
    assert.ok(await page.locator('.error-banner').isVisible());
    await assertClean(o);
    await o.close();
  });

  test('filter, sort, scroll and the selected layer survive a reload (setState → getState)', async () => {
    const big = largeView(view, 300);
    const first = await openWith(big);
    await first.page.locator('#layer-filter input').fill('conv');
    await first.page.locator('[role=columnheader].col-macs button').click();
    const ids = await rowIds(first);
    const picked = ids[5]!;
    await rowOf(first.page, picked).click();
    await first.page.locator('.table-scroll').evaluate((box) => {
      box.scrollTop = 400;
    });
    await first.page.waitForFunction(() => ((globalThis as PageGlobals).__state as { scrollTop?: number } | undefined)?.scrollTop === 400);
    const saved = await first.state();
    await assertClean(first);
    await first.close();

    const second = await openWith(big, { state: saved });
    assert.equal(await second.page.locator('#layer-filter').evaluate((f) => (f as unknown as { value: string }).value), 'conv');
    assert.equal(await second.page.locator('[role=columnheader].col-macs').getAttribute('aria-sort'), 'descending');
    assert.deepEqual(await rowIds(second), ids);
    assert.equal(await rowOf(second.page, picked).getAttribute('aria-selected'), 'true');
    assert.equal(await second.page.locator('.details-title').textContent(), picked);
    assert.equal(await second.page.locator('.table-scroll').evaluate((box) => box.scrollTop), 400);
    await assertClean(second);
    await second.close();
  });

  test('the chart has a dense and a pruned bar per layer, heights proportional to the latencies', async () => {
    const o = await openWith(view);
    const bars = await o.page.locator('.chart g.bar-group').evaluateAll((groups) =>
      groups.map((g) => ({
        layer: g.getAttribute('data-layer'),
        dense: g.querySelectorAll('rect.bar.dense').length,
        pruned: g.querySelectorAll('rect.bar.pruned').length,
        denseHeight: Number(g.querySelector('rect.bar.dense')?.getAttribute('height')),
        prunedHeight: Number(g.querySelector('rect.bar.pruned')?.getAttribute('height')),
        denseBottom: Number(g.querySelector('rect.bar.dense')?.getAttribute('y')) + Number(g.querySelector('rect.bar.dense')?.getAttribute('height')),
      })),
    );
    assert.deepEqual(
      bars.map((b) => b.layer),
      cli.inspect.layers.map((l) => l.id),
    );
    assert.ok(bars.every((b) => b.dense === 1 && b.pruned === 1));
    const latencies = cli.inspect.layers.map((l) => cli.map.layers[l.id]!.latency);
    const pxPerMs = bars[0]!.denseHeight / latencies[0]!.denseMs;
    assert.ok(pxPerMs > 0);
    bars.forEach((b, i) => {
      assert.ok(Math.abs(b.denseHeight - latencies[i]!.denseMs * pxPerMs) < 1e-6, `${b.layer} dense bar`);
      assert.ok(Math.abs(b.prunedHeight - latencies[i]!.prunedMs * pxPerMs) < 1e-6, `${b.layer} pruned bar`);
      assert.ok(Math.abs(b.denseBottom - bars[0]!.denseBottom) < 1e-6, 'bars share the baseline');
    });

    // Clicking a pair selects its layer.
    await o.page.locator('.chart g.bar-group').nth(4).locator('rect.bar.dense').click();
    assert.equal(await o.page.locator('.details-title').textContent(), cli.inspect.layers[4]!.id);
    await assertClean(o);
    await o.close();
  });

  test('hostile model strings show as text and run nothing', async () => {
    const longName = `layer_${'x'.repeat(10 * 1024)}`;
    const hostileIds = [
      '<img src=x onerror="window.__pwned=true;alert(1)">',
      '\u202Eevil.onnx\u202C<b onmouseover="window.__pwned=true">bold</b>',
      longName,
      '"><svg onload="window.__pwned=true"></svg><!--',
    ];
    const layers: LayerRow[] = view.layers.map((l, i) => (i < hostileIds.length ? { ...l, id: hostileIds[i]! } : l));
    layers[4] = { ...layers[4]!, op: '<script>window.__pwned=true</script>', inputShape: ['"><img src=x onerror=alert(1)>', 3, 7, 7] };
    layers[5] = { ...layers[5]!, reason: '<iframe srcdoc="<script>parent.__pwned=true</script>"></iframe>' };
    const hostile: ModelView = {
      ...view,
      fileName: '<img src=x onerror=alert(document.domain)>.onnx',
      targets: view.targets.map((t, i) => (i === 0 ? { ...t, name: '<img src=x onerror=alert(2)>' } : t)),
      layers,
      error: '<b onmouseover=alert(3)>failed</b>',
    };
    const o = await openWith(hostile, { state: { selectedLayer: hostileIds[0] } });
    const { page } = o;
    await page.locator('#target-picker').click();
    await rowOf(page, hostileIds[1]!).hover();
    await page.keyboard.press('Escape');

    assert.deepEqual(await rowIds(o), layers.map((l) => l.id));
    for (const id of hostileIds) {
      assert.equal(await rowOf(page, id).locator('.col-layer').textContent(), id);
    }
    assert.equal(await page.locator('h1.file-name').textContent(), hostile.fileName);
    assert.equal(await page.locator('.details-title').textContent(), hostileIds[0]);
    assert.equal(await page.locator('.layer-rows > .layer-row').nth(4).locator('.col-op').textContent(), layers[4]!.op);
    assert.equal(await page.locator('.layer-rows > .layer-row').nth(5).locator('.col-reason').textContent(), layers[5]!.reason);
    assert.equal(await page.locator('.error-message').textContent(), hostile.error);
    assert.equal(await page.locator('#target-picker vscode-option').first().textContent(), '<img src=x onerror=alert(2)>');
    const titles = await page.locator('.chart g.bar-group > title').allTextContents();
    assert.ok(titles[0]!.startsWith(hostileIds[0]!));

    // Nothing was parsed as markup: no element from the strings exists, in the page or in the
    // components' shadow roots, and no script beyond the bundle.
    const injected = await page.evaluate(() => {
      interface Node {
        tagName: string;
        getAttributeNames(): string[];
        shadowRoot: { querySelectorAll(s: string): ArrayLike<Node> } | null;
      }
      const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<Node> } }).document;
      const found: string[] = [];
      const visit = (root: { querySelectorAll(s: string): ArrayLike<Node> }) => {
        for (const node of Array.from(root.querySelectorAll('*'))) {
          if (['IMG', 'IFRAME', 'B', 'SCRIPT'].includes(node.tagName.toUpperCase())) found.push(node.tagName);
          for (const name of node.getAttributeNames()) if (name.startsWith('on')) found.push(`${node.tagName}[${name}]`);
          if (node.shadowRoot) visit(node.shadowRoot);
        }
      };
      visit(doc);
      return found;
    });
    assert.deepEqual(injected, ['SCRIPT'], 'only the bundle’s <script>');
    assert.equal(await page.evaluate(() => (globalThis as PageGlobals).__pwned), undefined);

    // A 10 kB name is cut with an ellipsis: the row keeps a normal height and width.
    const box = await rowOf(page, longName).locator('.col-layer').boundingBox();
    assert.ok(box && box.width < 400 && box.height < 60, `long name cell: ${JSON.stringify(box)}`);
    await assertClean(o);
    await o.close();
  });

  test('the CSP refuses an inline script, style and handler without the nonce, and eval', async () => {
    const o = await openOverview(browser, served.origin, { theme: DARK_MODERN, query: '?inject=1' });
    await o.send({ type: 'show', view });
    const { page } = o;
    const flags = await page.evaluate(() => {
      const g = globalThis as PageGlobals;
      return { script: g.__inlineScriptRan, handler: g.__inlineHandlerRan, nonceScript: g.__nonceScriptRan, evalResult: g.__evalResult };
    });
    // The nonce'd probe runs; eval inside it does not ('unsafe-eval' is absent).
    assert.deepEqual(flags, { script: undefined, handler: undefined, nonceScript: true, evalResult: 'EvalError' });
    const background = await page
      .locator('body')
      .evaluate((b) => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(b).backgroundColor);
    assert.notEqual(background, 'rgb(255, 0, 0)', 'the injected <style> must not apply');
    const directives = new Set((await o.cspViolations()).map((v) => v.directive));
    for (const d of ['script-src-elem', 'style-src-elem', 'script-src-attr', 'script-src']) assert.ok(directives.has(d), `a ${d} violation is reported (got ${[...directives].join(', ')})`);
    // The page itself still works.
    assert.equal(await page.locator('.layer-rows > .layer-row').count(), view.layers.length);
    await o.close();
  });

  test(`a large model (600 layers) renders; timings are printed`, async (t) => {
    const big = largeView(view, 600);
    const o = await openOverview(browser, served.origin, { theme: DARK_MODERN });
    const timings = await o.page.evaluate(
      async ({ first, second }) => {
        const g = globalThis as PageGlobals & {
          performance: { now(): number };
          MessageEvent: new (type: string, init: { data: unknown }) => unknown;
          requestAnimationFrame(f: () => void): void;
          setTimeout(f: () => void, ms: number): void;
          document: { querySelector(s: string): { click(): void } };
        };
        // Until the next frame has been laid out and painted.
        const painted = () => new Promise<void>((resolve) => g.requestAnimationFrame(() => g.setTimeout(resolve, 0)));
        const time = async (action: () => void) => {
          const t0 = g.performance.now();
          action();
          const handled = g.performance.now();
          await painted();
          return { handlerMs: handled - t0, paintedMs: g.performance.now() - t0 };
        };
        const show = (v: unknown) => () => g.dispatchEvent(new g.MessageEvent('message', { data: { type: 'show', view: v } }));
        return {
          firstShow: await time(show(first)),
          oneLayerChanged: await time(show(second)),
          sortByMacs: await time(() => g.document.querySelector('[role=columnheader].col-macs button').click()),
        };
      },
      { first: big, second: { ...big, layers: big.layers.map((l, i) => (i === 300 ? { ...l, rate: 0.9, prunedMs: l.prunedMs / 2 } : l)) } },
    );
    for (const [what, ms] of Object.entries(timings)) t.diagnostic(`600 layers, ${what}: handler ${ms.handlerMs.toFixed(1)} ms, painted ${ms.paintedMs.toFixed(1)} ms`);
    assert.equal(await o.page.locator('.layer-rows > .layer-row').count(), 600);
    assert.equal(await o.page.locator('.chart rect.bar').count(), 1200);
    await assertClean(o);
    await o.close();
  });

  test('screenshots in the dark and light themes', async () => {
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    const selected = view.layers.find((l) => l.scheme === 'pattern')!.id;
    for (const [name, theme] of [
      ['dark', DARK_MODERN],
      ['light', LIGHT_MODERN],
    ] as const) {
      const o = await openWith(view, { theme, state: { selectedLayer: selected } });
      await o.page.screenshot({ path: path.join(SCREENSHOTS, `overview-${name}.png`), fullPage: true });
      await assertClean(o);
      await o.close();
    }
    const narrow = await openWith(largeView(view, 120), { theme: DARK_MODERN, viewport: { width: 760, height: 1000 }, state: { selectedLayer: `${view.layers[1]!.id}#2` } });
    await narrow.page.screenshot({ path: path.join(SCREENSHOTS, 'overview-dark-narrow-120-layers.png'), fullPage: true });
    await assertClean(narrow);
    await narrow.close();
  });
});
