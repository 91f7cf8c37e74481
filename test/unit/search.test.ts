// The search's parts that need no model runs, and `prunemap search`'s errors: the sensitivity
// model against hand-computed interpolations, .npy calibration files against numpy's own files
// (.venv-ref), and the CLI's one-line errors for bad flags, an unreachable budget and bad
// calibration paths (the CLI as a user runs it: its source through tsx in a child process).

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readNpy } from '../../src/core/mapper/calibration-data';
import { Prng } from '../../src/core/mapper/prng';
import { probeRatesOf, Sensitivity } from '../../src/core/mapper/sensitivity';

const root = path.resolve(__dirname, '..', '..');
const sample = path.join(root, 'samples', 'fashion-cnn.onnx');
const PYTHON = path.join(root, '.venv-ref', 'bin', 'python');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'src', 'cli', 'main.ts'), 'search', ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const score = (agreement: number, kl = 0) => ({ agreement, kl, fitness: agreement - 0.1 * kl });

test('sensitivity: linear between probes from (0, 0), non-decreasing, last slope beyond', () => {
  // One layer, one option, probes at 0.5 (cost 0.1) and 0.9 (cost 0.3; fitness = 1 − cost).
  const s = new Sensitivity([[[{ rate: 0.5, score: score(0.9) }, { rate: 0.9, score: score(0.7) }]]]);
  assert.equal(s.cost(0, -1, 0.7), 0, 'dense costs nothing');
  assert.ok(Math.abs(s.cost(0, 0, 0.25) - 0.05) < 1e-12); // half-way to the first probe
  assert.ok(Math.abs(s.cost(0, 0, 0.7) - 0.2) < 1e-12); // half-way between the probes
  assert.ok(Math.abs(s.cost(0, 0, 0.95) - 0.325) < 1e-12); // slope 0.5 per unit rate beyond 0.9
  // A probe that scored better at a higher rate (noise) never makes the cost fall.
  const noisy = new Sensitivity([[[{ rate: 0.5, score: score(0.8) }, { rate: 0.75, score: score(0.9) }]]]);
  assert.ok(Math.abs(noisy.cost(0, 0, 0.75) - 0.2) < 1e-12);
  assert.equal(noisy.describe(0, 0), '10.0% agreement drop at 0.75 alone');
});

test('probe rates: the allowed rates nearest 0.5, 0.75 and 0.9, without repeats', () => {
  assert.deepEqual(probeRatesOf([0.05, 0.1, 0.5, 0.55, 0.75, 0.9, 0.95]), [0.5, 0.75, 0.9]);
  assert.deepEqual(probeRatesOf([0.5, 0.75, 0.875]), [0.5, 0.75, 0.875]);
  assert.deepEqual(probeRatesOf([0.85, 0.9, 0.95]), [0.85, 0.9]);
});

test('the seeded generator repeats its sequence and stays in [0, 1)', () => {
  const a = new Prng(7), b = new Prng(7), c = new Prng(8);
  const xs = Array.from({ length: 1000 }, () => a.next());
  assert.deepEqual(xs, Array.from({ length: 1000 }, () => b.next()));
  assert.notDeepEqual(xs.slice(0, 10), Array.from({ length: 10 }, () => c.next()));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  // Roughly uniform: the mean of 1000 draws is within 0.05 of 0.5.
  assert.ok(Math.abs(xs.reduce((s, x) => s + x, 0) / xs.length - 0.5) < 0.05);
});

test('readNpy reads the files numpy.save writes, and refuses other dtypes in one line', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prunemap-npy-'));
  try {
    const py = [
      'import numpy as np, sys',
      'd = sys.argv[1]',
      'a = (np.arange(2*1*3*4, dtype=np.float32).reshape(2, 1, 3, 4) - 7.5) / 3',
      'np.save(d + "/a.npy", a)',
      'np.save(d + "/d.npy", a.astype(np.float64))',
      'np.save(d + "/f.npy", np.asfortranarray(a))',
      'print(",".join(repr(float(x)) for x in a.ravel()))',
    ].join('\n');
    const r = spawnSync(PYTHON, ['-c', py, dir], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const want = r.stdout.trim().split(',').map(Number);
    const { data, dims } = readNpy(path.join(dir, 'a.npy'));
    assert.deepEqual(dims, [2, 1, 3, 4]);
    assert.deepEqual([...data], want);
    assert.throws(() => readNpy(path.join(dir, 'd.npy')), /d\.npy: array dtype is <f8, not little-endian float32\. Save each batch with numpy\.save/);
    assert.throws(() => readNpy(path.join(dir, 'f.npy')), /Fortran order/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('search: bad flags are one-line usage errors (exit 2)', () => {
  const cases: [string[], RegExp][] = [
    [[sample], /give --budget-ms X or --speedup S \(one of them\)/],
    [[sample, '--speedup', '2', '--budget-ms', '0.2'], /give --budget-ms or --speedup, not both/],
    [[sample, '--speedup', '1'], /--speedup must be a number > 1 .*not "1"/],
    [[sample, '--speedup', '0.5'], /--speedup must be a number > 1/],
    [[sample, '--speedup', 'fast'], /--speedup must be a number > 1/],
    [[sample, '--budget-ms=-3'], /--budget-ms must be a positive number of milliseconds, not "-3"/],
    [[sample, '--budget-ms', '0'], /--budget-ms must be a positive number of milliseconds, not "0"/],
    [[sample, '--speedup', '1.2', '--seed', '1.5'], /--seed must be a whole number ≥ 0, not "1\.5"/],
    [[sample, '--speedup', '1.2', '--target', 'pixel9'], /unknown target "pixel9"; known targets: /],
  ];
  for (const [args, message] of cases) {
    const r = cli(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    const lines = r.err.trim().split('\n');
    assert.match(lines[0], /^prunemap: /);
    assert.match(lines[0], message);
    assert.match(lines[1], /^usage: prunemap search MODEL \(--budget-ms X \| --speedup S\)/);
    assert.equal(r.out, '');
  }
});

test('search: an unreachable budget says the best achievable, in one line (exit 1)', () => {
  const map = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'src', 'cli', 'main.ts'), 'map', sample, '--json', '--compression', '8'], { cwd: root, encoding: 'utf8' });
  const rule8 = JSON.parse(map.stdout).summary;
  for (const args of [['--speedup', '50'], ['--budget-ms', String(rule8.denseMs / 50)]]) {
    const r = cli(sample, ...args);
    assert.equal(r.code, 1, r.err);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
    const m = /^prunemap: .*fashion-cnn\.onnx: (50× speedup|[\d.]+ ms) is out of reach on snapdragon855-cpu\. The fastest plan the search can build is ([\d.]+) ms for the prunable layers \(([\d.]+)× of ([\d.]+) ms dense/.exec(r.err);
    assert.ok(m, r.err);
    // The search may prune every layer up to 0.95, so it can go faster than the rule plan at 8×, but not 50×.
    assert.ok(Number(m[3]) > rule8.speedup && Number(m[3]) < 50, r.err);
    assert.ok(Math.abs(Number(m[4]) - rule8.denseMs) < 1e-3, 'the same dense estimate as map');
  }
});

test('search: a bad calibration path is a one-line error (exit 1)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prunemap-calib-'));
  try {
    const junk = path.join(dir, 'junk.bin');
    fs.writeFileSync(junk, 'not a slice');
    const cases: [string, RegExp][] = [
      [path.join(dir, 'missing'), /missing: calibration path not found\. Give a folder of \.npy float32 batches or a fashion-mnist slice file/],
      [dir, /no \.npy files in the calibration folder/],
      [junk, /junk\.bin: not a fashion-mnist slice file \(no FMS1 header\)/],
    ];
    for (const [where, message] of cases) {
      const r = cli(sample, '--speedup', '1.1', '--calibration', where);
      assert.equal(r.code, 1, r.err);
      assert.equal(r.err.trim().split('\n').length, 1, r.err);
      assert.match(r.err, message);
      assert.equal(r.out, '');
    }
    // A batch of the wrong shape names the file and the model's input.
    const py = `import numpy as np; np.save("${dir}/b0.npy", np.zeros((4, 3, 28, 28), np.float32))`;
    assert.equal(spawnSync(PYTHON, ['-c', py]).status, 0);
    fs.rmSync(junk);
    const r = cli(sample, '--speedup', '1.1', '--calibration', dir);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /b0\.npy: batch shape \[4, 3, 28, 28\] does not fit model input "image" \[\w+, 1, 28, 28\]/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
