// One server job in a cancellable progress notification: the job reports work-done progress on a
// token made here (prunemap/prune, codegen, search), and Cancel cancels the request, which the
// server turns into an aborted job that leaves nothing behind.

import * as vscode from 'vscode';
import { WorkDoneProgress, type LanguageClient } from 'vscode-languageclient/node';

let tokens = 0;

/**
 * Runs `send` with a fresh work-done token under a notification titled `title`. Returns its result,
 * or undefined when the user cancelled (after telling them `cancelled`); other errors propagate.
 */
export async function withServerProgress<T>(
  client: LanguageClient,
  title: string,
  cancelled: string,
  send: (workDoneToken: string, cancel: vscode.CancellationToken) => Promise<T>,
): Promise<T | undefined> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, cancel) => {
    const workDoneToken = `prunemap-job-${process.pid}-${++tokens}`;
    let reported = 0;
    const listener = client.onProgress(WorkDoneProgress.type, workDoneToken, (value) => {
      if (value.kind === 'end') return;
      const percentage = value.percentage ?? reported;
      progress.report({ message: value.message, increment: Math.max(0, percentage - reported) });
      reported = Math.max(reported, percentage);
    });
    try {
      return await send(workDoneToken, cancel);
    } catch (err) {
      if (cancel.isCancellationRequested) {
        void vscode.window.showInformationMessage(cancelled);
        return undefined;
      }
      throw err;
    } finally {
      listener.dispose();
    }
  });
}
