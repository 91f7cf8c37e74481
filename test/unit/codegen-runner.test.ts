// The standalone runner's bench mode (codegen/runner.ts), compiled with the real compiler against a
// stand-in model: the unit under test is the runner's timing protocol, so the model here is a
// hand-written C file whose layers log each call (and one of them takes about 1 ms). Checks: a
// layer's sparse and dense kernels alternate call by call, a short layer gets more reps than asked
// (up to 320), a long one gets exactly the reps asked, and the printed medians are those of the
// kernels' real durations.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RUNNER_C } from '../../src/core/codegen/runner';

/** The generated header's declarations (emit-model.ts), which the runner includes. */
const API = `int prunemap_model_load(const char *weights_path);
void prunemap_model_run(const float *in, float *out);
int prunemap_input_size(void);
int prunemap_output_size(void);
int prunemap_layer_count(void);
void prunemap_layer_run(int i, int dense);
`;

const STAND_IN_MODEL = `#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "prunemap_model.h"
static void spin_ms(double ms) {
  struct timespec a, b; clock_gettime(CLOCK_MONOTONIC, &a);
  do clock_gettime(CLOCK_MONOTONIC, &b); while ((b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6 < ms);
}
/* The call log is kept in memory and printed at exit, so logging costs no time inside a timed call. */
static char calls[1 << 16];
static int n_calls;
static void print_calls(void) { fwrite(calls, 1, n_calls, stderr); }
int prunemap_model_load(const char *p) { (void)p; atexit(print_calls); return 0; }
void prunemap_model_run(const float *in, float *out) { out[0] = in[0]; }
int prunemap_input_size(void) { return 4; }
int prunemap_output_size(void) { return 4; }
int prunemap_layer_count(void) { return 2; }
/* Layer 0 is instant; layer 1 takes 1 ms sparse and 2 ms dense. Each call logs "<layer><s|d>". */
void prunemap_layer_run(int i, int dense) {
  if (i == 1) spin_ms(dense ? 2.0 : 1.0);
  if (n_calls + 3 <= (int)sizeof calls) { calls[n_calls++] = (char)('0' + i); calls[n_calls++] = dense ? 'd' : 's'; calls[n_calls++] = '\\n'; }
}
`;

test('runner bench: sparse and dense alternate; short layers get more reps, long ones the reps asked', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prunemap-runner-'));
  try {
    fs.writeFileSync(path.join(dir, 'main.c'), RUNNER_C);
    fs.writeFileSync(path.join(dir, 'model.c'), STAND_IN_MODEL);
    fs.writeFileSync(path.join(dir, 'prunemap_model.h'), API);
    const cc = spawnSync(process.env.CC ?? 'cc', ['-O2', '-o', 'run', 'main.c', 'model.c'], { cwd: dir, encoding: 'utf8' });
    assert.equal(cc.status, 0, cc.stderr);
    const r = spawnSync(path.join(dir, 'run'), ['weights', 'bench', '10'], { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);

    const calls = r.stderr.trim().split('\n');
    const of = (layer: number) => calls.filter((c) => c[0] === String(layer)).map((c) => c[1]).join('');
    // One warm-up call of each kernel, then (sparse, dense) pairs.
    const pairs = (log: string) => log.slice(2).match(/sd/g)?.length ?? 0;
    for (const layer of [0, 1]) {
      const log = of(layer);
      assert.equal(log.slice(0, 2), 'sd', `layer ${layer} warms up sparse, then dense`);
      assert.match(log.slice(2), /^(sd)+$/, `layer ${layer} alternates sparse and dense`);
    }
    assert.equal(pairs(of(0)), 320, 'an instant layer is timed 320 times, not 10');
    assert.equal(pairs(of(1)), 10, 'a 1 ms layer: 10 reps already take 10 ms ≥ 5 ms');

    const lines = r.stdout.trim().split('\n').map((l) => l.split(' '));
    const layer1 = lines.find((l) => l[0] === 'layer' && l[1] === '1')!;
    const [sparse, dense] = [Number(layer1[2]), Number(layer1[3])];
    assert.ok(sparse >= 1 && sparse < 1.5, `layer 1 sparse median ${sparse} ms, spun 1 ms`);
    assert.ok(dense >= 2 && dense < 2.5, `layer 1 dense median ${dense} ms, spun 2 ms`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
