// The view's actions: open the ONNX text view (at the selected layer), prune with the current
// plan, generate sparse code (trusted workspaces only), open the plan file. Each only posts its
// message; the host does the work.

import '@vscode-elements/elements/dist/vscode-button/index.js';
import type { WebviewMessage } from '../src/protocol/webview';
import { el } from './dom';

export class Actions {
  readonly element = el('div', { className: 'actions', attrs: { role: 'toolbar', 'aria-label': 'Actions' } });
  private readonly prune = button('Prune…', 'Write a pruned copy of the model with this plan', 'prune');
  private readonly generate = button('Generate code…', GENERATE_TITLE, 'generate-code', true);

  constructor(post: (message: WebviewMessage) => void, selectedLayer: () => string | undefined) {
    const textView = button('Open text view', 'The model in ONNX text form, at the selected layer', 'open-text-view', true);
    const plan = button('Open plan', 'The plan file (<model>.prune.json)', 'open-plan', true);
    textView.addEventListener('click', () => {
      const layer = selectedLayer();
      post(layer === undefined ? { type: 'openTextView' } : { type: 'openTextView', layer });
    });
    this.prune.addEventListener('click', () => post({ type: 'prune' }));
    this.generate.addEventListener('click', () => post({ type: 'generateCode' }));
    plan.addEventListener('click', () => post({ type: 'openPlan' }));
    const search = button('Search plan…', 'Search a plan for a speedup or a latency budget, to compare with the rule-based plan', 'search-plan', true);
    search.addEventListener('click', () => post({ type: 'searchPlan' }));
    this.element.append(textView, plan, search, this.generate, this.prune);
  }

  /** Pruning and code generation wait until the plan is up to date; code generation needs a trusted workspace. */
  setBusy(busy: boolean, workspaceTrusted = true): void {
    this.prune.disabled = busy;
    this.generate.disabled = busy || !workspaceTrusted;
    this.generate.title = workspaceTrusted ? GENERATE_TITLE : 'Generating code needs a trusted workspace (it compiles and runs the code)';
  }
}

const GENERATE_TITLE = 'Generate C code for this plan; optionally verify it and measure it against onnxruntime';

function button(label: string, title: string, action: string, secondary = false): HTMLElement & { disabled: boolean } {
  return el('vscode-button', { text: label, attrs: { title, 'data-action': action, secondary } });
}
