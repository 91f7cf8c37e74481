// Diagnostics on the text view: information on every layer left dense (and why), warnings when
// the model's plan file does not match the model (its problems, placed on the layer they name),
// when the rule-based mapper could give no plan, and when the view is out of date because the
// model changed on disk.

import { DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver/node';
import * as path from 'node:path';
import { parsePointer } from '../core/plan-io';
import { lineLength, type ModelAnalysis } from './analysis';
import type { Session } from './session';

const source = 'prunemap';

export function textViewDiagnostics(session: Session, uri: string): Diagnostic[] {
  const tv = session.textViewOf(uri);
  if (!tv) return [];
  const a = tv.analysis;
  if (tv.stale) {
    return [warning(a, 0, `${path.basename(a.path)} changed on disk since this text view was made; open the text view again (prunemap/textView) to see its annotations`)];
  }
  const out: Diagnostic[] = [];
  const plan = tv.plan;
  const file = plan.planFile;
  if (file.stamp) {
    const name = path.basename(file.file);
    const errors = file.problems.filter((p) => p.severity === 'error').length;
    if (errors) out.push(warning(a, 0, `${name} has ${errors} error${errors === 1 ? '' : 's'}, so it is not used: the annotations show the rule-based plan`));
    for (const p of file.problems) {
      const layer = layerOfPointer(a, p.path);
      out.push(warning(a, layer?.line ?? 0, `${name}:${p.range.start.line}:${p.range.start.column}: ${p.message}`));
    }
  }
  if (plan.source === 'rules' && plan.rules.error) out.push(warning(a, 0, `no rule-based plan: ${plan.rules.error}`));
  for (const l of a.layers) {
    const entry = plan.entries.get(l.layer.id);
    if (l.line < 0 || !entry || entry.spec.scheme !== 'dense') continue;
    out.push({
      severity: DiagnosticSeverity.Information,
      range: lineRange(a, l.line),
      message: `${l.layer.id} is left dense: ${entry.reason}`,
      source,
    });
  }
  return out;
}

/** The layer a JSON pointer such as "/layers/conv1/rate" is about, if it names one of the model's. */
function layerOfPointer(a: ModelAnalysis, pointer: string) {
  const parts = parsePointer(pointer);
  return parts[0] === 'layers' && parts[1] !== undefined ? a.byId.get(parts[1]) : undefined;
}

function warning(a: ModelAnalysis, line: number, message: string): Diagnostic {
  return { severity: DiagnosticSeverity.Warning, range: lineRange(a, line), message, source };
}

function lineRange(a: ModelAnalysis, line: number) {
  return { start: { line, character: 0 }, end: { line, character: lineLength(a, line) } };
}
