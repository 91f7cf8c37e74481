// The HTML shell of the overview webview: a strict Content Security Policy, the stylesheet and the
// bundled script (dist/webview/overview.{css,js}), and an empty mount point that webview/main.ts
// fills with DOM APIs. Pure (no `vscode` import) so that the browser tests serve the same page.

import { randomBytes } from 'node:crypto';

export interface OverviewHtmlOptions {
  /** `webview.cspSource`: the origin the webview loads extension resources from. */
  cspSource: string;
  /** `webview.asWebviewUri(dist/webview/overview.js)`, as a string. */
  scriptUri: string;
  /** `webview.asWebviewUri(dist/webview/overview.css)`, as a string. */
  styleUri: string;
  /** A fresh `makeNonce()` per page load. */
  nonce: string;
}

/** 128 bits from the OS's CSPRNG, base64url: unguessable, and valid in a CSP source expression. */
export function makeNonce(): string {
  return randomBytes(16).toString('base64url');
}

/**
 * The policy: nothing is allowed unless listed. Scripts only with the nonce (no inline handlers,
 * no eval). Styles from the extension's files; the web components' styles are constructed
 * stylesheets (adoptedStyleSheets), which CSP does not govern, and webview/main.ts hands Lit the
 * nonce for its fallback <style> elements. Images from the extension and data: URIs; fonts from
 * the extension (none are used yet: the components' codicons are not needed).
 */
export function overviewCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

export function overviewHtml({ cspSource, scriptUri, styleUri, nonce }: OverviewHtmlOptions): string {
  if (!/^[A-Za-z0-9_-]{16,}$/.test(nonce)) throw new Error('overviewHtml: the nonce must be base64url, from makeNonce()');
  // webview.cspSource is a source list, e.g. "'self' https://*.vscode-cdn.net": keep it one directive.
  if (/[;,"\r\n]/.test(cspSource)) throw new Error(`overviewHtml: not a CSP source list: ${cspSource}`);
  const a = escapeAttribute;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${a(overviewCsp(cspSource, nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${a(styleUri)}" nonce="${a(nonce)}">
<title>PruneMap overview</title>
</head>
<body>
<main id="app" aria-busy="true"></main>
<script nonce="${a(nonce)}" src="${a(scriptUri)}"></script>
</body>
</html>
`;
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
