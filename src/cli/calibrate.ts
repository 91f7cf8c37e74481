// `prunemap calibrate [--out FILE] [--quick] [--threads N] [--json]`: times generated kernels on
// this machine and fits a measured host-cpu latency profile (docs/latency.md "Measuring host-cpu").
// Without --out nothing is written: the fitted figures are printed. The profile file is written
// atomically (temporary sibling, then rename); a bad --out folder fails before any timing.

import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { calibrate, type Calibration } from '../core/latency/calibrate';
import { ModelError } from '../core/errors';
import { layerClasses } from '../core/latency/profiles';
import { parse, toJson, UsageError, type Command } from './command';
import { table } from './format';

export const calibrateCommand: Command = {
  name: 'calibrate',
  usage: 'calibrate [--out FILE] [--quick] [--threads N] [--rounds N] [--json]',
  summary: 'times generated kernels here and fits a measured host-cpu latency profile',
  run(args) {
    const { values } = parse(args, { out: { type: 'string', short: 'o' }, quick: { type: 'boolean' }, threads: { type: 'string' }, rounds: { type: 'string' }, json: { type: 'boolean' } }, []);
    if (values.help) return help();
    const threads = values.threads === undefined ? 1 : Number(values.threads);
    if (!Number.isInteger(threads) || threads < 1 || threads > 1024) throw new UsageError(`--threads needs a positive integer, got "${values.threads}"`);
    const rounds = values.rounds === undefined ? undefined : Number(values.rounds);
    if (rounds !== undefined && (!Number.isInteger(rounds) || rounds < 1 || rounds > 200)) throw new UsageError(`--rounds needs an integer from 1 to 200, got "${values.rounds}"`);
    const out = values.out === undefined ? undefined : path.resolve(values.out);
    if (out) checkOutputFolder(out);
    const result = calibrate({ quick: values.quick, threads, rounds });
    const text = JSON.stringify(result.profile, null, 2) + '\n';
    if (out) writeAtomically(out, text);
    if (values.json) process.stdout.write(toJson({ output: out ?? null, profile: result.profile, fit: { mape: result.fit.mape, rmsLogError: result.fit.rmsLogError }, timings: timings(result) }) + '\n');
    else process.stdout.write(render(result, out));
    return 0;
  },
};

function timings(r: Calibration) {
  return r.harness.timed.map((t) => ({ label: t.case.label, geometry: t.case.geometry, scheme: t.spec === 'dense' ? 'dense' : t.spec.scheme, block: t.spec === 'dense' ? null : t.spec.block, rate: t.spec === 'dense' ? 0 : t.spec.rate, ms: t.ms }));
}

/** The folder must exist and be writable, checked before minutes of timing are spent. */
function checkOutputFolder(file: string): void {
  const dir = path.dirname(file);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dir);
  } catch {
    throw new ModelError('the folder does not exist', dir, 'Create it or choose another --out.');
  }
  if (!stat.isDirectory()) throw new ModelError('is not a folder', dir, 'Choose another --out.');
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    throw new ModelError('the folder is not writable', dir, 'Choose another --out.');
  }
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw new ModelError('is a folder, not a file', file, 'Give --out a file name, e.g. host-cpu.json.');
}

/** Temporary sibling, fsync, rename: readers see the old file or the whole new one. */
function writeAtomically(file: string, text: string): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fd = fs.openSync(tmp, 'wx', 0o644);
    try {
      fs.writeFileSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    try { fs.unlinkSync(tmp); } catch { /* never created, or renamed */ }
    throw new ModelError(`cannot write the profile (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, file, 'Choose another --out.');
  }
}

function render(r: Calibration, out: string | undefined): string {
  const p = r.profile;
  const rows = layerClasses.map((c) => [c, p.dense[c].eff.toFixed(3), p.dense[c].why.startsWith('Measured') ? 'measured' : 'modelled']);
  const bp = p.sparse['block-punched'], bcr = p.sparse['block-bcr'];
  return [
    `timed ${r.harness.timed.length} generated kernels on ${r.threads} thread${r.threads > 1 ? 's' : ''} (${r.harness.compileCommand})`,
    `fit: ${(r.fit.mape * 100).toFixed(1)}% mean absolute error in-sample (${r.fit.rmsLogError.toFixed(3)} rms log)`,
    '',
    table(['dense class', 'efficiency', 'basis'], rows, [1]),
    '',
    `block-punched keep: floor ${bp.floor} · max ${bp.max} · saturateAt ${bp.saturateAt}`,
    `block-bcr keep: floor ${bcr.floor} · max ${bcr.max} · saturateAt ${bcr.saturateAt}`,
    `keep: ${(['filter', 'channel', 'pattern', 'nm', 'unstructured'] as const).map((s) => `${s} ${p.sparse[s].keep}${p.sparse[s].why.startsWith('Measured') ? '' : ' (modelled)'}`).join(' · ')}`,
    `overhead ${p.overheadMs} ms per layer · overlap ${p.overlap ?? 1} · bandwidth ${p.bandwidthGBs} GB/s (measured) · peak ${p.peakGmacs} GMAC/s (nominal)`,
    out ? `wrote ${out}` : 'not written (give --out FILE to save the profile)',
    '',
  ].join('\n');
}

function help(): number {
  process.stdout.write([
    'usage: prunemap calibrate [--out FILE] [--quick] [--threads N] [--rounds N] [--json]',
    '',
    'Times the code generator\'s Conv kernels (dense and every scheme, real networks\' layer shapes)',
    'in one program compiled with $CC $CFLAGS (default cc -O3 -march=native), then fits the latency',
    'model to the timings: a host-cpu profile with basis "measured". --out FILE writes it (atomically);',
    'without it the fitted figures are only printed. --quick: fewer shapes (seconds instead of a few',
    'minutes). --threads N: kernels on N OpenMP threads (default 1, as `prunemap codegen`).',
    '--rounds N: sampling rounds over all kernels (default 5, about 9 s each): on a shared machine',
    'whose speed drifts, more rounds spread each kernel\'s samples over more time (25: ~4 minutes).',
    '--json prints the profile, the fit and every timing. See docs/latency.md.',
  ].join('\n') + '\n');
  return 0;
}
