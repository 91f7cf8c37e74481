// The target picker: which device profile the latency estimates and the mapper's choices are for.
// Picking one posts setTarget; the host answers with a new `show`.

import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import type { TargetInfo } from '../src/protocol/webview';
import { el } from './dom';

export class TargetPicker {
  readonly element: HTMLElement;
  private readonly select = el('vscode-single-select', { attrs: { id: 'target-picker', label: 'Target device' } });
  private targetsJson = '';
  private current = '';

  constructor(onPick: (target: string) => void) {
    this.element = el('div', { className: 'target-picker' }, [el('label', { className: 'field-label', text: 'Target', attrs: { for: 'target-picker' } }), this.select]);
    this.select.addEventListener('change', () => {
      const picked = this.select.value;
      if (picked && picked !== this.current) {
        this.current = picked;
        onPick(picked);
      }
    });
  }

  render(targets: readonly TargetInfo[], target: string, disabled: boolean): void {
    const json = JSON.stringify(targets);
    if (json !== this.targetsJson) {
      this.targetsJson = json;
      this.select.replaceChildren(...targets.map((t) => el('vscode-option', { text: t.name, attrs: { value: t.id, description: t.id } })));
    }
    this.current = target;
    this.select.value = target;
    this.select.disabled = disabled;
  }
}
