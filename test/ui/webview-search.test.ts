// The overview's rule-based vs searched plan section in a real browser (Chromium through
// playwright-core, the page with its CSP and the built bundle; see webview.test.ts for what the
// harness stands in for). The two plans are the CLI's own output on the sample — `map --json` as
// the rule-based plan and `map --compression 2 --json` standing in for a searched plan — so the
// expected cells come from the engine, not from the page's formatting. Hostile layer names,
// reasons and target ids must show as text and run nothing.

import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import type { ComparedChoice, ModelView, SearchView } from '../../src/protocol/webview';
import { ROOT, runCli, viewFromCli, type MapLayer, type MapOutput } from './webview-fixtures';
import { assertClean, launchChromium, openOverviewShowing, serveOverview, type OverviewPage, type PageGlobals, type Served } from './webview-harness';

const SCREENSHOTS = path.join(ROOT, 'test', 'ui', 'screenshots');

let served: Served;
let browser: Browser;
let view: ModelView;
let rules: MapOutput;
let searched: MapOutput;

before(async () => {
  const cli = runCli('samples/fashion-cnn.onnx');
  view = viewFromCli(cli);
  rules = cli.map;
  searched = JSON.parse(execFileSync(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), 'map', path.join(ROOT, 'samples/fashion-cnn.onnx'), '--compression', '2', '--json'], { encoding: 'utf8' }));
  served = await serveOverview();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await served?.close();
});

function choice(e: MapLayer): ComparedChoice {
  return { scheme: e.scheme, rate: e.rate, prunedMs: e.latency.prunedMs, reason: e.reason, ...(e.block ? { block: e.block } : {}), ...(e.n !== undefined ? { n: e.n, m: e.m } : {}) };
}

/** The SearchView the extension would send for these two plans. */
function searchView(extra: Partial<SearchView> = {}): SearchView {
  return {
    goalSpeedup: 1.1,
    searchedTarget: rules.target,
    denseMs: rules.summary.denseMs,
    rules: { prunedMs: rules.summary.prunedMs, speedup: rules.summary.speedup, compression: rules.summary.compression },
    search: { prunedMs: searched.summary.prunedMs, speedup: searched.summary.speedup, compression: searched.summary.compression, accuracyProxy: 0.9375 },
    layers: Object.keys(rules.layers).map((id) => ({ id, rules: choice(rules.layers[id]!), search: choice(searched.layers[id]!) })),
    adopted: false,
    ...extra,
  };
}

const openWith = (model: ModelView) => openOverviewShowing(browser, served.origin, model);


const section = (o: OverviewPage) => o.page.locator('section.search-compare');
const layerRows = (o: OverviewPage) => section(o).locator('table.search-layers tbody tr');

describe('rule-based vs searched plan', () => {
  test('hidden until a search has run; "Search plan…" asks the host', async () => {
    const o = await openWith(view);
    assert.equal(await section(o).isVisible(), false);
    await o.page.locator('vscode-button[data-action="search-plan"]').click();
    assert.deepEqual((await o.posted()).at(-1), { type: 'searchPlan' });
    await assertClean(o);
    await o.close();
  });

  test('each layer shows both plans\' scheme, rate and latency; the differing ones are marked; totals side by side', async () => {
    const o = await openWith({ ...view, search: searchView() });
    assert.equal(await section(o).isVisible(), true);
    assert.equal(await section(o).locator('.search-goal').textContent(), `Searched for a 1.10× speedup on ${rules.target}`);
    const rows = layerRows(o);
    assert.equal(await rows.count(), Object.keys(rules.layers).length);
    const ids = Object.keys(rules.layers);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const row = rows.nth(i);
      assert.equal(await row.getAttribute('data-layer'), id);
      assert.equal(await row.locator('td').first().textContent(), id);
      for (const [plan, map] of [['rules', rules], ['search', searched]] as const) {
        const e = map.layers[id]!;
        const scheme = await row.locator(`td.scheme[data-plan="${plan}"]`).textContent();
        assert.ok(scheme!.startsWith(e.scheme), `${id} ${plan}: ${scheme}`);
        if (e.block) assert.equal(scheme, `${e.scheme} ${e.block[0]}×${e.block[1]}`);
        assert.equal(Number(await row.locator(`td[data-plan="${plan}"][data-metric="rate"]`).getAttribute('data-value')), e.rate);
        assert.equal(Number(await row.locator(`td[data-plan="${plan}"][data-metric="prunedMs"]`).getAttribute('data-value')), e.latency.prunedMs);
        assert.equal(await row.locator(`td.scheme[data-plan="${plan}"]`).getAttribute('title'), e.reason);
      }
      const differs = rules.layers[id]!.scheme !== searched.layers[id]!.scheme || rules.layers[id]!.rate !== searched.layers[id]!.rate;
      assert.equal((await row.getAttribute('class'))?.includes('differs') ?? false, differs, id);
    }
    const total = async (metric: string, plan: string) => Number(await section(o).locator(`table.search-totals td[data-metric="${metric}"][data-plan="${plan}"]`).getAttribute('data-value'));
    assert.equal(await total('speedup', 'rules'), rules.summary.speedup);
    assert.equal(await total('speedup', 'search'), searched.summary.speedup);
    assert.equal(await total('compression', 'rules'), rules.summary.compression);
    assert.equal(await total('compression', 'search'), searched.summary.compression);
    assert.equal(await total('prunedMs', 'search'), searched.summary.prunedMs);
    assert.equal(await section(o).locator('td[data-metric="accuracyProxy"][data-plan="search"]').textContent(), '93.8%');
    assert.equal(await section(o).locator('td[data-metric="accuracyProxy"][data-plan="rules"]').textContent(), '—');

    await section(o).locator('vscode-button[data-action="adopt-search-plan"]').click();
    assert.deepEqual((await o.posted()).at(-1), { type: 'adoptSearchPlan' });
    await section(o).locator('vscode-button[data-action="save-search-plan"]').click();
    assert.deepEqual((await o.posted()).at(-1), { type: 'saveSearchPlan' });
    await o.page.screenshot({ path: path.join(SCREENSHOTS, 'overview-search-compare.png'), fullPage: true });
    await assertClean(o);
    await o.close();
  });

  test('adopted: the adopt button is off and the section says so; no accuracy row when the search gives none', async () => {
    const plain = searchView({ adopted: true });
    delete plain.search.accuracyProxy;
    const o = await openWith({ ...view, search: plain });
    assert.equal(await section(o).locator('vscode-button[data-action="adopt-search-plan"]').evaluate((b) => (b as unknown as { disabled: boolean }).disabled), true);
    assert.equal(await section(o).locator('.search-adopted').textContent(), 'The searched plan is the current plan.');
    assert.equal(await section(o).locator('td[data-metric="accuracyProxy"]').count(), 0);
    await o.close();
  });

  test('hostile layer names, reasons and targets show as text and run nothing', async () => {
    const hostileIds = [
      '<img src=x onerror="window.__pwned=true;alert(1)">',
      '\u202Eevil.onnx\u202C<b onmouseover="window.__pwned=true">bold</b>',
      `layer_${'x'.repeat(10 * 1024)}`,
      '"><svg onload="window.__pwned=true"></svg><!--',
    ];
    const base = searchView();
    const layers = base.layers.map((l, i) => (i < hostileIds.length ? { ...l, id: hostileIds[i]! } : l));
    layers[4] = { ...layers[4]!, search: { ...layers[4]!.search, reason: '<iframe srcdoc="<script>parent.__pwned=true</script>"></iframe>' } };
    const hostileTarget = '<img src=x onerror=alert(2)>';
    const o = await openWith({ ...view, search: { ...base, layers, searchedTarget: hostileTarget, rulesError: '<b onmouseover=alert(3)>no plan</b>' } });
    const rows = layerRows(o);
    for (let i = 0; i < hostileIds.length; i++) {
      assert.equal(await rows.nth(i).getAttribute('data-layer'), hostileIds[i]);
      assert.equal(await rows.nth(i).locator('td').first().textContent(), hostileIds[i]);
    }
    await rows.nth(0).locator('td').first().hover();
    assert.equal(await rows.nth(4).locator('td.scheme[data-plan="search"]').getAttribute('title'), layers[4]!.search.reason);
    assert.ok((await section(o).locator('.search-goal').textContent())!.includes(hostileTarget));
    assert.equal(await section(o).locator('.search-note').textContent(), 'No rule-based plan: <b onmouseover=alert(3)>no plan</b>');
    // Nothing in the section was parsed as markup: only the elements the page builds, no handler attributes.
    const injected = await section(o).evaluate((root) => {
      interface Node { tagName: string; getAttributeNames(): string[] }
      const found: string[] = [];
      for (const node of Array.from((root as unknown as { querySelectorAll(s: string): ArrayLike<Node> }).querySelectorAll('*'))) {
        if (['IMG', 'IFRAME', 'B', 'SVG', 'SCRIPT'].includes(node.tagName.toUpperCase())) found.push(node.tagName);
        for (const name of node.getAttributeNames()) if (name.startsWith('on')) found.push(`${node.tagName}[${name}]`);
      }
      return found;
    });
    assert.deepEqual(injected, []);
    assert.equal(await o.page.evaluate(() => (globalThis as PageGlobals).__pwned), undefined);
    // The 10 kB name is cut: its cell keeps a normal size.
    const box = await rows.nth(2).locator('td').first().boundingBox();
    assert.ok(box && box.width < 600 && box.height < 60, `long name cell: ${JSON.stringify(box)}`);
    await assertClean(o);
    await o.close();
  });
});
