// Runs the overview webview in Debian's Chromium: a tiny HTTP server on 127.0.0.1 serves the page
// that `overviewHtml` writes (with its real CSP) and the built bundle from dist/webview/, and each
// page gets a stand-in for `acquireVsCodeApi`. The real host — VS Code's webview iframe, which
// provides that function, the theme variables and the message channel — cannot run in a plain
// browser; the extension's tests cover it later inside code-server.

import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { makeNonce, overviewHtml } from '../../src/extension/overview-html';
import type { HostMessage, ModelView, WebviewMessage } from '../../src/protocol/webview';
import { ROOT } from './webview-fixtures';
import { DARK_MODERN, type Theme } from './webview-themes';

const BUNDLE_DIR = path.join(ROOT, 'dist', 'webview');
const CONTENT_TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json' };

/** Markup that must never run: appended to the page by `/?inject=1` to probe the CSP. */
export const INJECTED_WITHOUT_NONCE =
  '<script>window.__inlineScriptRan = true</script>' +
  '<style id="injected-style">body { background: rgb(255, 0, 0) !important; }</style>' +
  '<img id="injected-img" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" onload="window.__inlineHandlerRan = true">';

/** A script WITH the page's nonce (so it runs) that tries eval, which the CSP must refuse. */
const evalProbe = (nonce: string) =>
  `<script nonce="${nonce}">window.__nonceScriptRan = true; try { eval('1'); window.__evalResult = 'ran'; } catch (e) { window.__evalResult = e.name; }</script>`;

export interface Served {
  origin: string;
  close(): Promise<void>;
}

/** Serves `/` (the overview page, a fresh nonce each time) and /dist/webview/*. */
export async function serveOverview(): Promise<Served> {
  if (!fs.existsSync(path.join(BUNDLE_DIR, 'overview.js'))) throw new Error(`${BUNDLE_DIR}/overview.js is missing: run \`npm run build\` first`);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    if (url.pathname === '/') {
      const nonce = makeNonce();
      let html = overviewHtml({ cspSource: origin, scriptUri: `${origin}/dist/webview/overview.js`, styleUri: `${origin}/dist/webview/overview.css`, nonce });
      if (url.searchParams.has('inject')) html = html.replace('</body>', `${INJECTED_WITHOUT_NONCE}${evalProbe(nonce)}</body>`);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
      return;
    }
    const file = url.pathname.startsWith('/dist/webview/') ? path.join(BUNDLE_DIR, path.basename(url.pathname)) : '';
    if (!file || !fs.existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(fs.readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
}

export interface CspViolation {
  directive: string;
  blocked: string;
}

/** What the page exposes to the tests (set by the stand-in below). */
export type PageGlobals = typeof globalThis & {
  __posted: WebviewMessage[];
  __state: unknown;
  __csp: CspViolation[];
  __inlineScriptRan?: boolean;
  __inlineHandlerRan?: boolean;
  __nonceScriptRan?: boolean;
  __evalResult?: string;
  __pwned?: boolean;
  postMessage(message: unknown, targetOrigin: string): void;
  dispatchEvent(event: unknown): boolean;
};

/**
 * Installed before the page's own script: `acquireVsCodeApi` (callable once, as in VS Code) that
 * records posted messages and keeps setState's value; a recorder of CSP violations.
 */
function installHostStandIn(initialState: unknown): void {
  const g = globalThis as PageGlobals & { acquireVsCodeApi?: unknown; document: { addEventListener(t: string, f: (e: CspViolationEvent) => void): void } };
  interface CspViolationEvent {
    violatedDirective: string;
    blockedURI: string;
  }
  g.__posted = [];
  g.__state = initialState;
  g.__csp = [];
  let acquired = false;
  g.acquireVsCodeApi = () => {
    if (acquired) throw new Error('acquireVsCodeApi may only be called once');
    acquired = true;
    return {
      // The real host structured-clones messages and keeps the state as JSON.
      postMessage: (m: unknown) => g.__posted.push(JSON.parse(JSON.stringify(m)) as WebviewMessage),
      getState: () => g.__state,
      setState: (s: unknown) => {
        g.__state = JSON.parse(JSON.stringify(s)) as unknown;
      },
    };
  };
  g.document.addEventListener('securitypolicyviolation', (e) => g.__csp.push({ directive: e.violatedDirective, blocked: e.blockedURI }));
}

function applyTheme(theme: Theme): void {
  const d = (globalThis as unknown as { document: { documentElement: { style: { setProperty(k: string, v: string): void } }; body: { className: string } } }).document;
  // CSSOM, as VS Code does; a <style> element would be refused by the page's CSP.
  for (const [name, value] of Object.entries(theme.variables)) d.documentElement.style.setProperty(name, value);
  d.body.className = theme.bodyClass;
}

export interface OverviewPage {
  page: Page;
  /** Dialogs opened (alert, confirm, …): there must be none. */
  dialogs: string[];
  /** Uncaught exceptions and console errors. */
  errors: string[];
  /** Sends a host message and waits until the page has handled it. */
  send(message: HostMessage): Promise<void>;
  posted(): Promise<WebviewMessage[]>;
  state(): Promise<unknown>;
  cspViolations(): Promise<CspViolation[]>;
  close(): Promise<void>;
}

export async function openOverview(
  browser: Browser,
  origin: string,
  options: { theme: Theme; state?: unknown; query?: string; viewport?: { width: number; height: number } },
): Promise<OverviewPage> {
  const context = await browser.newContext({ viewport: options.viewport ?? { width: 1280, height: 900 } });
  const page = await context.newPage();
  const dialogs: string[] = [];
  const errors: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console error: ${m.text()}`);
  });
  // tsx compiles this file with esbuild's keepNames, which wraps functions in __name(…) calls;
  // the functions sent to the page need that helper there too.
  await page.addInitScript({ content: 'globalThis.__name = (fn) => fn;' });
  await page.addInitScript(installHostStandIn, options.state);
  await page.goto(`${origin}/${options.query ?? ''}`);
  await page.evaluate(applyTheme, options.theme);
  await page.waitForFunction(() => (globalThis as PageGlobals).__posted.some((m) => m.type === 'ready'));
  return {
    page,
    dialogs,
    errors,
    send: (message) =>
      page.evaluate(
        (m) =>
          new Promise<void>((resolve) => {
            const g = globalThis as PageGlobals & { addEventListener(t: string, f: () => void, o: { once: boolean }): void; setTimeout(f: () => void, ms: number): void };
            // The page's listener was added first, so it has run when this one fires.
            g.addEventListener('message', () => g.setTimeout(resolve, 0), { once: true });
            g.postMessage(m, '*');
          }),
        message,
      ),
    posted: () => page.evaluate(() => (globalThis as PageGlobals).__posted),
    state: () => page.evaluate(() => (globalThis as PageGlobals).__state),
    cspViolations: () => page.evaluate(() => (globalThis as PageGlobals).__csp),
    close: () => context.close(),
  };
}

/** Opens the overview (Dark Modern unless `theme`) and shows `view` in it. */
export async function openOverviewShowing(
  browser: Browser,
  origin: string,
  view: ModelView,
  options: { theme?: Theme; state?: unknown; viewport?: { width: number; height: number } } = {},
): Promise<OverviewPage> {
  const o = await openOverview(browser, origin, { ...options, theme: options.theme ?? DARK_MODERN });
  await o.send({ type: 'show', view });
  return o;
}

/** Nothing went wrong on the page: no CSP violation, no error, no dialog. */
export async function assertClean(o: OverviewPage): Promise<void> {
  assert.deepEqual(await o.cspViolations(), [], 'CSP violations');
  assert.deepEqual(o.errors, [], 'page errors');
  assert.deepEqual(o.dialogs, [], 'dialogs');
}
