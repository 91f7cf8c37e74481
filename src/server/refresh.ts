// After anything that changes annotations (an override, a target, a model or plan file changed on
// disk): publish diagnostics again for the open documents it concerns and ask the client to fetch
// inlay hints and code lenses again (when it supports those refresh requests).

import { CodeLensRefreshRequest, DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { ModelError } from '../core/errors';
import { textViewDiagnostics } from './diagnostics';
import { toResponseError } from './errors';
import { planFileDiagnostics } from './plan-file';
import type { Session } from './session';
import { isPlanFilePath, tryPathOfFileUri } from './uris';

/** Diagnostics of one open document: a text view the server handed out, or a plan file. */
export function publishDiagnostics(session: Session, doc: TextDocument): void {
  let diagnostics: Diagnostic[];
  try {
    diagnostics = diagnosticsOf(session, doc);
  } catch (err) {
    // The model went away or broke: say so on the document rather than leave old annotations.
    if (!(err instanceof ModelError)) session.log.debug(toResponseError(err, 'diagnostics', session.log).message);
    const message = err instanceof ModelError ? err.message : 'could not analyse the model (see the server log)';
    diagnostics = [{ severity: DiagnosticSeverity.Error, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, message, source: 'prunemap' }];
  }
  void session.connection.sendDiagnostics({ uri: doc.uri, version: doc.version, diagnostics });
}

function diagnosticsOf(session: Session, doc: TextDocument): Diagnostic[] {
  if (session.textViewModel(doc.uri)) return textViewDiagnostics(session, doc.uri);
  const file = tryPathOfFileUri(doc.uri);
  if (file && isPlanFilePath(file)) return planFileDiagnostics(session, doc);
  return [];
}

/** Republishes diagnostics for the documents of these models (all when omitted) and asks for fresh hints and lenses. */
export function refreshAnnotations(session: Session, models?: readonly string[]): void {
  for (const doc of session.documents.all()) {
    const model = session.textViewModel(doc.uri);
    const concerned = model ? !models || models.includes(model) : session.openPlanFiles().includes(doc);
    if (concerned) publishDiagnostics(session, doc);
  }
  const failed = (what: string) => (err: unknown) => session.log.debug(`${what} refresh failed: ${String(err)}`);
  if (session.client.inlayHintRefresh) session.connection.languages.inlayHint.refresh().catch(failed('inlay hint'));
  if (session.client.codeLensRefresh) session.connection.sendRequest(CodeLensRefreshRequest.type).catch(failed('code lens'));
}
