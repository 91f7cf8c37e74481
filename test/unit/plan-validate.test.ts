// Plan validation against a real model (samples/tiny-cnn.onnx: stem, block1.conv3x3,
// block2.depthwise, block2.pointwise, classifier): one test per kind of problem, checking the
// severity, the JSON pointer and the words of the message (docs/plan.md lists them).

import { after, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { findLayers } from '../../src/core/layers';
import { loadModel, loadModelFromBytes } from '../../src/core/onnx/load';
import { closest, editDistance, formatProblem, validatePlan, validatePlanText, type Problem } from '../../src/core/plan-validate';
import { attr, filledTensor, graph, modelBytes, node, valueInfo } from '../support/build-model';

const SAMPLE = path.resolve(__dirname, '..', '..', 'samples', 'tiny-cnn.onnx');
const loaded = loadModel(SAMPLE);
after(() => loaded.close());
const layers = findLayers(loaded.model, loaded.tensors);
const options = { modelPath: SAMPLE };

function check(json: unknown, opts: Partial<typeof options> & { modelSha256?: string; planPath?: string } = {}) {
  return validatePlan(json, loaded.model, layers, { ...options, ...opts });
}

function planWith(layerEntries: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return { model: 'tiny-cnn.onnx', target: 'host-cpu', layers: layerEntries, ...extra };
}

/** The one problem at `pointer` (fails when there is none or several). */
function at(problems: readonly Problem[], pointer: string): Problem {
  const found = problems.filter((p) => p.path === pointer);
  assert.equal(found.length, 1, `expected one problem at ${pointer}; got ${JSON.stringify(problems, null, 1)}`);
  return found[0];
}

const errors = (problems: readonly Problem[]) => problems.filter((p) => p.severity === 'error');

const GOOD = planWith({
  stem: { scheme: 'dense', reason: 'first conv (C = 1)' },
  'block1.conv3x3': { scheme: 'pattern', patterns: 6, rate: 0.7 },
  'block2.depthwise': { scheme: 'filter', rate: 0.25 },
  'block2.pointwise': { scheme: 'block-punched', block: [8, 4], rate: 0.75, latency: { denseMs: 0.2, prunedMs: 0.07 } },
  classifier: { scheme: 'nm', n: 2, m: 4, rate: 0.5 },
}, { modelSha256: 'ab'.repeat(32), summary: { denseMs: 1, prunedMs: 0.5, speedup: 2, compression: 2.5 } });

describe('a valid plan', () => {
  test('has no problems and comes back with dense rates filled in', () => {
    const r = check(GOOD, { modelSha256: 'AB'.repeat(32) }); // hash compared without case
    assert.deepEqual(r.problems, []);
    assert.ok(r.plan);
    assert.deepEqual(r.plan.layers.stem, { scheme: 'dense', rate: 0, reason: 'first conv (C = 1)' });
    assert.deepEqual(r.plan.layers.classifier, { scheme: 'nm', n: 2, m: 4, rate: 0.5 });
    assert.equal(r.plan.summary?.speedup, 2);
    assert.equal(r.plan.modelSha256, 'ab'.repeat(32));
  });

  test('an empty layers object is a valid plan that prunes nothing', () => {
    const r = check(planWith({}));
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.plan?.layers, {});
  });
});

describe('shape of the document', () => {
  test('not an object', () => {
    for (const [value, words] of [[[1, 2], 'the array [1,2]'], [null, 'null'], ['plan', 'the string "plan"'], [3, 'the number 3']] as const) {
      const r = check(value);
      assert.equal(r.plan, undefined);
      assert.equal(at(r.problems, '').message, `a plan is a JSON object with "model", "target" and "layers"; this is ${words}`);
    }
  });

  test('missing fields are named, each at its own pointer', () => {
    const r = check({});
    assert.match(at(r.problems, '/model').message, /^missing "model": the model file's name/);
    assert.match(at(r.problems, '/target').message, /^missing "target": the device profile/);
    assert.match(at(r.problems, '/layers').message, /^missing "layers": an object from layer id to its scheme/);
    assert.equal(r.problems.length, 3);
  });

  test('wrong types say what was expected and what was found', () => {
    const r = check({ model: 3, target: '', layers: [], $schema: 7 });
    assert.equal(at(r.problems, '/model').message, '"model" must be the model file\'s name, e.g. "resnet18.onnx", not the number 3');
    assert.equal(at(r.problems, '/target').message, '"target" must be the device profile the plan is for, e.g. "host-cpu", not the string ""');
    assert.match(at(r.problems, '/layers').message, /^"layers" must be an object from layer id to its scheme, not the array \[\]/);
    assert.match(at(r.problems, '/$schema').message, /"\$schema" must be a string/);
  });

  test('entry fields of the wrong type', () => {
    const r = check(planWith({
      stem: { scheme: 'unstructured', rate: '0.5' },
      'block1.conv3x3': { scheme: 3, rate: 0.5 },
      'block2.pointwise': { scheme: 'block-punched', block: [8], rate: 0.5 },
      classifier: { scheme: 'nm', n: 2.5, m: 4, rate: 0.5, reason: 42 },
      'block2.depthwise': 'filter',
    }));
    assert.equal(at(r.problems, '/layers/stem/rate').message, '"rate" must be a number in [0, 1), not the string "0.5"');
    assert.match(at(r.problems, '/layers/block1.conv3x3/scheme').message, /^"scheme" must be a string \(one of dense, unstructured, /);
    assert.equal(at(r.problems, '/layers/block2.pointwise/block').message, '"block" must be two positive integers such as [8, 4], not the array [8]');
    assert.equal(at(r.problems, '/layers/classifier/n').message, '"n" must be an integer ≥ 1, not the number 2.5');
    assert.equal(at(r.problems, '/layers/classifier/reason').message, '"reason" must be a string, not the number 42');
    assert.match(at(r.problems, '/layers/block2.depthwise').message, /^a layer entry is an object such as \{"scheme": "block-punched", "block": \[8, 4\], "rate": 0.75\}, not the string "filter"/);
  });

  test('unknown properties are errors, with the closest known name', () => {
    const r = check({ ...planWith({ stem: { scheme: 'filter', rate: 0.5, bloc: [8, 4] } }), layer: {}, modelSHA256: 'x' });
    assert.match(at(r.problems, '/layer').message, /^unknown property "layer"; did you mean "layers"\? \(a plan has \$schema, model, modelSha256, target, layers, summary\)/);
    assert.match(at(r.problems, '/modelSHA256').message, /did you mean "modelSha256"\?/);
    assert.match(at(r.problems, '/layers/stem/bloc').message, /^unknown property "bloc"; did you mean "block"\? \(a layer entry has scheme, rate, block, /);
  });

  test('summary and latency: numbers ≥ 0, all four summary fields, compression ≥ 1', () => {
    const r = check(planWith(
      { stem: { scheme: 'filter', rate: 0.5, latency: { denseMs: -1, prunedMs: 0.1 } } },
      { summary: { denseMs: 1, prunedMs: 1, speedup: 1 } },
    ));
    assert.equal(at(r.problems, '/layers/stem/latency/denseMs').message, '"denseMs" must be a number ≥ 0, not the number -1');
    assert.equal(at(r.problems, '/summary/compression').message, 'missing "compression"');
    const low = check(planWith({}, { summary: { denseMs: 1, prunedMs: 1, speedup: 1, compression: 0.5 } }));
    assert.match(at(low.problems, '/summary/compression').message, /at least 1; this says 0.5/);
  });

  test('modelSha256 must be 64 hex digits', () => {
    const r = check(planWith({}, { modelSha256: 'abc' }));
    assert.equal(at(r.problems, '/modelSha256').message, '"modelSha256" must be the model file\'s SHA-256: 64 hex digits (this has 3 characters)');
  });
});

describe('layer ids', () => {
  test('an unknown id suggests the closest layer id', () => {
    const r = check(planWith({ stemm: { scheme: 'filter', rate: 0.5 }, 'block2.pointwize': { scheme: 'filter', rate: 0.5 } }));
    assert.equal(at(r.problems, '/layers/stemm').message, 'no layer "stemm" in tiny-cnn.onnx; did you mean "stem"?');
    assert.equal(at(r.problems, '/layers/block2.pointwize').message, 'no layer "block2.pointwize" in tiny-cnn.onnx; did you mean "block2.pointwise"?');
    assert.equal(r.plan, undefined);
  });

  test('an id far from every layer points to `prunemap inspect`', () => {
    const r = check(planWith({ 'features.0': { scheme: 'filter', rate: 0.5 } }));
    assert.equal(at(r.problems, '/layers/features.0').message, 'no layer "features.0" in tiny-cnn.onnx (`prunemap inspect tiny-cnn.onnx` lists its 5 layers)');
  });

  test('a weight name and a non-prunable node are explained', () => {
    const r = check(planWith({ 'block1.w': { scheme: 'filter', rate: 0.5 }, stem_relu: { scheme: 'filter', rate: 0.5 } }));
    assert.equal(at(r.problems, '/layers/block1.w').message, 'no layer "block1.w" in tiny-cnn.onnx: "block1.w" is the weight of layer "block1.conv3x3"; plans name a layer by its node\'s name (see docs/cli.md)');
    assert.equal(at(r.problems, '/layers/stem_relu').message, 'no layer "stem_relu" in tiny-cnn.onnx: it is a Relu node, which has no prunable weight');
  });

  test('a Conv whose weight is computed at run time is not a layer, and says why', () => {
    const bytes = modelBytes(graph({
      node: [node('Relu', ['w0'], ['w']), node('Conv', ['x', 'w'], ['y'], [], 'dyn')],
      initializer: [filledTensor('w0', [4, 2, 1, 1])],
      input: [valueInfo('x', 1, [1, 2, 3, 3])],
    }));
    const { model, tensors } = loadModelFromBytes('/virtual/dyn.onnx', bytes);
    const r = validatePlan(planWith({ dyn: { scheme: 'filter', rate: 0.5 } }), model, findLayers(model, tensors), { modelPath: '/virtual/dyn.onnx' });
    assert.equal(at(r.problems, '/layers/dyn').message, 'no layer "dyn" in dyn.onnx: it is a Conv node, but its weight is computed at run time, not a constant, so it is not prunable');
  });

  test('ids with "/" and "~" are escaped in pointers (RFC 6901), and "__proto__" is just a key', () => {
    const bytes = modelBytes(graph({
      node: [node('Conv', ['x', 'w'], ['h'], [attr.ints('kernel_shape', [1, 1])], '/conv1/Conv'), node('Conv', ['h', 'v'], ['y'], [], 'a~b')],
      initializer: [filledTensor('w', [8, 4, 1, 1]), filledTensor('v', [8, 8, 1, 1])],
      input: [valueInfo('x', 1, [1, 4, 2, 2])],
    }));
    const { model, tensors } = loadModelFromBytes('/virtual/pt.onnx', bytes);
    const ls = findLayers(model, tensors);
    const json = JSON.parse('{"model": "pt.onnx", "target": "t", "layers": {"/conv1/Conv": {"scheme": "filter", "rate": 2}, "a~b": {"scheme": "filter", "rate": 0.5}, "__proto__": {"scheme": "filter", "rate": 0.5}}}');
    const r = validatePlan(json, model, ls, { modelPath: '/virtual/pt.onnx' });
    assert.match(at(r.problems, '/layers/~1conv1~1Conv/rate').message, /^rate 2 is outside \[0, 1\)/);
    assert.match(at(r.problems, '/layers/__proto__').message, /^no layer "__proto__" in pt.onnx/);
    const ok = validatePlan(JSON.parse('{"model": "pt.onnx", "target": "t", "layers": {"/conv1/Conv": {"scheme": "filter", "rate": 0.5}, "a~b": {"scheme": "channel", "rate": 0.5}}}'), model, ls, { modelPath: '/virtual/pt.onnx' });
    assert.deepEqual(ok.problems, []);
    assert.deepEqual(Object.keys(ok.plan!.layers), ['/conv1/Conv', 'a~b']);
    assert.equal(({} as Record<string, unknown>).scheme, undefined, 'no prototype pollution');
  });
});

describe('schemes and their parameters', () => {
  test('an unknown scheme lists the valid ones and suggests the closest', () => {
    const r = check(planWith({ stem: { scheme: 'blockpunched', rate: 0.5 }, classifier: { scheme: 'magic', rate: 0.5 } }));
    assert.equal(at(r.problems, '/layers/stem/scheme').message, 'unknown scheme "blockpunched"; did you mean "block-punched"? Schemes: dense, unstructured, filter, channel, pattern, block-punched, block-bcr, nm');
    assert.equal(at(r.problems, '/layers/classifier/scheme').message, 'unknown scheme "magic" Schemes: dense, unstructured, filter, channel, pattern, block-punched, block-bcr, nm');
  });

  test('missing scheme, rate, block, n and m', () => {
    const r = check(planWith({
      stem: { rate: 0.5 },
      'block1.conv3x3': { scheme: 'filter' },
      'block2.pointwise': { scheme: 'block-punched', rate: 0.5 },
      classifier: { scheme: 'nm', rate: 0.5 },
      'block2.depthwise': { scheme: 'block-bcr', rate: 0.5 },
    }));
    assert.match(at(r.problems, '/layers/stem/scheme').message, /^missing "scheme": one of dense, /);
    assert.equal(at(r.problems, '/layers/block1.conv3x3/rate').message, 'missing "rate": the fraction of the layer\'s weights to set to zero, in [0, 1)');
    assert.equal(at(r.problems, '/layers/block2.pointwise/block').message, 'missing "block": block-punched needs [filters, input channels] per block, e.g. [8, 4]');
    assert.equal(at(r.problems, '/layers/block2.depthwise/block').message, 'missing "block": block-bcr needs [rows, columns] of the weight matrix per block, e.g. [4, 16]');
    assert.match(at(r.problems, '/layers/classifier/n').message, /^missing "n": nm keeps n of every m/);
    assert.match(at(r.problems, '/layers/classifier/m').message, /^missing "m"/);
  });

  test('rate out of range', () => {
    const r = check(planWith({
      stem: { scheme: 'unstructured', rate: 1 },
      'block1.conv3x3': { scheme: 'unstructured', rate: -0.1 },
      'block2.pointwise': { scheme: 'unstructured', rate: 1.2 },
    }));
    assert.equal(at(r.problems, '/layers/stem/rate').message, 'rate 1 is outside [0, 1): it is the fraction of the layer\'s weights set to zero (1 would remove the whole layer)');
    assert.equal(at(r.problems, '/layers/block1.conv3x3/rate').message, 'rate -0.1 is outside [0, 1): it is the fraction of the layer\'s weights set to zero');
    assert.match(at(r.problems, '/layers/block2.pointwise/rate').message, /^rate 1.2 is outside/);
  });

  test('a dense layer has rate 0', () => {
    const r = check(planWith({ stem: { scheme: 'dense', rate: 0.5 } }));
    assert.equal(at(r.problems, '/layers/stem/rate').message, 'a dense layer has rate 0 (it is not pruned); this says the number 0.5. Choose a scheme to prune it');
  });

  test('nm: n must be smaller than m', () => {
    const r = check(planWith({ classifier: { scheme: 'nm', n: 4, m: 4, rate: 0.5 } }));
    assert.equal(at(r.problems, '/layers/classifier/n').message, 'n (4) must be smaller than m (4): nm keeps n of every m weights');
  });

  test('library entries must be distinct 9-bit masks', () => {
    const r = check(planWith({ 'block1.conv3x3': { scheme: 'pattern', rate: 0.7, library: [27, 512, 27] } }));
    assert.equal(at(r.problems, '/layers/block1.conv3x3/library/1').message, 'library entry the number 512 is not a 9-bit mask (an integer from 0 to 511)');
    assert.equal(at(r.problems, '/layers/block1.conv3x3/library/2').message, 'library entry 27 appears twice');
  });

  test('a parameter the scheme does not use is a warning, and the plan is still good', () => {
    const r = check(planWith({ classifier: { scheme: 'nm', n: 2, m: 4, rate: 0.5, block: [8, 4] } }));
    const w = at(r.problems, '/layers/classifier/block');
    assert.equal(w.severity, 'warning');
    assert.equal(w.message, '"block" is not used by scheme nm (only by block-punched and block-bcr); it is ignored');
    assert.ok(r.plan);
  });

  test('patterns and library of different sizes: a warning', () => {
    const r = check(planWith({ 'block1.conv3x3': { scheme: 'pattern', rate: 0.7, patterns: 6, library: [27, 54] } }));
    const w = at(r.problems, '/layers/block1.conv3x3/patterns');
    assert.equal(w.severity, 'warning');
    assert.equal(w.message, '"patterns" is 6 but "library" has 2 shapes; the library is used as it is');
  });
});

describe('feasibility (the scheme\'s own reason)', () => {
  test('pattern on a depthwise conv: error at /scheme with the layer described', () => {
    const r = check(planWith({ 'block2.depthwise': { scheme: 'pattern', rate: 0.7 } }));
    const e = at(r.problems, '/layers/block2.depthwise/scheme');
    assert.equal(e.severity, 'error');
    assert.match(e.message, /^pattern cannot prune layer "block2.depthwise" \(Conv 3×3, 32 groups, weight \[32, 1, 3, 3\]\): pattern pruning needs a 3×3 kernel and group 1; this layer is depthwise$/);
  });

  test('pattern on a Gemm, and below its 5/9 rate floor (pointed at /rate)', () => {
    const r = check(planWith({ classifier: { scheme: 'pattern', rate: 0.7 }, 'block1.conv3x3': { scheme: 'pattern', rate: 0.5 } }));
    assert.match(at(r.problems, '/layers/classifier/scheme').message, /^pattern cannot prune layer "classifier" \(Gemm, weight \[10, 64\]\): /);
    assert.match(at(r.problems, '/layers/block1.conv3x3/rate').message, /^pattern cannot prune layer "block1.conv3x3" .*: .*5\/9/);
  });

  test('a block larger than the layer: error at /block', () => {
    const r = check(planWith({ classifier: { scheme: 'block-punched', block: [16, 4], rate: 0.5 } }));
    const e = at(r.problems, '/layers/classifier/block');
    assert.match(e.message, /^block-punched cannot prune layer "classifier" \(Gemm, weight \[10, 64\]\): block 16×4 is larger than this layer's 10 outputs/);
  });

  test('a block that does not divide the layer: the scheme\'s note becomes a warning', () => {
    const r = check(planWith({ 'block2.pointwise': { scheme: 'block-punched', block: [24, 4], rate: 0.5 } }));
    const w = at(r.problems, '/layers/block2.pointwise/block');
    assert.equal(w.severity, 'warning');
    assert.match(w.message, /^layer "block2.pointwise" \(Conv 1×1, weight \[64, 32, 1, 1\]\): last filter block has 16 rows/);
    assert.ok(r.plan, 'a warning does not stop the plan');
  });

  test('nm with a rate that is not 1 − n/m: error at /rate', () => {
    const r = check(planWith({ classifier: { scheme: 'nm', n: 2, m: 4, rate: 0.25 } }));
    assert.match(at(r.problems, '/layers/classifier/rate').message, /^nm cannot prune layer "classifier" .*2:4 sparsity prunes exactly 0.5 of the weights; rate 0.25 does not match/);
  });

  test('every scheme is registered: none reports "not available"', () => {
    const r = check(planWith({
      stem: { scheme: 'unstructured', rate: 0.5 },
      'block1.conv3x3': { scheme: 'block-bcr', block: [4, 16], rate: 0.5 },
      'block2.depthwise': { scheme: 'channel', rate: 0 },
      'block2.pointwise': { scheme: 'filter', rate: 0.5 },
      classifier: { scheme: 'block-punched', block: [2, 8], rate: 0.5 },
    }));
    assert.deepEqual(errors(r.problems), []);
  });
});

describe('which model the plan is for', () => {
  test('a different hash is a warning that names both', () => {
    const r = check(GOOD, { modelSha256: 'cd'.repeat(32) });
    const w = at(r.problems, '/modelSha256');
    assert.equal(w.severity, 'warning');
    assert.equal(w.message, 'plan was made for a different version of the model (sha256 abababababab…; tiny-cnn.onnx has cdcdcdcdcdcd…); layers may not match');
    assert.ok(r.plan);
  });

  test('a plan naming another model file is a warning; with planPath, model is relative to the plan', () => {
    const r = check(planWith({}, { model: 'resnet18.onnx' }));
    const w = at(r.problems, '/model');
    assert.equal(w.severity, 'warning');
    assert.equal(w.message, 'plan is for "resnet18.onnx" but the model being checked is "tiny-cnn.onnx"; layers may not match');
    const here = path.join(path.dirname(SAMPLE), 'tiny-cnn.prune.json');
    assert.deepEqual(check(planWith({}), { planPath: here }).problems, []);
    assert.deepEqual(check(planWith({}, { model: '../samples/tiny-cnn.onnx' }), { planPath: here }).problems, []);
    // A plan kept elsewhere that names the same file is given explicitly with its model (prune
    // --plan): warning there only confused ("plan is for tiny-cnn.onnx but … is tiny-cnn.onnx").
    assert.deepEqual(check(planWith({}), { planPath: '/elsewhere/tiny-cnn.prune.json' }).problems, []);
    assert.equal(at(check(planWith({}, { model: 'other.onnx' }), { planPath: '/elsewhere/tiny-cnn.prune.json' }).problems, '/model').severity, 'warning');
  });
});

describe('validatePlanText: problems placed in the text', () => {
  const text = [
    '{',
    '  "model": "tiny-cnn.onnx",',
    '  "target": "host-cpu",',
    '  "layers": {',
    '    "stem": { "scheme": "filter", "rate": 1.5 },',
    '    "stemm": { "scheme": "filter", "rate": 0.5 },',
    '    "classifier": { "scheme": "nm", "n": 2, "m": 4, "rate": 0.5 },',
    '    "classifier": { "scheme": "nm", "n": 2, "rate": 0.5 }',
    '  }',
    '}',
  ].join('\n');

  test('each problem has a line and column, in text order', () => {
    const r = validatePlanText(text, loaded.model, layers, { modelPath: SAMPLE });
    const lines = r.problems.map((p) => formatProblem('p.json', p));
    assert.deepEqual(lines, [
      'p.json:5:43: error: rate 1.5 is outside [0, 1): it is the fraction of the layer\'s weights set to zero (1 would remove the whole layer)',
      'p.json:6:5: error: no layer "stemm" in tiny-cnn.onnx; did you mean "stem"?',
      'p.json:8:5: warning: layer "classifier" is listed twice; only the last one counts',
      'p.json:8:5: error: missing "m": nm keeps n of every m consecutive input weights, e.g. "n": 2, "m": 4',
    ]);
    // The range of a scalar is the value; of an object member, its name (quotes included).
    const rate = r.problems[0];
    assert.deepEqual([rate.range.start.column, rate.range.end.column], [43, 46]);
    const id = r.problems[1];
    assert.deepEqual([id.range.start.line, id.range.start.column, id.range.end.column], [6, 5, 12]);
  });

  test('syntax errors come back as errors with line:column and no plan', () => {
    const r = validatePlanText('{\n  "model": "m.onnx",\n  "layers": {},\n}\n', loaded.model, layers, { modelPath: SAMPLE });
    assert.equal(r.plan, undefined);
    assert.deepEqual(r.problems.map((p) => formatProblem('p.json', p)), ["p.json:4:1: error: not valid JSON: trailing comma before '}' (JSON allows none)"]);
  });
});

test('edit distance and closest', () => {
  assert.equal(editDistance('conv_1', 'conv1'), 1);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(closest('conv_1', ['conv1', 'conv2', 'fc']), 'conv1');
  assert.equal(closest('CONV1', ['conv1']), 'conv1');
  assert.equal(closest('features.0', ['stem', 'classifier']), undefined);
});
