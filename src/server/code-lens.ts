// Code lenses on the text view: "Prune model…" and, in a trusted workspace, "Generate sparse
// code…" on the first line, and "Why this scheme?" and "Change scheme…" on every prunable layer's
// line. The client implements the commands (ids and arguments in src/protocol/constants.ts,
// docs/protocol.md).

import type { CodeLens, CodeLensParams } from 'vscode-languageserver/node';
import { Commands, type LayerArgs, type PruneModelArgs } from '../protocol/constants';
import { ms } from './format';
import type { Session } from './session';
import { fileUriOf } from './uris';

export function codeLenses(session: Session, params: CodeLensParams): CodeLens[] {
  const tv = session.textViewOf(params.textDocument.uri);
  if (!tv || tv.stale) return [];
  const uri = fileUriOf(tv.analysis.path);
  const top = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  const t = tv.plan.totals;
  const pruneArgs: PruneModelArgs = { uri, textUri: params.textDocument.uri };
  const lenses: CodeLens[] = [{
    range: top,
    command: { title: `Prune model… (${ms(t.denseMs)} → ${ms(t.prunedMs)} ms on ${tv.plan.profile.id}, ${t.compression.toFixed(1)}× smaller)`, command: Commands.pruneModel, arguments: [pruneArgs] },
  }];
  // Generated code is compiled and run: offered only in a trusted workspace (prunemap/workspaceTrust).
  if (session.workspaceTrusted) {
    lenses.push({ range: top, command: { title: 'Generate sparse code…', command: Commands.generateCode, arguments: [pruneArgs] } });
  }
  for (const l of tv.analysis.layers) {
    if (l.line < 0) continue;
    const range = { start: { line: l.line, character: 0 }, end: { line: l.line, character: 0 } };
    const args: LayerArgs = { uri, layer: l.layer.id };
    lenses.push(
      { range, command: { title: 'Why this scheme?', command: Commands.explainLayer, arguments: [args] } },
      { range, command: { title: 'Change scheme…', command: Commands.changeScheme, arguments: [args] } },
    );
  }
  return lenses;
}
