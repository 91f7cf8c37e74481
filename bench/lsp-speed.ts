// Benchmark: the language server's speed as an editor feels it, over real JSON-RPC against
// `node dist/server.js --stdio` (the test suite's client, test/lsp/support/client.ts), on a text
// view of DenseNet-121 by default. Run through bench/lsp-speed.sh. Goals (the issue's):
//   first inlay hints ≤ 1 s after the prunemap/textView request, in a fresh server (cold: the
//     figure includes analysing the model — decode, layers, text view, rule-based plan);
//   hover p95 ≤ 20 ms, over every layer's line, several rounds;
//   override refresh ≤ 100 ms: prunemap/setLayer sent → the server's workspace/inlayHint/refresh
//     request → the inlay hints the client then asks for, received.
// Times are client-side round trips (pipe and JSON included). CPU time of the server is not shown:
// wall time is what the goal is about; rerun on a busy machine.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LspClient, ROOT, fileUri } from '../test/lsp/support/client';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args.splice(i, 2)[1] : fallback;
};
const colds = Number(opt('--cold', '5'));
const rounds = Number(opt('--rounds', '5'));
const overrides = Number(opt('--overrides', '20'));
const jsonOut = opt('--json-out', '');
const model = path.resolve(args[0] ?? path.join(ROOT, 'test', 'corpora', 'torchvision', 'densenet121.onnx'));

const now = () => performance.now();
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const quantile = (xs: number[], q: number) => sorted(xs)[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)];
const median = (xs: number[]) => quantile(xs, 0.5);
const f = (x: number) => x.toFixed(1).padStart(7);

/** prunemap/textView → didOpen → first inlay hints, in a fresh server. */
async function firstHints(): Promise<{ ms: number; hints: number; lines: number }> {
  const client = await LspClient.start();
  try {
    const t0 = now();
    const view = await client.openTextView(model);
    const hints = await client.inlayHints(view.uri);
    return { ms: now() - t0, hints: hints.length, lines: view.text.split('\n').length };
  } finally {
    await client.stop();
  }
}

async function main(): Promise<void> {
  if (!fs.existsSync(model)) throw new Error(`no model ${model} (the default comes from \`npm run setup:reference\`)`);
  const cold: { ms: number; hints: number; lines: number }[] = [];
  for (let i = 0; i < colds; i++) cold.push(await firstHints());

  const client = await LspClient.start();
  const view = await client.openTextView(model);
  const hints = await client.inlayHints(view.uri);
  const lines = hints.map((h) => h.position.line);

  // Hover on every layer's line, `rounds` times (the first round is warm already: the text view was analysed).
  const hover: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const line of lines) {
      const t = now();
      const h = await client.hover(view.uri, line);
      hover.push(now() - t);
      if (!h) throw new Error(`no hover on line ${line}`);
    }
  }

  // Overrides: setLayer → refresh request → inlay hints received. Alternate two rates on layers across the model.
  const analysis = await client.request('prunemap/analyze', { uri: fileUri(model) });
  const prunable = Object.entries<any>(analysis.plan.layers).filter(([, e]) => e.feasibleSchemes.includes('unstructured')).map(([id]) => id);
  const refresh: number[] = [];
  for (let i = 0; i < overrides; i++) {
    const layer = prunable[(i * 7) % prunable.length];
    const mark = client.mark();
    const t = now();
    await client.request('prunemap/setLayer', { uri: view.uri, layer, scheme: 'unstructured', rate: i % 2 ? 0.8 : 0.9 });
    await client.waitFor('request', (r) => r.method === 'workspace/inlayHint/refresh', mark.requests);
    const fresh = await client.inlayHints(view.uri);
    refresh.push(now() - t);
    if (fresh.length !== hints.length) throw new Error('hints changed in number after an override');
  }
  await client.stop();

  const coldMs = cold.map((c) => c.ms);
  const figures = {
    model, layers: hints.length, textLines: cold[0].lines,
    firstHintsMs: { median: median(coldMs), runs: coldMs },
    hoverMs: { p50: median(hover), p95: quantile(hover, 0.95), max: Math.max(...hover), count: hover.length },
    overrideRefreshMs: { p50: median(refresh), p95: quantile(refresh, 0.95), max: Math.max(...refresh), count: refresh.length },
  };
  const verdict = (x: number, goal: number) => (x <= goal ? 'met' : 'NOT met');
  console.log(`model     ${model}`);
  console.log(`          ${hints.length} prunable layers (one hint each) · text view of ${cold[0].lines} lines`);
  console.log(`machine   ${os.cpus().length} CPUs · load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} · node ${process.version}`);
  console.log('');
  console.log('                                     measured        goal');
  console.log(`first inlay hints (fresh server)  ${f(figures.firstHintsMs.median)} ms    ≤ 1000 ms   ${verdict(figures.firstHintsMs.median, 1000)}  (median of ${colds}: ${coldMs.map((x) => x.toFixed(0)).join(', ')} ms)`);
  console.log(`hover p95                         ${f(figures.hoverMs.p95)} ms    ≤   20 ms   ${verdict(figures.hoverMs.p95, 20)}  (p50 ${figures.hoverMs.p50.toFixed(2)} ms, max ${figures.hoverMs.max.toFixed(1)} ms, ${hover.length} hovers)`);
  console.log(`override refresh p95              ${f(figures.overrideRefreshMs.p95)} ms    ≤  100 ms   ${verdict(figures.overrideRefreshMs.p95, 100)}  (p50 ${figures.overrideRefreshMs.p50.toFixed(1)} ms, max ${figures.overrideRefreshMs.max.toFixed(1)} ms, ${refresh.length} overrides)`);
  if (jsonOut) {
    fs.writeFileSync(jsonOut, JSON.stringify(figures, null, 2) + '\n');
    console.log(`\nfigures written to ${jsonOut}`);
  }
}

main().catch((err) => {
  console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
