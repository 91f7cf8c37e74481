// The view's actions: open the ONNX text view (at the selected layer), prune with the current
// plan, open the plan file. Each only posts its message; the host does the work.

import '@vscode-elements/elements/dist/vscode-button/index.js';
import type { WebviewMessage } from '../src/protocol/webview';
import { el } from './dom';

export class Actions {
  readonly element = el('div', { className: 'actions', attrs: { role: 'toolbar', 'aria-label': 'Actions' } });
  private readonly prune = button('Prune…', 'Write a pruned copy of the model with this plan', 'prune');

  constructor(post: (message: WebviewMessage) => void, selectedLayer: () => string | undefined) {
    const textView = button('Open text view', 'The model in ONNX text form, at the selected layer', 'open-text-view', true);
    const plan = button('Open plan', 'The plan file (<model>.prune.json)', 'open-plan', true);
    textView.addEventListener('click', () => {
      const layer = selectedLayer();
      post(layer === undefined ? { type: 'openTextView' } : { type: 'openTextView', layer });
    });
    this.prune.addEventListener('click', () => post({ type: 'prune' }));
    plan.addEventListener('click', () => post({ type: 'openPlan' }));
    this.element.append(textView, plan, this.prune);
  }

  /** Pruning waits until the plan is up to date. */
  setBusy(busy: boolean): void {
    this.prune.disabled = busy;
  }
}

function button(label: string, title: string, action: string, secondary = false): HTMLElement & { disabled: boolean } {
  return el('vscode-button', { text: label, attrs: { title, 'data-action': action, secondary } });
}
