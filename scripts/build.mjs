// Builds the bundles in dist/ with esbuild: one entry per row of ENTRIES, each built only when its
// source file exists (the server and extension land later). `node scripts/build.mjs --watch`
// rebuilds on change.

import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { vendorOnnxruntime } from './vendor-onnxruntime.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;

// Native or host-provided modules that must never be bundled.
const ALWAYS_EXTERNAL = ['onnxruntime-node'];

/**
 * One row per bundle: source, output, extra externals, whether it is an executable script, and
 * the platform (default node: CommonJS for Node 20; browser: one IIFE script for a webview, whose
 * CSS imports land next to it as <out>.css).
 */
const ENTRIES = [
  // dist/cli.js is a small launcher that runs dist/cli-main.js through a V8 code cache.
  { in: 'src/cli/launch.ts', out: 'dist/cli.js', external: [], executable: true },
  { in: 'src/cli/main.ts', out: 'dist/cli-main.js', external: [], executable: false },
  { in: 'src/server/main.ts', out: 'dist/server.js', external: [], executable: false },
  { in: 'src/extension/main.ts', out: 'dist/extension.js', external: ['vscode'], executable: false },
  { in: 'webview/main.ts', out: 'dist/webview/overview.js', external: [], executable: false, platform: 'browser' },
];

/** esbuild's platform, target and format for an entry's platform. */
const PLATFORMS = {
  node: { platform: 'node', target: 'node20', format: 'cjs' },
  // VS Code 1.100's webviews run in Electron 34 (Chromium 132); chrome120 leaves some margin.
  browser: { platform: 'browser', target: 'chrome120', format: 'iife' },
};

const watch = process.argv.includes('--watch');

/** Makes an executable output runnable after every (re)build. */
function chmodPlugin(outfile) {
  return {
    name: 'chmod-executable',
    setup(build) {
      build.onEnd((result) => {
        if (result.errors.length === 0 && existsSync(outfile)) chmodSync(outfile, 0o755);
      });
    },
  };
}

/** Prints a one-line status per rebuild in watch mode (esbuild itself is quiet there). */
function watchLogPlugin(label) {
  return {
    name: 'watch-log',
    setup(build) {
      build.onEnd((result) => {
        const status = result.errors.length ? `${result.errors.length} error(s)` : 'ok';
        console.log(`[build] ${label}: ${status}`);
      });
    },
  };
}

function optionsFor(entry) {
  const outfile = join(root, entry.out);
  const plugins = [];
  if (entry.executable) plugins.push(chmodPlugin(outfile));
  if (watch) plugins.push(watchLogPlugin(entry.out));
  return {
    absWorkingDir: root,
    entryPoints: [join(root, entry.in)],
    outfile,
    bundle: true,
    ...PLATFORMS[entry.platform ?? 'node'],
    sourcemap: true,
    // Less to read and parse at every start; names are kept so stack traces stay readable.
    minifyWhitespace: true,
    minifySyntax: true,
    external: [...ALWAYS_EXTERNAL, ...entry.external],
    banner: entry.executable ? { js: '#!/usr/bin/env node' } : undefined,
    define: { PRUNEMAP_VERSION: JSON.stringify(version) },
    logLevel: 'warning',
    plugins,
  };
}

// Entries whose source does not exist yet (server, extension) are left out quietly.
const present = ENTRIES.filter((e) => existsSync(join(root, e.in)));
if (present.length === 0) {
  console.error('[build] nothing to build: none of the entry sources exist');
  process.exit(1);
}

if (watch) {
  for (const e of present) {
    const ctx = await esbuild.context(optionsFor(e));
    await ctx.watch();
  }
  console.log('[build] watching for changes (Ctrl+C to stop)');
} else {
  const t0 = Date.now();
  try {
    await Promise.all(present.map((e) => esbuild.build(optionsFor(e))));
  } catch {
    // esbuild has already printed the errors with file:line.
    process.exit(1);
  }
  vendorOnnxruntime(root);
  makeCliCodeCache();
  console.log(`[build] ${present.map((e) => e.out).join(', ')} in ${Date.now() - t0} ms`);
}

/**
 * Runs the CLI once on the bundled sample so that V8 writes a code cache of the bundle with the
 * functions a command compiles (see src/cli/launch.ts).
 */
function makeCliCodeCache() {
  const cache = join(root, 'dist/cli-main.js.cache');
  rmSync(cache, { force: true });
  execFileSync(process.execPath, [join(root, 'dist/cli.js'), 'inspect', join(root, 'samples/tiny-cnn.onnx'), '--json'], {
    env: { ...process.env, PRUNEMAP_WRITE_CODE_CACHE: '1' },
    stdio: 'ignore',
  });
}
