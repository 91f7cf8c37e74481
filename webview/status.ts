// The view's status line: an indeterminate progress bar while the server re-plans, and the last
// error (from the view or an `error` message) until it is dismissed or a clean view arrives.

import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import { el } from './dom';

export class StatusLine {
  readonly element: HTMLElement;
  private readonly progress = el('vscode-progress-bar', { attrs: { indeterminate: true, 'aria-label': 'Updating the plan' } });
  private readonly message = el('span', { className: 'error-message' });
  private readonly banner: HTMLElement;

  constructor() {
    const dismiss = el('vscode-button', { text: 'Dismiss', attrs: { secondary: true, id: 'dismiss-error' } });
    dismiss.addEventListener('click', () => this.setError(undefined));
    this.banner = el('div', { className: 'error-banner', attrs: { role: 'alert' } }, [this.message, dismiss]);
    this.element = el('div', { className: 'status' }, [this.progress, this.banner]);
    this.setBusy(false);
    this.setError(undefined);
  }

  setBusy(busy: boolean): void {
    this.progress.hidden = !busy;
  }

  setError(message: string | undefined): void {
    this.message.textContent = message ?? '';
    this.banner.hidden = message === undefined;
  }
}
