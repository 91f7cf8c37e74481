// Validation of a plan against the model it is for: the checks of schemas/prune-plan.schema.json
// written by hand (so every message can say what is wrong and what would be right), then what a
// schema cannot know — layer ids that exist in the model (with the closest id as a suggestion),
// each scheme's feasibility for its layer (the scheme's own reason; its notes become warnings),
// and whether the plan was made for this file. Problems carry JSON pointers; validatePlanText
// also places them in the plan's text (line and column) for the CLI and the editor.
// docs/plan.md lists the rules and their messages; keep the three (schema, this file, doc) in step.

import * as path from 'node:path';
import type { Layer } from './layers';
import { walkGraphs } from './onnx/graph-view';
import type { Model } from './onnx/model';
import type { Plan, PlanLayer, PlanSummary } from './plan';
import { jsonPointer, parseJsonDocument, type JsonDocument, type TextPosition, type TextRange } from './plan-io';
import { getScheme, schemeIds } from './schemes/registry';
import type { SchemeId } from './schemes/scheme';
import { geometryOf } from './schemes/weight-matrix';

export type Severity = 'error' | 'warning';

export interface Problem {
  readonly severity: Severity;
  /** JSON pointer (RFC 6901) to what is wrong, e.g. "/layers/conv1/rate"; a missing member's pointer names it. */
  readonly path: string;
  readonly message: string;
}

/** A problem placed in the plan's text; `range` is where to underline (see rangeOf). */
export interface LocatedProblem extends Problem {
  readonly range: TextRange;
}

export interface ValidateOptions {
  /** The model file being checked against (its base name appears in messages). */
  readonly modelPath: string;
  /** The model file's SHA-256, to compare with the plan's `modelSha256`. */
  readonly modelSha256?: string;
  /** The plan file, when there is one: its `model` is relative to the plan's folder. */
  readonly planPath?: string;
}

export interface PlanValidation {
  /** The plan, with only known fields and `rate` filled in for dense entries; absent when there is any error. */
  readonly plan?: Plan;
  readonly problems: Problem[];
}

const TOP_KEYS = ['$schema', 'model', 'modelSha256', 'target', 'layers', 'summary'];
const ENTRY_KEYS = ['scheme', 'rate', 'block', 'n', 'm', 'patterns', 'library', 'reason', 'latency'];
const SUMMARY_KEYS = ['denseMs', 'prunedMs', 'speedup', 'compression'] as const;
const LATENCY_KEYS = ['denseMs', 'prunedMs'] as const;
/** Which schemes use which parameters (the others get a warning that it is ignored). */
const PARAMS_OF: Readonly<Record<string, readonly SchemeId[]>> = {
  block: ['block-punched', 'block-bcr'],
  n: ['nm'],
  m: ['nm'],
  patterns: ['pattern'],
  library: ['pattern'],
};
const PRUNABLE_OPS = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul', 'LSTM', 'GRU', 'RNN']);
/** C(9, 4): the number of distinct 4-of-9 kernel shapes. */
const MAX_PATTERNS = 126;

/** Checks a parsed plan (any JSON value) against the model and its prunable layers. */
export function validatePlan(json: unknown, model: Model, layers: readonly Layer[], options: ValidateOptions): PlanValidation {
  const problems: Problem[] = [];
  const error = (p: string, message: string) => problems.push({ severity: 'error', path: p, message });
  const warning = (p: string, message: string) => problems.push({ severity: 'warning', path: p, message });
  const modelName = path.basename(options.modelPath);

  if (!isObject(json)) {
    error('', `a plan is a JSON object with "model", "target" and "layers"; this is ${describe(json)}`);
    return { problems };
  }
  unknownKeys(json, '', TOP_KEYS, 'a plan has', error);

  const $schema = json.$schema;
  if ($schema !== undefined && typeof $schema !== 'string') error('/$schema', `"$schema" must be a string (where the plan's JSON Schema is), not ${describe($schema)}`);

  const model_ = requiredString(json, '', 'model', 'the model file\'s name, e.g. "resnet18.onnx"', error);
  if (model_ !== undefined && !sameModelFile(model_, options)) {
    warning('/model', `plan is for "${model_}" but the model being checked is "${modelName}"; layers may not match`);
  }

  const sha = json.modelSha256;
  let modelSha256: string | undefined;
  if (sha !== undefined) {
    if (typeof sha !== 'string') error('/modelSha256', `"modelSha256" must be a string of 64 hex digits, not ${describe(sha)}`);
    else if (!/^[0-9a-fA-F]{64}$/.test(sha)) error('/modelSha256', `"modelSha256" must be the model file's SHA-256: 64 hex digits (this has ${sha.length} characters)`);
    else {
      modelSha256 = sha;
      if (options.modelSha256 && sha.toLowerCase() !== options.modelSha256.toLowerCase()) {
        warning('/modelSha256', `plan was made for a different version of the model (sha256 ${sha.slice(0, 12)}…; ${modelName} has ${options.modelSha256.slice(0, 12)}…); layers may not match`);
      }
    }
  }

  const target = requiredString(json, '', 'target', 'the device profile the plan is for, e.g. "host-cpu"', error);
  const summary = json.summary === undefined ? undefined : checkSummary(json.summary, error);

  let entries: [string, PlanLayer][] | undefined;
  const layersValue = json.layers;
  if (layersValue === undefined) error('/layers', 'missing "layers": an object from layer id to its scheme, e.g. {"conv1": {"scheme": "filter", "rate": 0.5}}');
  else if (!isObject(layersValue)) error('/layers', `"layers" must be an object from layer id to its scheme, not ${describe(layersValue)}`);
  else {
    entries = [];
    const byId = new Map(layers.map((l) => [l.id, l]));
    let nodes: Map<string, string> | undefined; // node name → op type, built on the first unknown id
    for (const [id, value] of Object.entries(layersValue)) {
      const p = jsonPointer('layers', id);
      const layer = byId.get(id);
      if (!layer) {
        nodes ??= nodeOps(model);
        error(p, unknownLayer(id, layers, nodes, modelName));
      }
      const entry = checkEntry(value, p, error, warning);
      if (!entry) continue;
      entries.push([id, entry]);
      if (layer && entry.scheme !== 'dense') checkFeasible(layer, id, entry, p, error, warning);
    }
  }

  if (problems.some((x) => x.severity === 'error') || model_ === undefined || target === undefined || !entries) return { problems };
  const plan: Plan = {
    ...(typeof $schema === 'string' ? { $schema } : {}),
    model: model_,
    ...(modelSha256 ? { modelSha256 } : {}),
    target,
    layers: Object.fromEntries(entries), // defines own properties, so an id such as "__proto__" stays a key
    ...(summary ? { summary } : {}),
  };
  return { plan, problems };
}

/** Parses plan text and validates it; every problem (syntax errors too) comes with its place in the text. */
export function validatePlanText(text: string, model: Model, layers: readonly Layer[], options: ValidateOptions): { plan?: Plan; problems: LocatedProblem[] } {
  const doc = parseJsonDocument(text);
  if (doc.errors.length) {
    return { problems: doc.errors.map((e) => ({ severity: 'error', path: '', message: `not valid JSON: ${e.message}`, range: { start: e.start, end: e.end } })) };
  }
  const located: LocatedProblem[] = doc.duplicates.map((d) => {
    const parts = d.pointer.split('/');
    const inLayers = parts.length === 3 && parts[1] === 'layers';
    const what = inLayers ? `layer "${unescape(parts[2])}" is listed twice` : `"${unescape(parts[parts.length - 1])}" appears twice in the same object`;
    return { severity: 'warning' as const, path: d.pointer, message: `${what}; only the last one counts`, range: d.key };
  });
  const { plan, problems } = validatePlan(doc.value, model, layers, options);
  for (const p of problems) located.push({ ...p, range: rangeOf(doc, p.path) });
  located.sort((a, b) => a.range.start.offset - b.range.start.offset);
  return { plan, problems: located };
}

/**
 * Where to underline a pointer: a scalar value itself; for an object or array member its name
 * (underlining a whole layer entry would cover many lines); for a missing member the name of the
 * member that should hold it (or the first character of the text at the top level).
 */
export function rangeOf(doc: JsonDocument, pointer: string): TextRange {
  const loc = doc.locate(pointer);
  if (!loc) return { start: doc.positionAt(0), end: doc.positionAt(0) };
  const container = /^[[{]/.test(doc.text.slice(loc.value.start.offset, loc.value.start.offset + 1));
  if (loc.exact && !container) return loc.value;
  return loc.key ?? { start: loc.value.start, end: doc.positionAt(loc.value.start.offset + 1) };
}

/** One line for people: "plan.json:4:17: error: rate 1.2 is outside [0, 1) …". */
export function formatProblem(file: string, p: LocatedProblem): string {
  return `${file}:${p.range.start.line}:${p.range.start.column}: ${p.severity}: ${p.message}`;
}

export type { TextPosition, TextRange };

// ---- the pieces ----

type Report = (path: string, message: string) => void;

function checkEntry(value: unknown, p: string, error: Report, warning: Report): PlanLayer | undefined {
  if (!isObject(value)) {
    error(p, `a layer entry is an object such as {"scheme": "block-punched", "block": [8, 4], "rate": 0.75}, not ${describe(value)}`);
    return undefined;
  }
  let ok = true;
  const fail: Report = (q, m) => {
    ok = false;
    error(q, m);
  };
  unknownKeys(value, p, ENTRY_KEYS, 'a layer entry has', fail);

  const scheme = value.scheme;
  let id: SchemeId | undefined;
  if (scheme === undefined) fail(`${p}/scheme`, `missing "scheme": one of ${schemeIds.join(', ')}`);
  else if (typeof scheme !== 'string') fail(`${p}/scheme`, `"scheme" must be a string (one of ${schemeIds.join(', ')}), not ${describe(scheme)}`);
  else if (!(schemeIds as readonly string[]).includes(scheme)) {
    const near = closest(scheme, schemeIds);
    fail(`${p}/scheme`, `unknown scheme "${scheme}"${near ? `; did you mean "${near}"?` : ''} Schemes: ${schemeIds.join(', ')}`);
  } else id = scheme as SchemeId;

  let rate = value.rate;
  if (id === 'dense') {
    if (rate === undefined) rate = 0;
    else if (rate !== 0) fail(`${p}/rate`, `a dense layer has rate 0 (it is not pruned); this says ${describe(rate)}. Choose a scheme to prune it`);
  } else if (rate === undefined) {
    if (id) fail(`${p}/rate`, `missing "rate": the fraction of the layer's weights to set to zero, in [0, 1)`);
  } else if (typeof rate !== 'number') fail(`${p}/rate`, `"rate" must be a number in [0, 1), not ${describe(rate)}`);
  else if (!Number.isFinite(rate) || rate < 0 || rate >= 1) {
    fail(`${p}/rate`, `rate ${num(rate)} is outside [0, 1): it is the fraction of the layer's weights set to zero${rate >= 1 ? ' (1 would remove the whole layer)' : ''}`);
  }

  const block = value.block;
  if (block !== undefined) {
    if (!Array.isArray(block) || block.length !== 2 || !block.every(isPositiveInt)) {
      fail(`${p}/block`, `"block" must be two positive integers such as [8, 4], not ${describe(block)}`);
    }
  } else if (id === 'block-punched') fail(`${p}/block`, 'missing "block": block-punched needs [filters, input channels] per block, e.g. [8, 4]');
  else if (id === 'block-bcr') fail(`${p}/block`, 'missing "block": block-bcr needs [rows, columns] of the weight matrix per block, e.g. [4, 16]');

  for (const k of ['n', 'm'] as const) {
    const v = value[k];
    if (v === undefined) {
      if (id === 'nm') fail(`${p}/${k}`, `missing "${k}": nm keeps n of every m consecutive input weights, e.g. "n": 2, "m": 4`);
    } else if (!isPositiveInt(v) || (k === 'm' && v < 2)) fail(`${p}/${k}`, `"${k}" must be an integer ≥ ${k === 'n' ? 1 : 2}, not ${describe(v)}`);
  }
  if (isPositiveInt(value.n) && isPositiveInt(value.m) && value.m >= 2 && value.n >= value.m) {
    fail(`${p}/n`, `n (${value.n}) must be smaller than m (${value.m}): nm keeps n of every m weights`);
  }

  const patterns = value.patterns;
  if (patterns !== undefined && (!isPositiveInt(patterns) || patterns > MAX_PATTERNS)) {
    fail(`${p}/patterns`, `"patterns" must be an integer from 1 to ${MAX_PATTERNS} (the number of kernel shapes), not ${describe(patterns)}`);
  }
  const library = value.library;
  if (library !== undefined) {
    if (!Array.isArray(library) || library.length === 0 || library.length > MAX_PATTERNS) {
      fail(`${p}/library`, `"library" must be a list of 1 to ${MAX_PATTERNS} kernel shapes (9-bit masks), not ${describe(library)}`);
    } else {
      library.forEach((x, i) => {
        if (!(typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 511)) fail(`${p}/library/${i}`, `library entry ${describe(x)} is not a 9-bit mask (an integer from 0 to 511)`);
        else if (library.indexOf(x) !== i) fail(`${p}/library/${i}`, `library entry ${x} appears twice`);
      });
      if (isPositiveInt(patterns) && patterns !== library.length && id === 'pattern') {
        warning(`${p}/patterns`, `"patterns" is ${patterns} but "library" has ${library.length} shapes; the library is used as it is`);
      }
    }
  }

  if (id) {
    for (const [k, users] of Object.entries(PARAMS_OF)) {
      if (value[k] !== undefined && !users.includes(id)) warning(`${p}/${k}`, `"${k}" is not used by scheme ${id} (only by ${users.join(' and ')}); it is ignored`);
    }
  }

  const reason = value.reason;
  if (reason !== undefined && typeof reason !== 'string') fail(`${p}/reason`, `"reason" must be a string, not ${describe(reason)}`);

  const latency = value.latency;
  if (latency !== undefined) checkNumbers(latency, `${p}/latency`, LATENCY_KEYS, '"latency" must be an object {"denseMs": …, "prunedMs": …}', fail);

  if (!ok || !id) return undefined;
  const spec: Record<string, unknown> = { scheme: id, rate };
  for (const k of ['block', 'n', 'm', 'patterns', 'library', 'reason', 'latency']) if (value[k] !== undefined) spec[k] = value[k];
  return spec as unknown as PlanLayer;
}

function checkFeasible(layer: Layer, id: string, entry: PlanLayer, p: string, error: Report, warning: Report): void {
  const scheme = getScheme(entry.scheme);
  if (!scheme) {
    error(`${p}/scheme`, `scheme ${entry.scheme} is not available in this version of PruneMap`);
    return;
  }
  const f = scheme.feasible(geometryOf(layer), entry);
  const where = `${p}/${parameterNamed(f.ok ? f.note ?? '' : f.reason, entry)}`;
  if (!f.ok) error(where, `${entry.scheme} cannot prune layer "${id}" (${describeLayer(layer)}): ${f.reason}`);
  else if (f.note) warning(where, `layer "${id}" (${describeLayer(layer)}): ${f.note}`);
}

/** Which parameter a scheme's reason is about, to point at it; "scheme" when none is named. */
function parameterNamed(reason: string, entry: PlanLayer): string {
  const r = reason.toLowerCase();
  if (entry.block && /\bblock\b/.test(r)) return 'block';
  if (entry.library && /\blibrary\b/.test(r)) return 'library';
  if (entry.patterns !== undefined && /"patterns"/.test(r)) return 'patterns';
  if (/\brate\b/.test(r)) return 'rate';
  return 'scheme';
}

function describeLayer(l: Layer): string {
  const kernel = l.kernel.length ? ` ${l.kernel.join('×')}` : '';
  const group = l.group > 1 ? `, ${l.group} groups` : '';
  return `${l.op}${kernel}${group}, weight [${l.weightShape.join(', ')}]`;
}

function checkSummary(value: unknown, error: Report): PlanSummary | undefined {
  const ok = checkNumbers(value, '/summary', SUMMARY_KEYS, '"summary" must be an object {"denseMs", "prunedMs", "speedup", "compression"}', error);
  if (!ok) return undefined;
  const v = value as Record<string, number>;
  if (v.compression < 1) {
    error('/summary/compression', `"compression" is 1 / (1 − overall rate), at least 1; this says ${num(v.compression)}`);
    return undefined;
  }
  return { denseMs: v.denseMs, prunedMs: v.prunedMs, speedup: v.speedup, compression: v.compression };
}

/** An object with exactly these keys, each a finite number ≥ 0. */
function checkNumbers(value: unknown, p: string, keys: readonly string[], shape: string, error: Report): boolean {
  if (!isObject(value)) {
    error(p, `${shape}, not ${describe(value)}`);
    return false;
  }
  let ok = true;
  const fail: Report = (q, m) => {
    ok = false;
    error(q, m);
  };
  unknownKeys(value, p, keys, 'it has', fail);
  for (const k of keys) {
    const v = value[k];
    if (v === undefined) fail(`${p}/${k}`, `missing "${k}"`);
    else if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(`${p}/${k}`, `"${k}" must be a number ≥ 0, not ${describe(v)}`);
  }
  return ok;
}

function requiredString(o: Record<string, unknown>, p: string, key: string, what: string, error: Report): string | undefined {
  const v = o[key];
  if (v === undefined) error(`${p}/${key}`, `missing "${key}": ${what}`);
  else if (typeof v !== 'string' || v === '') error(`${p}/${key}`, `"${key}" must be ${what}, not ${describe(v)}`);
  else return v;
  return undefined;
}

function unknownKeys(o: Record<string, unknown>, p: string, known: readonly string[], has: string, error: Report): void {
  for (const k of Object.keys(o)) {
    if (known.includes(k)) continue;
    const near = closest(k, known);
    error(`${p}${jsonPointer(k)}`, `unknown property "${k}"${near ? `; did you mean "${near}"?` : ''} (${has} ${known.join(', ')})`);
  }
}

/**
 * Whether the plan names this model: the same file relative to the plan's folder, or the same file
 * name (a plan kept in another folder and given explicitly alongside its model; the hash, when
 * present, is the real check).
 */
function sameModelFile(planModel: string, options: ValidateOptions): boolean {
  if (options.planPath && path.resolve(path.dirname(options.planPath), planModel) === path.resolve(options.modelPath)) return true;
  return path.basename(planModel.replace(/\\/g, '/')) === path.basename(options.modelPath);
}

function unknownLayer(id: string, layers: readonly Layer[], nodes: Map<string, string>, modelName: string): string {
  const byWeight = layers.find((l) => l.weight === id || l.weightTensor.name === id);
  if (byWeight) return `no layer "${id}" in ${modelName}: "${id}" is the weight of layer "${byWeight.id}"; plans name a layer by its node's name (see docs/cli.md)`;
  const op = nodes.get(id);
  if (op !== undefined) {
    const why = PRUNABLE_OPS.has(op) ? 'but its weight is computed at run time, not a constant, so it is not prunable' : 'which has no prunable weight';
    return `no layer "${id}" in ${modelName}: it is a ${op} node, ${why}`;
  }
  if (layers.length === 0) return `no layer "${id}" in ${modelName}: the model has no prunable layers`;
  const near = closest(id, layers.map((l) => l.id));
  return near ? `no layer "${id}" in ${modelName}; did you mean "${near}"?` : `no layer "${id}" in ${modelName} (\`prunemap inspect ${modelName}\` lists its ${layers.length} layers)`;
}

function nodeOps(model: Model): Map<string, string> {
  const ops = new Map<string, string>();
  for (const ctx of walkGraphs(model)) for (const n of ctx.graph.nodes) if (n.name && !ops.has(n.name)) ops.set(n.name, n.opType);
  return ops;
}

/** The candidate nearest to `word` by edit distance, when near enough to be a likely typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  const exactCase = candidates.find((c) => c.toLowerCase() === lower);
  if (exactCase) return exactCase;
  const limit = Math.max(1, Math.min(4, Math.floor(word.length / 3)));
  let best: string | undefined;
  let bestD = limit + 1;
  for (const c of candidates) {
    if (Math.abs(c.length - word.length) >= bestD) continue;
    const d = editDistance(lower, c.toLowerCase(), bestD);
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best;
}

/** Levenshtein distance, giving up (returning `cap`) once it must reach `cap`. */
export function editDistance(a: string, b: string, cap = Infinity): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      if (v < rowMin) rowMin = v;
    }
    if (rowMin >= cap) return cap;
    prev = cur;
  }
  return prev[b.length];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isPositiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

function num(x: number): string {
  return Number.isFinite(x) ? String(Number(x.toPrecision(6))) : String(x);
}

/** A JSON value for messages: "an array", "the string \"x\"", "the number 3", "null". */
function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return v.length <= 4 && v.every((x) => typeof x !== 'object') ? `the array ${JSON.stringify(v)}` : `an array of ${v.length}`;
  switch (typeof v) {
    case 'string': return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
    case 'number': return `the number ${num(v)}`;
    case 'boolean': return String(v);
    case 'object': return 'an object';
    default: return String(v);
  }
}

function unescape(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}
