// Plan text and files: strict JSON parsing with line:column syntax errors, JSON pointer → text
// position, reading (limits and clear errors) and atomic writing (round trip, no temporary file
// left behind when a write fails).

import { after, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ModelError } from '../../src/core/errors';
import type { Plan } from '../../src/core/plan';
import { MAX_PLAN_BYTES, formatPlan, jsonPointer, parseJsonDocument, parsePointer, readPlanFile, schemaFilePath, writePlanFile } from '../../src/core/plan-io';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prunemap-plan-io-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const file = (name = `p${++n}.prune.json`) => path.join(tmp, name);

function syntaxErrors(text: string): string[] {
  return parseJsonDocument(text).errors.map((e) => `${e.start.line}:${e.start.column} ${e.message}`);
}

describe('parseJsonDocument: strict JSON, errors at line:column', () => {
  test('a valid text gives the value JSON.parse gives', () => {
    const text = '{"a": [1, 2.5e3, true, null], "b": {"c": "\\u00e9"}}';
    const doc = parseJsonDocument(text);
    assert.deepEqual(doc.errors, []);
    assert.deepEqual(doc.value, JSON.parse(text));
  });

  test('each kind of syntax error is named and placed', () => {
    assert.deepEqual(syntaxErrors('{\n  "a": 1,\n}'), ["3:1 trailing comma before '}' (JSON allows none)"]);
    assert.deepEqual(syntaxErrors('[1, 2,]'), ["1:7 trailing comma before ']' (JSON allows none)"]);
    assert.deepEqual(syntaxErrors('{\n  "a": 1\n  "b": 2\n}'), ['3:3 expected \',\' or a closing bracket, found "\\"b\\""']);
    assert.deepEqual(syntaxErrors('{"a": 1} // note'), ['1:10 comments are not allowed in JSON']);
    assert.deepEqual(syntaxErrors('{"a": "open}'), ['1:7 unterminated string']);
    assert.deepEqual(syntaxErrors('{a: 1}'), ['1:2 unexpected "a" (names and strings need double quotes)']);
    assert.deepEqual(syntaxErrors('{"a": 1, 2: 3}'), ['1:10 expected a property name in double quotes, found "2"']);
    assert.deepEqual(syntaxErrors('{"a" 1}'), ['1:6 expected \':\' after the property name, found "1"']);
    assert.deepEqual(syntaxErrors('{"a": 1}}'), ['1:9 unexpected "}" after the end of the JSON value']);
    assert.deepEqual(syntaxErrors('{"a": tru}'), ['1:7 unexpected "tru" (names and strings need double quotes)']);
    assert.deepEqual(syntaxErrors('{"a": 01}'), ['1:8 expected \',\' or a closing bracket, found "1"']);
    assert.deepEqual(syntaxErrors('{"a": .5}'), ['1:7 unexpected ".5"']);
    assert.deepEqual(syntaxErrors('{"a": 1'), ["1:8 expected '}' to close the object, found the end of the text"]);
    assert.deepEqual(syntaxErrors('  \n '), ['1:1 no JSON value (the text is empty)']);
    assert.deepEqual(syntaxErrors('{"a": "x\ty"}'), ['1:9 control character in a string (write it as an escape such as \\n)']);
  });

  test('columns count UTF-16 code units; CRLF and CR end lines', () => {
    assert.deepEqual(syntaxErrors('{"é🙂": 1,\r\n}'), ["2:1 trailing comma before '}' (JSON allows none)"]);
    assert.deepEqual(syntaxErrors('{"a": 1,\r}'), ["2:1 trailing comma before '}' (JSON allows none)"]);
    const doc = parseJsonDocument('{"🙂": "x", "b": 1}');
    assert.equal(doc.locate('/b')!.value.start.column, 18); // the emoji is two code units
  });

  test('repeated keys are reported; the value keeps the last one, as JSON.parse does', () => {
    const doc = parseJsonDocument('{"layers": {"a": 1, "b": 2, "a": 3}}');
    assert.deepEqual(doc.value, { layers: { a: 3, b: 2 } });
    assert.deepEqual(doc.duplicates.map((d) => [d.pointer, d.key.start.column]), [['/layers/a', 29]]);
    assert.equal(doc.locate('/layers/a')!.value.start.column, 34, 'locate finds the last one');
  });
});

describe('JSON pointers → positions', () => {
  const text = ['{', '  "layers": {', '    "/conv1/Conv": { "scheme": "block-punched", "block": [8, 4] },', '    "a~b": {}', '  }', '}'].join('\n');
  const doc = parseJsonDocument(text);

  test('pointer syntax (RFC 6901)', () => {
    assert.equal(jsonPointer('layers', '/conv1/Conv', 'rate'), '/layers/~1conv1~1Conv/rate');
    assert.equal(jsonPointer('a~b', 0), '/a~0b/0');
    assert.deepEqual(parsePointer('/layers/~1conv1~1Conv/block/1'), ['layers', '/conv1/Conv', 'block', '1']);
    assert.deepEqual(parsePointer('/a~01'), ['a~1']);
    assert.deepEqual(parsePointer(''), []);
  });

  test('an existing member: value range, and the key range', () => {
    const loc = doc.locate('/layers/~1conv1~1Conv/scheme')!;
    assert.equal(loc.exact, true);
    assert.deepEqual([loc.value.start.line, loc.value.start.column, loc.value.end.column], [3, 32, 47]);
    assert.equal(text.split('\n')[2].slice(31, 46), '"block-punched"');
    assert.deepEqual([loc.key!.start.column, loc.key!.end.column], [22, 30]);
  });

  test('array elements, and members with ~ in their names', () => {
    const loc = doc.locate('/layers/~1conv1~1Conv/block/1')!;
    assert.equal(text.split('\n')[2][loc.value.start.column - 1], '4');
    assert.equal(loc.key, undefined);
    assert.equal(doc.locate('/layers/a~0b')!.key!.start.column, 5);
  });

  test('a missing member falls back to its nearest existing ancestor', () => {
    const loc = doc.locate('/layers/~1conv1~1Conv/rate')!;
    assert.equal(loc.exact, false);
    assert.equal(loc.pointer, '/layers/~1conv1~1Conv');
    assert.deepEqual([loc.key!.start.line, loc.key!.start.column], [3, 5]);
    const root = doc.locate('/nothing/here')!;
    assert.deepEqual([root.pointer, root.value.start.line, root.value.start.column, root.key], ['', 1, 1, undefined]);
  });

  test('no tree, no location', () => {
    assert.equal(parseJsonDocument('').locate('/a'), undefined);
  });
});

describe('readPlanFile', () => {
  const readError = (p: string): string => {
    try {
      readPlanFile(p);
    } catch (err) {
      assert.ok(err instanceof ModelError, `expected a ModelError, got ${String(err)}`);
      return err.message;
    }
    assert.fail('expected readPlanFile to throw');
  };

  test('reads a plan, with or without a UTF-8 byte order mark', () => {
    const p = file();
    fs.writeFileSync(p, '\ufeff{"model": "m.onnx", "target": "t", "layers": {}}');
    assert.deepEqual(readPlanFile(p).json, { model: 'm.onnx', target: 't', layers: {} });
  });

  test('one clear line for each bad file', () => {
    const missing = path.join(tmp, 'missing.prune.json');
    assert.equal(readError(missing), `${missing}: no such plan file. Check the path; \`prunemap map MODEL -o PLAN\` writes a plan.`);
    assert.equal(readError(tmp), `${tmp}: is a folder, not a plan file. Give the path of a .prune.json file.`);
    const empty = file();
    fs.writeFileSync(empty, '');
    assert.match(readError(empty), /: empty file\. A plan is a JSON object/);
    const utf16 = file();
    fs.writeFileSync(utf16, Buffer.from('\ufeff{}', 'utf16le'));
    assert.match(readError(utf16), /: plan file is UTF-16 text\. Save it as UTF-8\.$/);
    const latin1 = file();
    fs.writeFileSync(latin1, Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x7d]));
    assert.match(readError(latin1), /: plan file is not UTF-8 text\./);
  });

  test('a syntax error names file:line:column', () => {
    const p = file();
    fs.writeFileSync(p, '{\n  "model": "m.onnx"\n  "target": "t"\n}');
    assert.equal(readError(p), `${p}:3:3: not valid JSON: expected ',' or a closing bracket, found "\\"target\\"". Fix the JSON there, or write the plan again with \`prunemap map MODEL -o PLAN\`.`);
  });

  test(`a file over ${MAX_PLAN_BYTES / 1024 / 1024} MB is refused before it is read`, () => {
    const p = file();
    fs.writeFileSync(p, '');
    fs.truncateSync(p, MAX_PLAN_BYTES + 1); // sparse: no 16 MB written
    assert.match(readError(p), /: plan file is 16\.0 MB; plans are at most 16\.0 MB\./);
  });
});

describe('writePlanFile', () => {
  const plan: Plan = {
    model: 'tiny-cnn.onnx',
    modelSha256: '0f'.repeat(32),
    target: 'host-cpu',
    layers: {
      stem: { scheme: 'dense', rate: 0, reason: 'first conv' },
      '/conv1/Conv': { rate: 0.75, block: [8, 4], scheme: 'block-punched', latency: { prunedMs: 0.1, denseMs: 0.3 } },
      c: { scheme: 'pattern', rate: 0.7, library: [27, 54], patterns: 2 },
    },
    summary: { speedup: 2, denseMs: 1, prunedMs: 0.5, compression: 3 },
  };

  test('round trip: what is written reads back as the same plan, plus $schema', () => {
    const p = file();
    writePlanFile(p, plan);
    const back = readPlanFile(p).json as Plan;
    const { $schema, ...rest } = back;
    assert.deepEqual(rest, plan);
    assert.equal(typeof $schema, 'string');
  });

  test('2-space JSON in a fixed field order, number lists on one line, final newline', () => {
    const text = formatPlan(plan, './schema.json');
    assert.ok(text.endsWith('}\n'));
    assert.ok(text.includes('\n    "/conv1/Conv": {\n      "scheme": "block-punched",\n      "rate": 0.75,\n      "block": [8, 4],\n      "latency": {\n        "denseMs": 0.3,\n        "prunedMs": 0.1\n      }\n    },'), text);
    assert.ok(text.includes('"library": [27, 54]'));
    assert.deepEqual(Object.keys(JSON.parse(text)), ['$schema', 'model', 'modelSha256', 'target', 'layers', 'summary']);
    assert.deepEqual(Object.keys(JSON.parse(text).summary), ['denseMs', 'prunedMs', 'speedup', 'compression']);
    assert.ok(text.startsWith('{\n  "$schema": "./schema.json",\n  "model": "tiny-cnn.onnx",\n'));
  });

  test('$schema: the option, else the plan\'s own, else PruneMap\'s schema file relative to the plan', () => {
    const p = file();
    writePlanFile(p, plan, { schema: 'https://example.invalid/s.json' });
    assert.equal((readPlanFile(p).json as Plan).$schema, 'https://example.invalid/s.json');
    writePlanFile(p, { ...plan, $schema: './mine.json' });
    assert.equal((readPlanFile(p).json as Plan).$schema, './mine.json');
    writePlanFile(p, plan);
    const ref = (readPlanFile(p).json as Plan).$schema!;
    assert.match(ref, /^\.{1,2}\/.*schemas\/prune-plan\.schema\.json$/);
    assert.equal(path.resolve(path.dirname(p), ref), schemaFilePath());
    assert.ok(fs.existsSync(path.resolve(path.dirname(p), ref)));
  });

  test('an id "__proto__" is written as a key', () => {
    const layers = JSON.parse('{"__proto__": {"scheme": "filter", "rate": 0.5}}');
    const text = formatPlan({ model: 'm', target: 't', layers });
    assert.deepEqual(Object.keys(JSON.parse(text).layers), ['__proto__']);
  });

  test('a failed write throws a clear error and leaves no temporary file; an existing plan stays whole', () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'atomic-'));
    const target = path.join(dir, 'm.prune.json');
    writePlanFile(target, plan);
    const before = fs.readFileSync(target, 'utf8');
    // rename fails: the target is now a folder
    const folder = path.join(dir, 'is-a-folder.prune.json');
    fs.mkdirSync(path.join(folder, 'x'), { recursive: true });
    assert.throws(() => writePlanFile(folder, plan), (err: unknown) => err instanceof ModelError && /cannot write the plan: a folder has that name/.test(err.message));
    // the value cannot be written as JSON: fails before anything is created
    assert.throws(() => writePlanFile(target, { ...plan, summary: { ...plan.summary!, speedup: Infinity } }), /\/summary\/speedup is Infinity/);
    // the folder does not exist
    assert.throws(() => writePlanFile(path.join(dir, 'no', 'such', 'p.json'), plan), /cannot write the plan: its folder does not exist/);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['is-a-folder.prune.json', 'm.prune.json']);
    assert.equal(fs.readFileSync(target, 'utf8'), before);
  });

  test('overwriting replaces the file in one step (no temporary file left)', () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'over-'));
    const target = path.join(dir, 'm.prune.json');
    writePlanFile(target, plan);
    writePlanFile(target, { ...plan, target: 'phone-cpu' });
    assert.equal((readPlanFile(target).json as Plan).target, 'phone-cpu');
    assert.deepEqual(fs.readdirSync(dir), ['m.prune.json']);
  });
});
