// The registry: every scheme id but dense resolves to its scheme, and every scheme rejects a rate
// outside [0, 1) with the same sentence.

import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { allSchemes, getScheme, schemeIds } from '../../../src/core/schemes/registry';
import type { SchemeSpec } from '../../../src/core/schemes/scheme';
import { geometry } from './geometry';

test('every id except dense resolves to the scheme with that id; unknown ids do not', () => {
  for (const id of schemeIds) {
    const s = getScheme(id);
    if (id === 'dense') assert.equal(s, undefined);
    else {
      assert.equal(s?.id, id);
      assert.ok(s && s.summary.length > 0);
    }
  }
  assert.deepEqual(allSchemes().map((s) => s.id), schemeIds.filter((id) => id !== 'dense'));
  assert.equal(getScheme('magnitude'), undefined);
});

test('every scheme rejects a missing rate or one outside [0, 1) first, whatever its other parameters', () => {
  const g = geometry('Conv', [8, 4, 3, 3]);
  for (const s of allSchemes()) {
    for (const rate of [1.2, 1, -0.5, NaN]) {
      const spec: SchemeSpec = { scheme: s.id, rate, block: [4, 2], n: 2, m: 4 };
      assert.deepEqual(s.feasible(g, spec), { ok: false, reason: `rate ${rate} is outside [0, 1)` }, `${s.id} at ${rate}`);
    }
    const missing = { scheme: s.id, block: [4, 2], n: 2, m: 4 } as unknown as SchemeSpec;
    assert.deepEqual(s.feasible(g, missing), { ok: false, reason: 'the rate is missing: give the fraction of weights to prune, in [0, 1)' });
  }
});
