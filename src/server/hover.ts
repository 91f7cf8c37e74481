// Hover on a layer's line in the text view: shapes, params and MACs, the chosen scheme and why,
// the estimated latency dense → pruned on the active target, and the best alternatives with their
// latency. The same markdown answers prunemap/layerDetails ("Why this scheme?").

import type { Hover, HoverParams } from 'vscode-languageserver/node';
import { MarkupKind } from 'vscode-languageserver/node';
import type { LayerSummary } from '../protocol/types';
import { accuracyRisk, alternativesFor } from './alternatives';
import { lineLength, type AnalysedLayer } from './analysis';
import { code, count, md, ms, percent, schemeLabel, shape, speedup } from './format';
import type { CurrentEntry } from './plan-state';
import type { ModelView, Session } from './session';

export function hoverOnTextView(session: Session, params: HoverParams): Hover | null {
  const tv = session.textViewOf(params.textDocument.uri);
  if (!tv || tv.stale) return null;
  const l = tv.analysis.atLine.get(params.position.line);
  if (!l) return null;
  const line = params.position.line;
  return {
    contents: { kind: MarkupKind.Markdown, value: layerMarkdown(session, tv, l) },
    range: { start: { line, character: 0 }, end: { line, character: lineLength(tv.analysis, line) } },
  };
}

/** The layer in markdown: metrics, scheme and reason, latency, alternatives. */
export function layerMarkdown(session: Session, view: ModelView, l: AnalysedLayer): string {
  const entry = view.plan.entries.get(l.layer.id) as CurrentEntry;
  const summary = view.analysis.summary.layers.find((s) => s.id === l.layer.id) as LayerSummary;
  const profile = view.plan.profile;
  const target = `${profile.id} (${basisWords(profile.basis)})`;
  const lines = [
    `**${code(l.layer.id)}** — ${l.layer.op}${describeKernel(summary)}`,
    '',
    '| weight | input → output | params | MACs |',
    '| --- | --- | --- | --- |',
    `| ${code(shape(summary.weightShape))} | ${code(shape(summary.inputShape))} → ${code(shape(summary.outputShape))} | ${count(summary.params)} | ${count(summary.macs)} |`,
    '',
    `**Scheme:** ${schemeLabel(entry.spec)}${entry.spec.scheme === 'dense' ? '' : ` at ${percent(entry.spec.rate)}`} (${sourceWords(entry)})  `,
    `**Why:** ${md(entry.reason || 'no reason given')}${entry.note ? `  \n**Note:** ${md(entry.note)}` : ''}`,
    '',
    `**Latency on ${target}:** dense ${ms(entry.dense.ms)} ms → pruned ${ms(entry.pruned.ms)} ms (${speedup(entry.dense.ms, entry.pruned.ms)} faster)`,
  ];
  const rules = view.plan.rules.plan?.layers[l.layer.id];
  if (entry.source !== 'rules' && rules) {
    lines.push('', `The rule-based mapper would choose ${schemeLabel(rules)}${rules.scheme === 'dense' ? '' : ` at ${percent(rules.rate)}`}: ${md(rules.reason ?? '')}`);
  }
  const alternatives = alternativesFor(l, entry.spec, profile, session.settings, 4);
  if (alternatives.length) {
    lines.push('', `Best alternatives on ${profile.id}:`, '', '| scheme | rate | pruned ms | speedup | accuracy risk |', '| --- | --- | --- | --- | --- |');
    for (const a of alternatives) lines.push(`| ${schemeLabel(a.spec)} | ${percent(a.spec.rate)} | ${ms(a.prunedMs)} | ${speedup(a.denseMs, a.prunedMs)} | ${accuracyRisk(a.spec)} |`);
  }
  return lines.join('\n');
}

/** Whether the target's figures come from timings on this machine (`prunemap calibrate`) or from the model alone. */
export function basisWords(basis: 'modelled' | 'measured'): string {
  return basis === 'measured' ? 'measured on this machine' : 'modelled';
}

function describeKernel(s: LayerSummary): string {
  const parts = [s.kernel.length ? ` ${s.kernel.join('×')}` : '', s.group > 1 ? `, ${s.group} groups` : ''];
  return parts.join('');
}

function sourceWords(e: CurrentEntry): string {
  switch (e.source) {
    case 'override': return 'your override';
    case 'file': return 'from the plan file';
    default: return 'rule-based plan';
  }
}
