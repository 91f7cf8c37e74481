// The status bar item: the target device and the planned compression and speedup of the model in
// front (overview or text view); hidden when no model is in front. A click picks another target.

import * as vscode from 'vscode';
import { AnalyzeRequest } from '../protocol/messages';
import { activeModel, onDidChangeActiveModel } from './active-model';
import type { Backend } from './backend';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('prunemap.status', vscode.StatusBarAlignment.Right, 100);

  constructor(private readonly backend: Backend) {
    this.item.name = 'PruneMap';
    this.item.command = 'prunemap.selectTarget';
  }

  /** Shows the figures of the model in front, or hides the item. */
  async update(): Promise<void> {
    try {
      const model = await activeModel(this.backend);
      if (!model) {
        this.item.hide();
        return;
      }
      const { plan } = await this.backend.client.sendRequest(AnalyzeRequest.type, { uri: model.toString() });
      const { compression, speedup } = plan.totals;
      this.item.text = `$(dashboard) ${plan.target} · ${compression.toFixed(1)}× · ${speedup.toFixed(1)}× faster`;
      this.item.tooltip = `PruneMap: the plan prunes to ${compression.toFixed(2)}× compression, estimated ${speedup.toFixed(2)}× faster on ${plan.target} (${plan.basis}). Click to choose another target device.`;
      this.item.show();
    } catch {
      this.item.hide(); // the model could not be analysed: its editor shows why
    }
  }

  dispose(): void {
    this.item.dispose();
  }
}

export function registerStatusBar(context: vscode.ExtensionContext, backend: Backend): StatusBar {
  const bar = new StatusBar(backend);
  context.subscriptions.push(bar, onDidChangeActiveModel(() => void bar.update()));
  return bar;
}
