// Plan files on disk and as text: reading (size limit, UTF-8, JSON syntax errors with line:column),
// writing (atomic, 2-space JSON with `$schema`), and the text positions of JSON pointers, so that
// problems found on the parsed value can be shown where they are in the file (CLI and LSP).
// Validation of the value itself is plan-validate.ts; the format is docs/plan.md.

import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
// The ESM build: jsonc-parser's `main` is a UMD bundle whose inner require() calls esbuild cannot follow.
import { getLocation, parseTree, printParseErrorCode, type Node as JsonNode, type ParseError } from 'jsonc-parser/lib/esm/main';
import { ModelError } from './errors';
import type { Plan, PlanLayer } from './plan';

/** Plans are small (a few hundred bytes per layer); anything bigger is not a plan. */
export const MAX_PLAN_BYTES = 16 * 1024 * 1024;

export const PLAN_SCHEMA_FILE = 'prune-plan.schema.json';

/** A place in a text: 0-based UTF-16 offset, 1-based line and column (columns in UTF-16 code units). */
export interface TextPosition {
  readonly offset: number;
  readonly line: number;
  readonly column: number;
}

export interface TextRange {
  readonly start: TextPosition;
  readonly end: TextPosition;
}

export interface JsonSyntaxError extends TextRange {
  /** E.g. "expected ',' or '}'", "comments are not allowed in JSON". */
  readonly message: string;
}

export interface PointerLocation {
  /** The JSON pointer that was found: the one asked for, or its nearest existing ancestor. */
  readonly pointer: string;
  /** True when the asked-for pointer itself exists in the text. */
  readonly exact: boolean;
  /** The value's text (for an object or array, from its bracket to the matching one). */
  readonly value: TextRange;
  /** The property name's text (quotes included) when the value is an object member. */
  readonly key?: TextRange;
}

/** A JSON text parsed once: its value (JSON.parse semantics), syntax errors, and positions. */
export interface JsonDocument {
  readonly text: string;
  /** The value, when the text has no syntax error. */
  readonly value?: unknown;
  /** The first syntax error, if any (what follows one is mostly the parser's recovery). */
  readonly errors: readonly JsonSyntaxError[];
  /** Object members whose name repeats in the same object (JSON.parse keeps the last one). */
  readonly duplicates: readonly { readonly pointer: string; readonly key: TextRange }[];
  positionAt(offset: number): TextPosition;
  /** Where a JSON pointer (RFC 6901, e.g. "/layers/conv1/rate") is; undefined only without a parse tree. */
  locate(pointer: string): PointerLocation | undefined;
}

/** Parses JSON text strictly (no comments, no trailing commas), keeping positions for later. */
export function parseJsonDocument(text: string): JsonDocument {
  const lines = lineStarts(text);
  const positionAt = (offset: number): TextPosition => {
    const o = Math.max(0, Math.min(offset, text.length));
    let lo = 0, hi = lines.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lines[mid] <= o) lo = mid;
      else hi = mid - 1;
    }
    return { offset: o, line: lo + 1, column: o - lines[lo] + 1 };
  };
  const range = (offset: number, length: number): TextRange => ({ start: positionAt(offset), end: positionAt(offset + length) });

  const errors: JsonSyntaxError[] = [];
  let tree: JsonNode | undefined;
  if (text.trim() === '') {
    errors.push({ message: 'no JSON value (the text is empty)', ...range(0, text.length) });
  } else {
    const raw: ParseError[] = [];
    tree = parseTree(text, raw, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
    // The first error only: what follows it is mostly the parser's recovery (as JSON.parse, which stops there).
    const e = raw[0];
    if (e) {
      // A control character is reported at its string's start; point at the character itself.
      const bad = printParseErrorCode(e.error) === 'InvalidCharacter' ? /[\u0000-\u001f]/.exec(text.slice(e.offset, e.offset + e.length)) : null;
      errors.push({ message: syntaxMessage(text, e), ...(bad ? range(e.offset + bad.index, 1) : range(e.offset, e.length)) });
    }
  }
  let value: unknown;
  if (errors.length === 0) {
    try {
      value = JSON.parse(text);
    } catch (err) {
      // The two parsers disagree only on inputs neither should meet; JSON.parse has the last word.
      const m = /position (\d+)/.exec((err as Error).message);
      const offset = m ? Number(m[1]) : 0;
      errors.push({ message: (err as Error).message.replace(/^Unexpected/, 'unexpected').replace(/ in JSON at position \d+.*$/, ''), ...range(offset, 1) });
    }
  }
  const duplicates: { pointer: string; key: TextRange }[] = [];
  if (tree && errors.length === 0) findDuplicates(tree, '', duplicates, range);

  return {
    text,
    value,
    errors,
    duplicates,
    positionAt,
    locate(pointer: string): PointerLocation | undefined {
      if (!tree) return undefined;
      const segments = parsePointer(pointer);
      let node = tree;
      let key: JsonNode | undefined;
      let found = 0;
      for (const seg of segments) {
        const next = child(node, seg);
        if (!next) break;
        node = next.value;
        key = next.key;
        found++;
      }
      const exact = found === segments.length;
      return {
        pointer: exact ? pointer : jsonPointer(...segments.slice(0, found)),
        exact,
        value: range(node.offset, node.length),
        key: key && found > 0 ? range(key.offset, key.length) : undefined,
      };
    },
  };
}

/** The member or element `seg` of an object or array node; for a repeated name, the last (as JSON.parse). */
function child(node: JsonNode, seg: string): { key?: JsonNode; value: JsonNode } | undefined {
  if (node.type === 'object') {
    let hit: { key?: JsonNode; value: JsonNode } | undefined;
    for (const prop of node.children ?? []) {
      const [k, v] = prop.children ?? [];
      if (k && v && k.value === seg) hit = { key: k, value: v };
    }
    return hit;
  }
  if (node.type === 'array' && /^(0|[1-9][0-9]*)$/.test(seg)) {
    const v = node.children?.[Number(seg)];
    return v ? { value: v } : undefined;
  }
  return undefined;
}

function findDuplicates(node: JsonNode, pointer: string, out: { pointer: string; key: TextRange }[], range: (o: number, l: number) => TextRange): void {
  if (node.type === 'object') {
    const seen = new Set<string>();
    for (const prop of node.children ?? []) {
      const [k, v] = prop.children ?? [];
      if (!k) continue;
      const name = String(k.value);
      const p = `${pointer}/${escapePointer(name)}`;
      if (seen.has(name)) out.push({ pointer: p, key: range(k.offset, k.length) });
      seen.add(name);
      if (v) findDuplicates(v, p, out, range);
    }
  } else if (node.type === 'array') {
    (node.children ?? []).forEach((v, i) => findDuplicates(v, `${pointer}/${i}`, out, range));
  }
}

function syntaxMessage(text: string, e: ParseError): string {
  const at = text.slice(e.offset, e.offset + Math.max(1, e.length));
  const before = text.slice(0, e.offset).trimEnd();
  const trailingComma = before.endsWith(',') && (at.startsWith('}') || at.startsWith(']'));
  switch (printParseErrorCode(e.error)) {
    case 'InvalidSymbol': return /^[A-Za-z_]/.test(at) ? `unexpected ${describeToken(at)} (names and strings need double quotes)` : `unexpected ${describeToken(at)}`;
    case 'InvalidNumberFormat': return `invalid number ${describeToken(at)}`;
    case 'PropertyNameExpected':
      return trailingComma ? `trailing comma before '}' (JSON allows none)` : `expected a property name in double quotes, found ${describeToken(at)}`;
    case 'ValueExpected':
      return trailingComma ? `trailing comma before '${at[0]}' (JSON allows none)` : `expected a value, found ${describeToken(at)}`;
    case 'ColonExpected': return `expected ':' after the property name, found ${describeToken(at)}`;
    case 'CommaExpected': return `expected ',' or a closing bracket, found ${describeToken(at)}`;
    case 'CloseBraceExpected': return `expected '}' to close the object, found ${describeToken(at)}`;
    case 'CloseBracketExpected': return `expected ']' to close the array, found ${describeToken(at)}`;
    case 'EndOfFileExpected': return `unexpected ${describeToken(at)} after the end of the JSON value`;
    case 'InvalidCommentToken': return 'comments are not allowed in JSON';
    case 'UnexpectedEndOfComment': return 'unterminated comment (and comments are not allowed in JSON)';
    case 'UnexpectedEndOfString': return 'unterminated string';
    case 'UnexpectedEndOfNumber': return 'incomplete number';
    case 'InvalidUnicode': return 'invalid \\u escape in a string';
    case 'InvalidEscapeCharacter': return 'invalid escape in a string';
    case 'InvalidCharacter': return 'control character in a string (write it as an escape such as \\n)';
    default: return 'invalid JSON';
  }
}

function describeToken(s: string): string {
  if (s === '') return 'the end of the text';
  const shown = s.length > 20 ? `${s.slice(0, 20)}…` : s;
  return JSON.stringify(shown);
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) starts.push(i + 1);
    else if (c === 13) {
      if (text.charCodeAt(i + 1) === 10) i++;
      starts.push(i + 1);
    }
  }
  return starts;
}

// ---- Where a cursor is (editor completion) ----

/** What sits at an offset of a (possibly unfinished) JSON text. */
export interface JsonCursor {
  /** Path of the member at the offset, e.g. ["layers", "conv1", "scheme"]; for a property name being typed, its (partial) name last. */
  readonly path: readonly (string | number)[];
  /** True when the offset is on a property name (or where one would start). */
  readonly atKey: boolean;
  /** The string literal under the offset: the offsets of its content (quotes excluded) and its value. */
  readonly string?: { readonly start: number; readonly end: number; readonly value: string };
}

/** Where an offset is in a JSON text, tolerating the unfinished text of someone typing. */
export function jsonCursorAt(text: string, offset: number): JsonCursor {
  const location = getLocation(text, offset);
  const node = location.previousNode;
  let string: JsonCursor['string'];
  if (node && (node.type === 'string' || node.type === 'property') && text[node.offset] === '"' && offset > node.offset) {
    const closed = node.length >= 2 && text[node.offset + node.length - 1] === '"';
    const end = node.offset + node.length - (closed ? 1 : 0);
    if (offset <= end) string = { start: node.offset + 1, end, value: text.slice(node.offset + 1, end) };
  }
  return { path: [...location.path], atKey: location.isAtPropertyKey, ...(string ? { string } : {}) };
}

// ---- JSON pointers (RFC 6901) ----

export function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** A JSON pointer from its segments: jsonPointer('layers', '/conv1/Conv', 'rate') → "/layers/~1conv1~1Conv/rate". */
export function jsonPointer(...segments: readonly (string | number)[]): string {
  return segments.map((s) => `/${escapePointer(String(s))}`).join('');
}

export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(pointer.startsWith('/') ? 1 : 0)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

// ---- Files ----

/** Reads and parses a plan file. Throws ModelError (one line: what, where, what to do). */
export function readPlanFile(file: string): { text: string; document: JsonDocument; json: unknown } {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    throw fileError(err, file, 'read');
  }
  let bytes: Buffer;
  try {
    const st = fs.fstatSync(fd);
    if (st.isDirectory()) throw new ModelError('is a folder, not a plan file', file, 'Give the path of a .prune.json file.');
    if (!st.isFile()) throw new ModelError('is not a regular file', file, 'Give the path of a .prune.json file.');
    if (st.size > MAX_PLAN_BYTES) {
      throw new ModelError(`plan file is ${mb(st.size)}; plans are at most ${mb(MAX_PLAN_BYTES)}`, file, 'Check that this is a plan (a .prune.json file written by `prunemap map`).');
    }
    bytes = Buffer.alloc(st.size);
    let got = 0;
    while (got < st.size) {
      const n = fs.readSync(fd, bytes, got, st.size - got, got);
      if (n === 0) break;
      got += n;
    }
    bytes = bytes.subarray(0, got);
  } catch (err) {
    throw err instanceof ModelError ? err : fileError(err, file, 'read');
  } finally {
    fs.closeSync(fd);
  }
  if (bytes.length === 0) throw new ModelError('empty file', file, 'A plan is a JSON object; write one with `prunemap map MODEL -o PLAN`.');
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throw new ModelError('plan file is UTF-16 text', file, 'Save it as UTF-8.');
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes); // drops a UTF-8 byte order mark
  } catch {
    throw new ModelError('plan file is not UTF-8 text', file, 'A plan is a JSON text in UTF-8; check that this is the right file.');
  }
  const document = parseJsonDocument(text);
  const first = document.errors[0];
  if (first) {
    throw new ModelError(`not valid JSON: ${first.message}`, `${file}:${first.start.line}:${first.start.column}`, 'Fix the JSON there, or write the plan again with `prunemap map MODEL -o PLAN`.');
  }
  return { text, document, json: document.value };
}

export interface WritePlanOptions {
  /** The `$schema` to write; default: the plan's own, else the path of PruneMap's schema relative to the plan. */
  readonly schema?: string;
}

/** Writes a plan atomically (temporary file in the same folder, then rename); nothing is left behind on failure. */
export function writePlanFile(file: string, plan: Plan, options: WritePlanOptions = {}): void {
  const schema = options.schema ?? plan.$schema ?? defaultSchemaRef(file);
  const text = formatPlan(plan, schema);
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx', 0o644);
    fs.writeFileSync(fd, text);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, file);
  } catch (err) {
    if (fd !== undefined) {
      try { fs.closeSync(fd); } catch { /* already failing */ }
    }
    try { fs.unlinkSync(tmp); } catch { /* never created, or already renamed */ }
    throw fileError(err, file, 'write');
  }
}

/** The plan as the text writePlanFile writes: fixed key order, 2-space indent, number lists on one line. */
export function formatPlan(plan: Plan, schema?: string): string {
  const layers: Record<string, unknown> = {};
  for (const [id, entry] of Object.entries(plan.layers)) {
    Object.defineProperty(layers, id, { value: orderedLayer(entry), enumerable: true, configurable: true, writable: true });
  }
  const out = pick({ $schema: schema ?? plan.$schema, model: plan.model, modelSha256: plan.modelSha256, target: plan.target, layers, summary: plan.summary && pick({ ...plan.summary }, ['denseMs', 'prunedMs', 'speedup', 'compression']) }, ['$schema', 'model', 'modelSha256', 'target', 'layers', 'summary']);
  return `${stringify(out, '', '')}\n`;
}

function orderedLayer(e: PlanLayer): Record<string, unknown> {
  return pick({ ...e, latency: e.latency && pick({ ...e.latency }, ['denseMs', 'prunedMs']) }, ['scheme', 'rate', 'block', 'n', 'm', 'patterns', 'library', 'reason', 'latency']);
}

function pick(o: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  for (const k of keys) if (o[k] !== undefined) r[k] = o[k];
  return r;
}

function stringify(v: unknown, indent: string, where: string): string {
  if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`plan value at ${where || '/'} is ${v}, which JSON cannot hold`);
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  const inner = `${indent}  `;
  if (Array.isArray(v)) {
    if (v.every((x) => x === null || typeof x !== 'object')) return `[${v.map((x, i) => stringify(x, inner, `${where}/${i}`)).join(', ')}]`;
    if (v.length === 0) return '[]';
    return `[\n${v.map((x, i) => `${inner}${stringify(x, inner, `${where}/${i}`)}`).join(',\n')}\n${indent}]`;
  }
  const keys = Object.keys(v);
  if (keys.length === 0) return '{}';
  const rec = v as Record<string, unknown>;
  return `{\n${keys.map((k) => `${inner}${JSON.stringify(k)}: ${stringify(rec[k], inner, `${where}/${escapePointer(k)}`)}`).join(',\n')}\n${indent}}`;
}

/**
 * The `$schema` for a plan written to `planFile`: PruneMap's own schema file (shipped in the package's
 * schemas/ folder) relative to the plan's folder, e.g. "./node_modules/prunemap/schemas/prune-plan.schema.json";
 * undefined when the schema file cannot be found (the plan is then written without `$schema`).
 */
export function defaultSchemaRef(planFile: string): string | undefined {
  const schema = schemaFilePath();
  if (!schema) return undefined;
  const rel = path.relative(path.dirname(path.resolve(planFile)), schema).split(path.sep).join('/');
  if (path.isAbsolute(rel)) return undefined; // another drive (Windows): no relative path exists
  return rel.startsWith('.') ? rel : `./${rel}`;
}

/** schemas/prune-plan.schema.json of this installation: beside dist/ (bundled) or two levels up from src/core/. */
export function schemaFilePath(): string | undefined {
  for (const up of [['..'], ['..', '..']]) {
    const candidate = path.resolve(__dirname, ...up, 'schemas', PLAN_SCHEMA_FILE);
    if (fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

function fileError(err: unknown, file: string, action: 'read' | 'write'): Error {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return action === 'read'
        ? new ModelError('no such plan file', file, 'Check the path; `prunemap map MODEL -o PLAN` writes a plan.')
        : new ModelError('cannot write the plan: its folder does not exist', file, 'Create the folder first, or give another output path.');
    case 'EACCES':
    case 'EPERM':
      return new ModelError(`permission denied (${action})`, file, action === 'read' ? 'Check the file\'s permissions.' : 'Write the plan to a folder you can write to.');
    case 'EISDIR':
      return new ModelError(action === 'read' ? 'is a folder, not a plan file' : 'cannot write the plan: a folder has that name', file, 'Give the path of a .prune.json file.');
    case 'ENOSPC':
      return new ModelError('cannot write the plan: no space left on the device', file, 'Free some space and try again.');
    default:
      return err instanceof Error ? err : new Error(String(err));
  }
}

function mb(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(bytes < 1024 * 1024 ? 2 : 1)} MB`;
}
