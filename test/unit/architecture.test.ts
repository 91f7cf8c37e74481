// Layer invariants (docs/architecture.md), checked on every `npm test` like rust-analyzer's tidy
// tests: scans every import in src/** and webview/** and fails with file:line when a layer imports
// something it must not. The self-tests at the bottom prove the scanner catches violations.

import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { builtinModules } from 'node:module';
import * as path from 'node:path';
import { describe, test } from 'node:test';

const ROOT = path.resolve(__dirname, '..', '..');
const SOURCE_EXTENSIONS = /\.(?:ts|tsx|mts|cts|js|jsx|mjs|cjs)$/;

export interface ImportRef {
  /** 1-based line of the module specifier. */
  readonly line: number;
  readonly specifier: string;
}

export interface Violation {
  /** Repository-relative file, with forward slashes. */
  readonly file: string;
  readonly line: number;
  readonly specifier: string;
  readonly rule: string;
}

/** Replaces comments with spaces (newlines kept) so commented-out imports do not count. */
function blankComments(text: string): string {
  const out = text.split('');
  let i = 0;
  const blank = (from: number, to: number): void => {
    for (let k = from; k < to; k++) if (out[k] !== '\n') out[k] = ' ';
  };
  while (i < text.length) {
    const c = text[i];
    const next = text[i + 1];
    if (c === '/' && next === '/') {
      const end = text.indexOf('\n', i);
      const stop = end === -1 ? text.length : end;
      blank(i, stop);
      i = stop;
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end === -1 ? text.length : end + 2;
      blank(i, stop);
      i = stop;
    } else if (c === '"' || c === "'" || c === '`') {
      i++;
      while (i < text.length && text[i] !== c) {
        if (text[i] === '\\') i++;
        else if (c !== '`' && text[i] === '\n') break; // unterminated: stop at the line end
        i++;
      }
      i++;
    } else {
      i++;
    }
  }
  return out.join('');
}

const IMPORT_PATTERNS: readonly RegExp[] = [
  // import x from 'm'; import { a, b } from 'm'; import type X from 'm'; export { a } from 'm';
  // export * from 'm' (possibly spanning several lines)
  /(?:^|[;}\n])\s*(?:import|export)\b[^;'"`]*?\bfrom\s*(['"])([^'"\n]+)\1/g,
  // import 'm' (side effects only)
  /(?:^|[;}\n])\s*import\s*(['"])([^'"\n]+)\1/g,
  // import('m'), await import("m")
  /\bimport\s*\(\s*(['"`])([^'"`\n]+)\1/g,
  // require('m'), import x = require('m')
  /\brequire\s*\(\s*(['"`])([^'"`\n]+)\1/g,
];

/** Every module specifier a source text imports, with the line it is on. */
export function scanImports(text: string): ImportRef[] {
  const clean = blankComments(text);
  const lineStarts: number[] = [0];
  for (let i = 0; i < clean.length; i++) if (clean[i] === '\n') lineStarts.push(i + 1);
  const lineOf = (offset: number): number => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  const seen = new Set<string>();
  const refs: ImportRef[] = [];
  for (const pattern of IMPORT_PATTERNS) {
    pattern.lastIndex = 0;
    for (let m = pattern.exec(clean); m !== null; m = pattern.exec(clean)) {
      const specifier = m[2]!;
      const offset = m.index + m[0].lastIndexOf(specifier);
      const key = `${offset}:${specifier}`;
      if (seen.has(key)) continue;
      seen.add(key);
      refs.push({ line: lineOf(offset), specifier });
    }
  }
  return refs.sort((a, b) => a.line - b.line);
}

type Target =
  | { readonly kind: 'path'; readonly path: string } // repository-relative, forward slashes
  | { readonly kind: 'package'; readonly name: string; readonly specifier: string };

function resolveTarget(file: string, specifier: string): Target {
  if (specifier.startsWith('.') || specifier.startsWith('/')) {
    const abs = path.posix.normalize(
      specifier.startsWith('/') ? specifier : path.posix.join(path.posix.dirname(file), specifier),
    );
    return { kind: 'path', path: abs.replace(/^\/+/, '') };
  }
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  return { kind: 'package', name, specifier };
}

const under = (p: string, dir: string): boolean => p === dir || p.startsWith(`${dir}/`);
const underAny = (p: string, dirs: readonly string[]): string | undefined => dirs.find((d) => under(p, d));

const EDITOR_AND_LSP = (name: string): boolean =>
  name === 'vscode' ||
  name.startsWith('vscode-languageclient') ||
  name.startsWith('vscode-languageserver') ||
  name === 'vscode-jsonrpc';
const UI_PACKAGE = (name: string): boolean => name.startsWith('@vscode-elements/');

/** Packages the webview may use besides its own files and src/protocol. */
const WEBVIEW_PACKAGES = (name: string): boolean => UI_PACKAGE(name);
/** Packages src/server may use: the LSP libraries and node built-ins (the engine comes through src/core). */
const SERVER_PACKAGES = (name: string): boolean =>
  name.startsWith('vscode-languageserver') || name === 'vscode-jsonrpc' || name.startsWith('node:') || builtinModules.includes(name);
/** Packages the extension may use: the editor API, the language client and node built-ins (the engine runs in the server). */
const EXTENSION_PACKAGES = (name: string): boolean =>
  name === 'vscode' || name.startsWith('vscode-languageclient') || name.startsWith('node:') || builtinModules.includes(name);
/** Packages src/protocol may use for message types. */
const PROTOCOL_PACKAGES = new Set(['vscode-languageserver-protocol', 'vscode-jsonrpc']);

/** The rule one import breaks, or undefined when the import is allowed. */
function ruleBroken(file: string, target: Target): string | undefined {
  if (under(file, 'src/core')) {
    if (target.kind === 'package' && (EDITOR_AND_LSP(target.name) || UI_PACKAGE(target.name))) {
      return 'src/core is the engine: it never imports vscode, LSP or UI packages';
    }
    const dir = target.kind === 'path' && underAny(target.path, ['src/server', 'src/extension', 'src/protocol', 'src/cli', 'webview']);
    if (dir) return `src/core must not import ${dir}/ (it knows nothing of editors, protocols or the CLI)`;
    return undefined;
  }
  if (under(file, 'src/server')) {
    if (target.kind === 'package') {
      if (target.name === 'vscode') return 'src/server never imports `vscode` (it runs outside the extension host)';
      return SERVER_PACKAGES(target.name)
        ? undefined
        : 'src/server imports only src/core, src/protocol, vscode-languageserver* / vscode-jsonrpc and node built-ins';
    }
    const dir = underAny(target.path, ['src/extension', 'webview', 'src/cli']);
    if (dir) return `src/server must not import ${dir}/`;
    return underAny(target.path, ['src/server', 'src/core', 'src/protocol'])
      ? undefined
      : 'src/server imports only src/core, src/protocol and its own files';
  }
  if (under(file, 'src/cli')) {
    if (target.kind === 'package' && (EDITOR_AND_LSP(target.name) || UI_PACKAGE(target.name))) {
      return 'src/cli uses src/core only: no vscode, LSP or UI packages';
    }
    const dir = target.kind === 'path' && underAny(target.path, ['src/server', 'src/extension', 'webview']);
    if (dir) return `src/cli must not import ${dir}/ (it uses src/core only)`;
    return undefined;
  }
  if (under(file, 'src/extension')) {
    if (target.kind === 'package') {
      return EXTENSION_PACKAGES(target.name)
        ? undefined
        : 'src/extension is a thin client: it imports only vscode, vscode-languageclient and node built-ins';
    }
    return underAny(target.path, ['src/extension', 'src/protocol'])
      ? undefined
      : 'src/extension imports only src/protocol and its own files (the work happens in the server)';
  }
  if (under(file, 'src/protocol')) {
    if (target.kind === 'path') {
      return under(target.path, 'src/protocol') ? undefined : 'src/protocol imports only other src/protocol files';
    }
    return PROTOCOL_PACKAGES.has(target.name)
      ? undefined
      : 'src/protocol imports only vscode-languageserver-protocol / vscode-jsonrpc types';
  }
  if (under(file, 'webview')) {
    if (target.kind === 'path') {
      return underAny(target.path, ['webview', 'src/protocol']) ? undefined : 'webview/ imports only webview/ and src/protocol/';
    }
    return WEBVIEW_PACKAGES(target.name)
      ? undefined
      : 'webview/ imports only webview/, src/protocol/ and its UI packages (@vscode-elements/*)';
  }
  return undefined;
}

/** Checks one file's text; `file` is repository-relative with forward slashes. */
export function checkFile(file: string, text: string): Violation[] {
  const violations: Violation[] = [];
  for (const ref of scanImports(text)) {
    const rule = ruleBroken(file, resolveTarget(file, ref.specifier));
    if (rule) violations.push({ file, line: ref.line, specifier: ref.specifier, rule });
  }
  return violations;
}

function sourceFiles(dir: string): string[] {
  const abs = path.join(ROOT, dir);
  if (!fs.existsSync(abs)) return [];
  const files: string[] = [];
  for (const entry of fs.readdirSync(abs, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !SOURCE_EXTENSIONS.test(entry.name)) continue;
    const rel = path.relative(ROOT, path.join(entry.parentPath, entry.name)).split(path.sep).join('/');
    if (rel.split('/').includes('node_modules')) continue;
    files.push(rel);
  }
  return files.sort();
}

const format = (v: Violation): string => `${v.file}:${v.line}: imports '${v.specifier}' — ${v.rule}`;

describe('architecture invariants', () => {
  test('no layer imports what it must not (src/**, webview/**)', () => {
    const files = [...sourceFiles('src'), ...sourceFiles('webview')];
    assert.ok(files.some((f) => f.startsWith('src/core/')), 'expected TypeScript files under src/core/');
    let imports = 0;
    const violations: Violation[] = [];
    for (const file of files) {
      const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
      imports += scanImports(text).length;
      violations.push(...checkFile(file, text));
    }
    assert.ok(imports > 0, 'the scanner found no imports at all in src/: it is broken');
    assert.equal(violations.length, 0, `layer violations (see docs/architecture.md):\n${violations.map(format).join('\n')}`);
  });
});

describe('architecture scanner self-test', () => {
  test('finds every import form with its line', () => {
    const text = [
      "import * as fs from 'node:fs';",
      'import {',
      '  a,',
      '  b,',
      "} from './multi';",
      "import type { T } from '../types';",
      "import 'side-effect';",
      "export * from './reexport';",
      "export { x } from \"./named\";",
      "const m = await import('./dynamic');",
      "const r = require('./required');",
      "import eq = require('./import-equals');",
      "// import bad from 'commented-out';",
      "/* require('block-comment') */",
      "const s = 'from \"not-an-import\"';",
      "const url = 'https://example.com'; import late from './after-url';",
    ].join('\n');
    assert.deepEqual(
      scanImports(text).map((r) => `${r.line}:${r.specifier}`),
      [
        '1:node:fs',
        '5:./multi',
        '6:../types',
        '7:side-effect',
        '8:./reexport',
        '9:./named',
        '10:./dynamic',
        '11:./required',
        '12:./import-equals',
        '16:./after-url',
      ],
    );
  });

  test('catches src/core importing vscode, LSP packages and other layers', () => {
    const text = [
      "import { onnx } from 'onnx-proto';",
      "import * as vscode from 'vscode';",
      "import type { Hover } from 'vscode-languageserver/node';",
      "import { RequestType } from 'vscode-jsonrpc';",
      "import { Foo } from '../../protocol/foo';",
      "const h = require('../../server/hover');",
      "export { run } from '../../cli/main';",
      "const w = import('../../../webview/main');",
      "import { ModelError } from '../errors';",
    ].join('\n');
    const found = checkFile('src/core/onnx/x.ts', text).map((v) => `${v.line}:${v.specifier}`);
    assert.deepEqual(found, [
      '2:vscode',
      '3:vscode-languageserver/node',
      '4:vscode-jsonrpc',
      '5:../../protocol/foo',
      '6:../../server/hover',
      '7:../../cli/main',
      '8:../../../webview/main',
    ]);
    assert.match(format(checkFile('src/core/onnx/x.ts', text)[0]!), /^src\/core\/onnx\/x\.ts:2: imports 'vscode'/);
  });

  test('catches the server importing vscode or the extension', () => {
    const text = "import * as vscode from 'vscode';\nimport { x } from '../extension/main';\nimport { c } from '../core/layers';\nimport { conn } from 'vscode-languageserver/node';\n";
    assert.deepEqual(
      checkFile('src/server/hover.ts', text).map((v) => v.line),
      [1, 2],
    );
  });

  test('keeps the server to src/core, src/protocol, the LSP libraries and node built-ins', () => {
    const ok = [
      "import { TextDocument } from 'vscode-languageserver-textdocument';",
      "import { RequestType } from 'vscode-jsonrpc';",
      "import * as fs from 'node:fs';",
      "import * as path from 'path';",
      "import { TextViewRequest } from '../protocol/messages';",
      "import { Session } from './session';",
    ].join('\n');
    assert.deepEqual(checkFile('src/server/hover.ts', ok), []);
    const bad = [
      "import { parseTree } from 'jsonc-parser';",
      "import { onnx } from 'onnx-proto';",
      "import { run } from '../cli/main';",
      "const w = require('../../webview/main');",
      "import { x } from '../../scripts/build.mjs';",
    ].join('\n');
    assert.deepEqual(checkFile('src/server/hover.ts', bad).map((v) => v.line), [1, 2, 3, 4, 5]);
  });

  test('keeps the extension a thin client: src/protocol, vscode, the language client and node built-ins', () => {
    const ok = "import * as vscode from 'vscode';\nimport { LanguageClient } from 'vscode-languageclient/node';\nimport * as fs from 'node:fs';\nimport { AnalyzeRequest } from '../protocol/messages';\nimport { Backend } from './backend';\n";
    assert.deepEqual(checkFile('src/extension/main.ts', ok), []);
    const bad = "import { loadModel } from '../core/onnx/load';\nimport { s } from '../server/main';\nimport { onnx } from 'onnx-proto';\nimport { m } from '../../webview/main';\n";
    assert.deepEqual(checkFile('src/extension/main.ts', bad).map((v) => v.line), [1, 2, 3, 4]);
  });

  test('catches the CLI importing the server or the extension', () => {
    const text = "import { loadModel } from '../core/onnx/load';\nimport { s } from '../server/main';\nimport { e } from '../extension/commands';\n";
    assert.deepEqual(checkFile('src/cli/main.ts', text).map((v) => v.line), [2, 3]);
  });

  test('keeps src/protocol to protocol files and LSP message types', () => {
    const ok = "import { RequestType } from 'vscode-languageserver-protocol';\nimport type { Disposable } from 'vscode-jsonrpc';\nimport { LayerRow } from './webview';\n";
    assert.deepEqual(checkFile('src/protocol/lsp.ts', ok), []);
    const bad = "import { Model } from '../core/onnx/model';\nimport * as vscode from 'vscode';\nimport * as fs from 'node:fs';\n";
    assert.deepEqual(checkFile('src/protocol/lsp.ts', bad).map((v) => v.line), [1, 2, 3]);
  });

  test('keeps webview/ to itself, src/protocol and its UI packages', () => {
    const ok = "import '@vscode-elements/elements';\nimport { LayerRow } from '../src/protocol/webview';\nimport { table } from './table';\n";
    assert.deepEqual(checkFile('webview/main.ts', ok), []);
    const bad = "import { loadModel } from '../src/core/onnx/load';\nimport * as vscode from 'vscode';\n";
    assert.deepEqual(checkFile('webview/main.ts', bad).map((v) => v.line), [1, 2]);
  });
});
