// Bad input, end to end. Every damaged, hostile or unusable model file must end the real CLI
// (dist/cli.js) with exit code 1 and exactly one stderr line `prunemap: <file>: <what>. <hint>`:
// no stack trace, nothing on stdout, no hang, no unbounded allocation (the CLI runs with a 256 MB
// heap and a timeout). In-process, the engine must throw ModelError and nothing else.
// Usage errors exit 2. The hostile files are built in a temp folder by test/support/hostile.ts.

import { strict as assert } from 'node:assert';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ModelError } from '../../src/core/errors';
import { findLayers } from '../../src/core/layers';
import { loadModel, loadModelFromBytes, type LoadedModel } from '../../src/core/onnx/load';
import { printModel } from '../../src/core/onnx/text';
import * as H from '../support/hostile';
import { loadManifest } from '../support/manifest';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const CLI_TIMEOUT_MS = 20_000;
const NODE_FLAGS = ['--max-old-space-size=256'];

// ---------------------------------------------------------------------------------------------
// The CLI, kept fresh: rebuilt when dist/cli.js is missing or older than a source file.

function newestSourceMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMtime(p));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

function ensureCliBuilt(): void {
  const stale = !fs.existsSync(CLI) || fs.statSync(CLI).mtimeMs < newestSourceMtime(path.join(ROOT, 'src'));
  if (stale) execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'pipe' });
}

interface CliResult {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

function runCli(args: string[], timeoutMs = CLI_TIMEOUT_MS): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_FLAGS, CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '', timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr, timedOut });
    });
  });
}

function show(r: CliResult): string {
  return `exit ${r.status}${r.signal ? ` (signal ${r.signal})` : ''}\n--- stdout ---\n${r.stdout.slice(0, 2000)}\n--- stderr ---\n${r.stderr.slice(0, 4000)}`;
}

/** Exit 1, one `prunemap: ` line naming the file, saying what is wrong and what to do. */
function assertUserError(r: CliResult, file: string, patterns: readonly RegExp[] = []): string {
  assert.ok(!r.timedOut, `the CLI did not finish within its timeout (hang?)\n${show(r)}`);
  assert.equal(r.status, 1, `expected exit code 1\n${show(r)}`);
  assert.equal(r.stdout, '', `expected nothing on stdout\n${show(r)}`);
  assert.ok(!/^\s+at /m.test(r.stderr), `stack trace on stderr\n${show(r)}`);
  assert.ok(r.stderr.endsWith('\n'), `stderr must end with a newline\n${show(r)}`);
  const lines = r.stderr.slice(0, -1).split('\n');
  assert.equal(lines.length, 1, `expected exactly one stderr line\n${show(r)}`);
  const line = lines[0];
  assert.ok(line.startsWith('prunemap: '), `stderr must start with "prunemap: "\n${show(r)}`);
  assert.ok(!line.includes('internal error'), `an internal error, not a user error (engine bug)\n${show(r)}`);
  assert.ok(line.includes(file), `the message must name the file ${file}\n${show(r)}`);
  // `<what>. <Hint>`: a sentence telling the user what to do follows what went wrong.
  assert.match(line.slice(line.indexOf(file) + file.length), /\S\. [A-Z][^]*\S$/, `the message needs a hint after what went wrong\n${show(r)}`);
  for (const p of patterns) assert.match(line, p, `the message must say ${p}\n${show(r)}`);
  return line;
}

// ---------------------------------------------------------------------------------------------
// In-process: the engine must throw ModelError, never anything else.

/** What `inspect` and `text --full` do with a loaded model, reading every tensor's values. */
function exercise(loaded: LoadedModel): void {
  try {
    findLayers(loaded.model, loaded.tensors);
    printModel(loaded.model, {});
    for (const t of loaded.model.graph.initializers) {
      if (t.storage.kind !== 'strings') loaded.tensors.float32(t);
    }
    printModel(loaded.model, { full: true, tensors: loaded.tensors });
  } finally {
    loaded.close();
  }
}

function assertModelError(run: () => void, file: string, patterns: readonly RegExp[] = []): ModelError {
  let caught: unknown;
  try {
    run();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught !== undefined, 'expected a ModelError, but the model was accepted');
  if (!(caught instanceof ModelError)) {
    const e = caught as Error;
    assert.fail(`expected ModelError, got ${e?.name ?? typeof caught}: ${e?.message ?? String(caught)}\n${e?.stack ?? ''}`);
  }
  assert.ok(!caught.message.includes('\n'), `ModelError message must be one line: ${JSON.stringify(caught.message)}`);
  assert.ok(caught.message.includes(file), `ModelError must name ${file}: ${caught.message}`);
  for (const p of patterns) assert.match(caught.message, p);
  return caught;
}

// ---------------------------------------------------------------------------------------------
// The cases

interface Case {
  readonly name: string;
  /** The path given to the CLI and to loadModel. */
  readonly file: string;
  /** The file's bytes, for loadModelFromBytes; undefined when the path itself is the problem. */
  readonly bytes?: Uint8Array;
  /** Patterns the one-line message must match. */
  readonly expect?: readonly RegExp[];
  /** CLI invocations; default `inspect FILE --json` and `text FILE`. */
  readonly commands?: readonly string[][];
  /** No in-process check (e.g. it would block this process). */
  readonly cliOnly?: string;
  readonly timeoutMs?: number;
  /** A reason to skip, decided when the files are made. */
  readonly skip?: string;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prunemap-bad-input-'));
after(() => {
  for (const f of fs.readdirSync(dir)) {
    const p = path.join(dir, f);
    try { fs.chmodSync(p, 0o644); } catch { /* a FIFO or a folder */ }
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

function write(name: string, bytes: Uint8Array): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}

const MALFORMED = /malformed ONNX protobuf|not an ONNX model/;
const small = H.smallModel();
const TRUNCATION_SAMPLE = [1, 2, 5, 10, 30, 60, 100, 150, 200, small.length - 1];
const RANDOM_SEEDS = [0x5eed, 1, 0xc0ffee];

const cases: Case[] = [];
cases.push({ name: 'empty file', file: write('empty.onnx', new Uint8Array(0)), bytes: new Uint8Array(0), expect: [/empty file/] });
for (const n of TRUNCATION_SAMPLE) {
  const bytes = small.slice(0, n);
  cases.push({ name: `small model truncated to ${n} of ${small.length} bytes`, file: write(`truncated-${n}.onnx`, bytes), bytes, expect: [MALFORMED] });
}
for (const seed of RANDOM_SEEDS) {
  const bytes = H.randomBytes(seed, 4096);
  cases.push({ name: `4 KB of random bytes (seed ${seed})`, file: write(`random-${seed}.onnx`, bytes), bytes, expect: [MALFORMED] });
}
{
  const add = (name: string, fileName: string, bytes: Uint8Array, expect: RegExp[], extra: Partial<Case> = {}) =>
    cases.push({ name, file: write(fileName, bytes), bytes, expect, ...extra });
  add('a valid protobuf that is not a model (an encoded TensorProto)', 'tensor.onnx', H.encodedTensor(), [MALFORMED]);
  add('wrong wire type: ModelProto.graph as a varint', 'graph-varint.onnx', H.graphAsVarint(), [MALFORMED, /wire type/]);
  add('wrong wire type: NodeProto.name as fixed32', 'name-fixed32.onnx', H.nodeNameAsFixed32(), [MALFORMED, /wire type/]);
  add('absurd length 2^40 at the graph field', 'length-2e40.onnx', H.graphWithLength(2 ** 40), [MALFORMED, /1099511627776/]);
  add('absurd length 2^31-1 at the graph field', 'length-2e31.onnx', H.graphWithLength(2 ** 31 - 1), [MALFORMED, /2147483647/]);
  add('absurd length 2^64-1 at the graph field', 'length-2e64.onnx', H.graphWithLength(2n ** 64n - 1n), [MALFORMED]);
  add('10,000-deep nesting of If subgraphs', 'deep-if.onnx', H.deepIfModel(10_000), [MALFORMED, /nested/]);
  add('10,000-deep nested sequence TypeProto in a ValueInfoProto', 'deep-type.onnx', H.deepTypeModel(10_000), [MALFORMED]);
  // A tensor declaring 2^40 or 2^33 elements next to 8 bytes of data: reading its values (text
  // --full) must be refused before anything that size is allocated.
  const full = (f: string) => [['text', f, '--full']];
  const hugeTyped = path.join(dir, 'huge-float-data.onnx');
  add('FLOAT tensor of 2^40 elements holding 2 float_data values', 'huge-float-data.onnx', H.hugeTypedTensorModel(), [/tensor "T"|too large to print/], { commands: full(hugeTyped) });
  const hugeRaw = path.join(dir, 'huge-raw.onnx');
  add('FLOAT tensor of 2^40 elements holding 8 bytes of raw_data', 'huge-raw.onnx', H.hugeRawTensorModel(), [/tensor "T"|too large to print/], { commands: full(hugeRaw) });
  add('tensor of unknown data type 999 with 2^33 elements and 8 bytes of raw_data (values read as float32)', 'huge-unknown-type.onnx',
    H.hugeUnknownTypeTensorModel(), [/tensor "T"/], { commands: [] });
  const intFloats = path.join(dir, 'int64-float-data.onnx');
  add('INT64 tensor whose value 0.5 sits in float_data', 'int64-float-data.onnx', H.int64WithFloatDataModel(), [/tensor "T"/], { commands: full(intFloats) });
}

// The hostile external-data models of the reference corpora.
const hostileExpect: Record<string, RegExp> = {
  'escape-absolute': /absolute/,
  'escape-dotdot': /leaves the model's folder/,
  'escape-symlink': /outside the model's folder/,
  missing: /missing/,
  short: /needs bytes \d+\.\.\d+ but the data file has \d+/,
};
// npm test sets the corpora up; if they are missing, the test below fails rather than skipping.
let hostile: { name: string; path: string; readme: string }[] = [];
let hostileMissing: string | undefined;
try {
  hostile = loadManifest().hostile;
} catch (err) {
  hostileMissing = `reference corpora not set up (${(err as Error).message.split(':')[0]}); run \`npm run setup:reference\``;
}
for (const h of hostile.filter((x) => fs.existsSync(x.path))) {
  const expect = [/tensor "[^"]+"/, hostileExpect[h.name] ?? /./];
  cases.push({ name: `hostile external data: ${h.name} (${h.readme})`, file: h.path, bytes: fs.readFileSync(h.path), expect });
}

test('the hostile external-data corpus is there to test', () => {
  assert.equal(hostileMissing, undefined, hostileMissing);
  assert.deepEqual(hostile.map((h) => h.name).sort(), Object.keys(hostileExpect).sort());
  for (const h of hostile) assert.ok(fs.existsSync(h.path), `${h.path} is missing; run \`npm run setup:reference\``);
});

// Paths that are not readable model files.
{
  const folder = path.join(dir, 'a-folder.onnx');
  fs.mkdirSync(folder);
  cases.push({ name: 'a directory as the model path', file: folder, expect: [/not a regular file|is a directory/] });
  cases.push({ name: 'a path that does not exist', file: path.join(dir, 'does-not-exist.onnx'), expect: [/no such file/] });
  cases.push({ name: 'a path under a regular file (ENOTDIR)', file: path.join(write('plain.onnx', small), 'x.onnx'), expect: [/cannot open|not a directory/i] });

  const locked = write('unreadable.onnx', small);
  fs.chmodSync(locked, 0o000);
  let readable = false;
  try {
    fs.closeSync(fs.openSync(locked, 'r'));
    readable = true;
  } catch {
    // permissions are enforced: the case runs
  }
  cases.push({
    name: 'an unreadable file (chmod 000)', file: locked, expect: [/permission denied/],
    skip: readable ? 'running as root: permissions are not enforced' : undefined,
  });

  // A FIFO: opening it for reading blocks until a writer comes, so a careless open hangs forever.
  const fifo = path.join(dir, 'pipe.onnx');
  let fifoSkip: string | undefined;
  try {
    execFileSync('mkfifo', [fifo]);
  } catch {
    fifoSkip = 'mkfifo is not available';
  }
  cases.push({
    name: 'a FIFO (named pipe) as the model path', file: fifo, expect: [/not a regular file/], timeoutMs: 10_000, skip: fifoSkip,
    cliOnly: 'opening a FIFO would block this test process',
  });
}

// ---------------------------------------------------------------------------------------------

before(() => ensureCliBuilt());

// One CLI per core: more only makes each run slower (and a FIFO case wait out its timeout).
describe('bad input via the CLI: exit 1 and one line on stderr', { concurrency: Math.max(2, os.availableParallelism()) }, () => {
  for (const c of cases) {
    const commands = c.commands ?? [['inspect', c.file, '--json'], ['text', c.file]];
    for (const args of commands) {
      test(`${c.name}: prunemap ${args.map((a) => (a === c.file ? 'FILE' : a)).join(' ')}`, async (t) => {
        if (c.skip) return t.skip(c.skip);
        const r = await runCli(args, c.timeoutMs);
        const line = assertUserError(r, c.file, c.expect);
        t.diagnostic(line);
      });
    }
  }

  test('usage error: `prunemap inspect` without MODEL exits 2', async () => {
    for (const cmd of ['inspect', 'text']) {
      const r = await runCli([cmd]);
      assert.equal(r.status, 2, show(r));
      assert.equal(r.stdout, '', show(r));
      assert.match(r.stderr, /^prunemap: .*MODEL/, show(r));
      assert.ok(!/^\s+at /m.test(r.stderr), show(r));
    }
  });

  test('usage error: no command at all exits 2', async () => {
    const r = await runCli([]);
    assert.equal(r.status, 2, show(r));
  });
});

// Decodable models with absurd attribute values: inspect and text must finish quickly within the
// heap cap, either fine (exit 0) or with a one-line user error (exit 1).
const decodable: Case[] = [
  { name: 'Concat with axis 2^31-1 feeding an Unsqueeze', file: write('concat-axis.onnx', H.concatAxisModel(2 ** 31 - 1)) },
];
const QUICK_MS = 10_000;

describe('hostile but decodable models: finish quickly, exit 0 or a user error', { concurrency: Math.max(2, os.availableParallelism()) }, () => {
  for (const c of decodable) {
    for (const args of [['inspect', c.file, '--json'], ['text', c.file]]) {
      test(`${c.name}: prunemap ${args.map((a) => (a === c.file ? 'FILE' : a)).join(' ')}`, async () => {
        const r = await runCli(args, QUICK_MS);
        assert.ok(!r.timedOut, `did not finish within ${QUICK_MS} ms\n${show(r)}`);
        if (r.status === 0) assert.equal(r.stderr, '', show(r));
        else assertUserError(r, c.file);
      });
    }
  }
});

describe('bad input in-process: the engine throws ModelError and nothing else', () => {
  test(`every truncation 1..${small.length - 1} of a valid ${small.length}-byte model`, () => {
    // The untruncated model is fine: the failures below are the truncation's.
    exercise(loadModelFromBytes('small.onnx', small));
    for (let n = 1; n < small.length; n++) {
      const name = `small-truncated-${n}.onnx`;
      try {
        assertModelError(() => exercise(loadModelFromBytes(name, small.subarray(0, n))), name);
      } catch (err) {
        assert.fail(`truncated to ${n} bytes: ${(err as Error).message}`);
      }
    }
  });

  for (const c of cases) {
    test(`${c.name}: loadModel(path)`, (t) => {
      if (c.skip) return t.skip(c.skip);
      if (c.cliOnly) return t.skip(c.cliOnly);
      assertModelError(() => exercise(loadModel(c.file)), c.file, c.expect);
    });
    if (c.bytes) {
      const bytes = c.bytes;
      test(`${c.name}: loadModelFromBytes`, (t) => {
        if (c.skip) return t.skip(c.skip);
        assertModelError(() => exercise(loadModelFromBytes(c.file, bytes)), c.file, c.expect);
      });
    }
  }
});
