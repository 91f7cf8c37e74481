// The overview after "Generate Sparse Code…" with a benchmark, in Chromium (the harness of
// webview.test.ts): the Measured and ORT columns appear beside the estimate only then, show the
// timings the host sent (layers the benchmark did not time read "—"), a measurement taken with
// another scheme than the plan now has is marked, the summary gives the whole model against
// onnxruntime, the "Generate code…" action posts its message (and is off in an untrusted
// workspace), and hostile layer names stay text. Rows and estimates come from the CLI's JSON on
// the sample model (webview-fixtures.ts); the timings are the test's own numbers.

import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import type { LayerRow, ModelView } from '../../src/protocol/webview';
import { runCli, viewFromCli } from './webview-fixtures';
import { assertClean, launchChromium, openOverviewShowing, serveOverview, type PageGlobals, type Served } from './webview-harness';

let served: Served;
let browser: Browser;
let view: ModelView;

before(async () => {
  view = viewFromCli(runCli('samples/fashion-cnn.onnx'));
  served = await serveOverview();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await served?.close();
});

/** The view with a benchmark: every Conv timed (ours = i+1 × 0.01 ms, ORT 4× that, dense 2×), Gemms not. */
function benchedView(base: ModelView): ModelView {
  const layers: LayerRow[] = base.layers.map((l, i) => (l.op === 'Conv'
    ? { ...l, measured: { scheme: l.scheme, oursMs: (i + 1) * 0.01, ortMs: (i + 1) * 0.04, denseOursMs: (i + 1) * 0.02 } }
    : l));
  return { ...base, layers, bench: { oursMs: 0.25, ortMs: 0.6, verified: true } };
}

const openWith = (model: ModelView) => openOverviewShowing(browser, served.origin, model);

function rowOf(page: Page, id: string): Locator {
  const quoted = `"${id.replace(/[\\"]/g, '\\$&').replace(/\n/g, '\\a ')}"`;
  return page.locator(`.layer-rows > .layer-row[data-layer=${quoted}]`);
}


describe('overview after a benchmark (Chromium)', () => {
  test('no benchmark: no measured columns or card', async () => {
    const o = await openWith(view);
    assert.equal(await o.page.locator('[role=columnheader].col-measuredMs').isVisible(), false);
    assert.equal(await o.page.locator('[role=columnheader].col-ortMs').isVisible(), false);
    assert.equal(await rowOf(o.page, view.layers[0]!.id).locator('.col-measuredMs').isVisible(), false);
    assert.equal(await o.page.locator('.summary [data-metric="measuredOursMs"]').count(), 0);
    await assertClean(o);
    await o.close();
  });

  test('measured (ours) and ORT beside the estimate, per layer, and the whole model in the summary', async () => {
    const benched = benchedView(view);
    const o = await openWith(benched);
    const { page } = o;
    assert.equal(await page.locator('[role=columnheader].col-measuredMs').textContent(), 'Measured');
    assert.equal(await page.locator('[role=columnheader].col-ortMs').textContent(), 'ORT');
    // The headers line up with the cells: same left edge for a measured column.
    const headerBox = await page.locator('[role=columnheader].col-measuredMs').boundingBox();
    for (const [i, row] of benched.layers.entries()) {
      const cells = rowOf(page, row.id);
      // The estimate stays what `map --json` gave.
      assert.equal(Number(await cells.locator('.col-prunedMs').getAttribute('data-value')), view.layers[i]!.prunedMs);
      if (row.measured) {
        assert.equal(Number(await cells.locator('.col-measuredMs').getAttribute('data-value')), (i + 1) * 0.01, row.id);
        assert.equal(Number(await cells.locator('.col-ortMs').getAttribute('data-value')), (i + 1) * 0.04, row.id);
        assert.equal(Number(await cells.locator('.col-measuredMs').textContent()), Number(((i + 1) * 0.01).toPrecision(3)));
        assert.match((await cells.locator('.col-measuredMs').getAttribute('title'))!, /measured on this machine/);
      } else {
        assert.equal(await cells.locator('.col-measuredMs').textContent(), '—', `${row.id} was not timed`);
        assert.equal(await cells.locator('.col-measuredMs').getAttribute('data-value'), null);
      }
      const cellBox = await cells.locator('.col-measuredMs').boundingBox();
      assert.ok(headerBox && cellBox && Math.abs(headerBox.x - cellBox.x) < 1, `${row.id}: header at ${headerBox?.x}, cell at ${cellBox?.x}`);
    }
    assert.ok(benched.layers.some((l) => !l.measured) && benched.layers.some((l) => l.measured), 'the fixture has both kinds of rows');

    // Whole model: 0.6 / 0.25 = 2.4× faster than onnxruntime.
    assert.equal(Number(await page.locator('.summary [data-metric="measuredOursMs"]').getAttribute('data-value')), 0.25);
    assert.equal(Number(await page.locator('.summary [data-metric="measuredOrtMs"]').getAttribute('data-value')), 0.6);
    assert.equal(await page.locator('.summary [data-metric="measuredSpeedup"]').textContent(), '2.40×');

    // Sorting by Measured: largest first, untimed layers last.
    await page.locator('[role=columnheader].col-measuredMs button').click();
    const ids = await page.locator('.layer-rows > .layer-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-layer')));
    const expected = [...benched.layers].sort((a, b) => (b.measured?.oursMs ?? -1) - (a.measured?.oursMs ?? -1)).map((l) => l.id);
    assert.deepEqual(ids, expected);
    await assertClean(o);
    await o.close();
  });

  test('a measurement taken with another scheme is marked stale', async () => {
    const benched = benchedView(view);
    const i = benched.layers.findIndex((l) => l.measured);
    const layers = benched.layers.map((l, j) => (j === i ? { ...l, scheme: 'unstructured' as const, measured: { ...l.measured!, scheme: 'block-punched' } } : l));
    const o = await openWith({ ...benched, layers });
    const cell = rowOf(o.page, layers[i]!.id).locator('.col-measuredMs');
    assert.match((await cell.getAttribute('class'))!, /\bstale\b/);
    assert.match((await cell.getAttribute('title'))!, /Measured with block-punched; the plan now says unstructured/);
    const other = layers.find((l, j) => j !== i && l.measured)!;
    assert.doesNotMatch((await rowOf(o.page, other.id).locator('.col-measuredMs').getAttribute('class'))!, /\bstale\b/);
    await assertClean(o);
    await o.close();
  });

  test('"Generate code…" posts generateCode; it is off in an untrusted workspace', async () => {
    const o = await openWith(view);
    const button = o.page.locator('[data-action="generate-code"]');
    await button.click();
    assert.deepEqual((await o.posted()).at(-1), { type: 'generateCode' });
    await o.send({ type: 'show', view: { ...view, workspaceTrusted: false } });
    assert.equal(await button.evaluate((b) => (b as unknown as { disabled: boolean }).disabled), true);
    assert.match((await button.getAttribute('title'))!, /trusted workspace/);
    const before = (await o.posted()).length;
    await button.click({ force: true });
    assert.equal((await o.posted()).length, before, 'a disabled button posts nothing');
    await assertClean(o);
    await o.close();
  });

  test('hostile layer names and schemes in the measurements stay text', async () => {
    const hostileIds = ['<img src=x onerror="window.__pwned=true">', '"><svg onload="window.__pwned=true"></svg>', '\u202Eevil\u202C<b onmouseover="window.__pwned=true">b</b>'];
    const benched = benchedView(view);
    const measuredRows = benched.layers.map((l, i) => [l, i] as const).filter(([l]) => l.measured).slice(0, hostileIds.length);
    const layers = benched.layers.map((l) => {
      const k = measuredRows.findIndex(([m]) => m === l);
      return k < 0 ? l : { ...l, id: hostileIds[k]!, measured: { ...l.measured!, scheme: '<script>window.__pwned=true</script>' } };
    });
    const o = await openWith({ ...benched, layers });
    const { page } = o;
    for (const [k, id] of hostileIds.entries()) {
      const row = rowOf(page, id);
      assert.equal(await row.locator('.col-layer').textContent(), id);
      assert.equal(Number(await row.locator('.col-measuredMs').getAttribute('data-value')), measuredRows[k]![0].measured!.oursMs);
      assert.match((await row.locator('.col-ortMs').getAttribute('title'))!, /<script>window\.__pwned=true<\/script>/, 'the scheme is in the tooltip as text');
    }
    const injected = await page.evaluate(() => {
      const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): ArrayLike<{ tagName: string; getAttributeNames(): string[] }> } }).document;
      const found: string[] = [];
      for (const node of Array.from(doc.querySelectorAll('.layer-table *, .summary *'))) {
        if (['IMG', 'SVG', 'B', 'SCRIPT'].includes(node.tagName.toUpperCase())) found.push(node.tagName);
        for (const name of node.getAttributeNames()) if (name.startsWith('on')) found.push(`${node.tagName}[${name}]`);
      }
      return found;
    });
    assert.deepEqual(injected, []);
    assert.equal(await page.evaluate(() => (globalThis as PageGlobals).__pwned), undefined);
    await assertClean(o);
    await o.close();
  });
});
