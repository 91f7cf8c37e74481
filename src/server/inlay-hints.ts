// Inlay hints on the text view: at the end of every prunable layer's line, its scheme, rate and
// predicted speedup on the active target ("block-punched 8×4 · 87.5% · 3.1×"); a dense layer says
// why in a word ("dense · first layer"). The tooltip holds the full reason and the latency.

import { MarkupKind, type InlayHint, type InlayHintParams } from 'vscode-languageserver/node';
import { lineLength } from './analysis';
import { md, ms, percent, schemeLabel, speedup } from './format';
import type { CurrentEntry } from './plan-state';
import type { Session } from './session';

export function inlayHints(session: Session, params: InlayHintParams): InlayHint[] {
  const tv = session.textViewOf(params.textDocument.uri);
  if (!tv || tv.stale) return [];
  const { start, end } = params.range;
  const hints: InlayHint[] = [];
  for (const l of tv.analysis.layers) {
    if (l.line < start.line || l.line > end.line) continue;
    const entry = tv.plan.entries.get(l.layer.id) as CurrentEntry;
    hints.push({
      position: { line: l.line, character: lineLength(tv.analysis, l.line) },
      label: hintLabel(entry),
      paddingLeft: true,
      tooltip: {
        kind: MarkupKind.Markdown,
        value: `${md(entry.reason)}\n\n${tv.plan.profile.id}: ${ms(entry.dense.ms)} ms → ${ms(entry.pruned.ms)} ms`,
      },
    });
  }
  return hints;
}

/** "block-punched 8×4 · 87.5% · 3.1×", or "dense · first layer". */
function hintLabel(entry: CurrentEntry): string {
  if (entry.spec.scheme === 'dense') return `dense · ${denseWhy(entry)}`;
  return `${schemeLabel(entry.spec)} · ${percent(entry.spec.rate)} · ${speedup(entry.dense.ms, entry.pruned.ms)}`;
}

/** The reason's first clause ("first layer", "depthwise conv", "small layer"), kept short. */
function denseWhy(entry: CurrentEntry): string {
  if (entry.source === 'override') return 'your override';
  const head = entry.reason.split(/[:;(]/)[0].trim() || 'not pruned';
  return head.length > 40 ? `${head.slice(0, 39)}…` : head;
}
