// Plan files (`*.prune.json`) open in the editor: diagnostics from validating the document's text
// against its model (docs/plan.md's rules, placed where each problem is), completion of layer ids
// and scheme names, and a hover on a layer entry with the layer's shapes and estimated latency.
// The model is the plan's `model` (relative to the plan's folder), else `<name>.onnx` beside it.

import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  CompletionItemKind, DiagnosticSeverity, MarkupKind,
  type CompletionItem, type CompletionParams, type Diagnostic, type Hover, type HoverParams,
} from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { ModelError } from '../core/errors';
import { estimateLayer } from '../core/latency/estimate';
import { jsonCursorAt, parseJsonDocument } from '../core/plan-io';
import { validatePlanText } from '../core/plan-validate';
import { getScheme, schemeIds } from '../core/schemes/registry';
import type { SchemeSpec } from '../core/schemes/scheme';
import { cannotPrune } from './alternatives';
import { code, count, md, ms, schemeLabel, shape, speedup } from './format';
import { basisWords } from './hover';
import { validateOptions } from './plan-state';
import type { ModelView, Session } from './session';
import { tryPathOfFileUri } from './uris';

const source = 'prunemap';

/** The model a plan file is for: its `model` field (relative to the plan), else `<name>.onnx` beside it. */
export function modelOfPlanFile(planPath: string, text: string): { model?: string; tried: string[] } {
  const tried: string[] = [];
  const doc = parseJsonDocument(text);
  const named = (doc.value as { model?: unknown } | undefined)?.model ?? /"model"\s*:\s*"((?:[^"\\]|\\.)*)"/.exec(text)?.[1];
  if (typeof named === 'string' && named) tried.push(path.resolve(path.dirname(planPath), named));
  tried.push(path.join(path.dirname(planPath), `${path.basename(planPath).replace(/\.prune\.json$/i, '')}.onnx`));
  return { model: tried.find(isFile), tried };
}

export function planFileDiagnostics(session: Session, doc: TextDocument): Diagnostic[] {
  const planPath = tryPathOfFileUri(doc.uri);
  if (!planPath) return [];
  const text = doc.getText();
  const { model, tried } = modelOfPlanFile(planPath, text);
  const top = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  if (!model) {
    const names = tried.map((t) => path.relative(path.dirname(planPath), t) || t).join(' or ');
    return [{ severity: DiagnosticSeverity.Warning, range: top, source, message: `cannot check the plan against its model: no model file ${names} next to the plan` }];
  }
  let view: ModelView;
  try {
    view = session.view(model);
  } catch (err) {
    if (!(err instanceof ModelError)) throw err;
    return [{ severity: DiagnosticSeverity.Error, range: top, source, message: err.message }];
  }
  const a = view.analysis;
  const json = parseJsonDocument(text).value;
  const { problems } = validatePlanText(text, a.loaded.model, a.layers.map((l) => l.layer), validateOptions(a, planPath, json));
  return problems.map((p) => ({
    severity: p.severity === 'error' ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    range: {
      start: { line: p.range.start.line - 1, character: p.range.start.column - 1 },
      end: { line: p.range.end.line - 1, character: p.range.end.column - 1 },
    },
    message: p.message,
    source,
  }));
}

export function planFileCompletion(session: Session, params: CompletionParams): CompletionItem[] {
  const ctx = contextAt(session, params.textDocument.uri, params.position);
  if (!ctx) return [];
  const { view, cursor, doc } = ctx;
  const p = cursor.path;
  const edit = (value: string) => {
    const s = cursor.string;
    if (!s) return { insertText: JSON.stringify(value) };
    const inner = JSON.stringify(value).slice(1, -1);
    return { textEdit: { range: { start: doc.positionAt(s.start), end: doc.positionAt(s.end) }, newText: inner }, filterText: inner };
  };
  if (p.length === 2 && p[0] === 'layers' && cursor.atKey) {
    return view.analysis.layers.map((l, i): CompletionItem => {
      const entry = view.plan.entries.get(l.layer.id);
      return {
        label: l.layer.id,
        kind: CompletionItemKind.Property,
        detail: `${l.layer.op} ${shape(l.layer.weightShape)}`,
        documentation: entry ? `${schemeLabel(entry.spec)} in the current plan: ${entry.reason}` : undefined,
        sortText: String(i).padStart(6, '0'),
        ...edit(l.layer.id),
      };
    });
  }
  if (p.length === 3 && p[0] === 'layers' && p[2] === 'scheme' && !cursor.atKey) {
    const layer = view.analysis.byId.get(String(p[1]));
    return schemeIds.map((id, i): CompletionItem => {
      const why = layer ? cannotPrune(layer, id) : undefined;
      return {
        label: id,
        kind: CompletionItemKind.EnumMember,
        detail: why ? `not for this layer: ${why}` : (id === 'dense' ? 'leave the layer unpruned' : getScheme(id)?.summary),
        sortText: `${why ? 1 : 0}${i}`,
        ...edit(id),
      };
    });
  }
  return [];
}

export function planFileHover(session: Session, params: HoverParams): Hover | null {
  const ctx = contextAt(session, params.textDocument.uri, params.position);
  if (!ctx || ctx.cursor.path[0] !== 'layers' || ctx.cursor.path.length < 2) return null;
  const { view, doc } = ctx;
  const id = String(ctx.cursor.path[1]);
  const l = view.analysis.byId.get(id);
  if (!l) return null;
  const profile = view.plan.profile;
  const dense = estimateLayer(l.layer, 'dense', profile);
  const written = (parseJsonDocument(doc.getText()).value as { layers?: Record<string, unknown> } | undefined)?.layers?.[id];
  const spec = specIn(written);
  const f = spec && spec.scheme !== 'dense' ? getScheme(spec.scheme)?.feasible(l.geometry, spec) : undefined;
  let latency = `dense ${ms(dense.ms)} ms`;
  if (spec && spec.scheme !== 'dense' && f?.ok) {
    const pruned = estimateLayer(l.layer, spec, profile);
    latency += ` → pruned ${ms(pruned.ms)} ms (${speedup(dense.ms, pruned.ms)} faster) as ${schemeLabel(spec)}`;
  } else if (f && !f.ok) latency += ` (this entry is infeasible: ${md(f.reason)})`;
  const s = view.analysis.summary.layers.find((x) => x.id === id);
  const value = [
    `**${code(id)}** — ${l.layer.op}${l.layer.kernel.length ? ` ${l.layer.kernel.join('×')}` : ''}${l.layer.group > 1 ? `, ${l.layer.group} groups` : ''}`,
    '',
    `weight ${code(shape(l.layer.weightShape))} · ${code(shape(s?.inputShape ?? null))} → ${code(shape(s?.outputShape ?? null))} · ${count(l.layer.params)} params · ${count(l.layer.macs)} MACs`,
    '',
    `**Latency on ${profile.id} (${basisWords(profile.basis)}):** ${latency}`,
  ].join('\n');
  return { contents: { kind: MarkupKind.Markdown, value } };
}

/** The open plan document at a URI with its model's view and what the cursor is on. */
function contextAt(session: Session, uri: string, position: { line: number; character: number }) {
  const doc = session.documents.get(uri);
  const planPath = tryPathOfFileUri(uri);
  if (!doc || !planPath) return undefined;
  const text = doc.getText();
  const { model } = modelOfPlanFile(planPath, text);
  if (!model) return undefined;
  let view: ModelView;
  try {
    view = session.view(model);
  } catch (err) {
    if (err instanceof ModelError) return undefined;
    throw err;
  }
  return { doc, view, cursor: jsonCursorAt(text, doc.offsetAt(position)) };
}

/** A plan entry's scheme fields, when it looks like one. */
function specIn(entry: unknown): SchemeSpec | undefined {
  if (typeof entry !== 'object' || entry === null) return undefined;
  const e = entry as Record<string, unknown>;
  if (typeof e.scheme !== 'string' || !schemeIds.includes(e.scheme as SchemeSpec['scheme'])) return undefined;
  return { ...(e as object), scheme: e.scheme, rate: typeof e.rate === 'number' ? e.rate : 0 } as SchemeSpec;
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}
