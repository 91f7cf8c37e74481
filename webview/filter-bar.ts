// The filters above the table: free text (layer id, op, scheme or reason) and one scheme, plus how
// many layers they leave.

import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import { isSchemeId, SCHEME_IDS, type LayerRow, type SchemeId } from '../src/protocol/webview';
import { el } from './dom';

export interface FilterChange {
  filterText: string;
  scheme: SchemeId | undefined;
}

const ALL = '';

export class FilterBar {
  readonly element: HTMLElement;
  private readonly text = el('vscode-textfield', { attrs: { id: 'layer-filter', placeholder: 'Filter by layer, op, scheme or reason', label: 'Filter layers' } });
  private readonly scheme = el('vscode-single-select', { attrs: { id: 'scheme-filter', label: 'Only layers with this scheme' } });
  private readonly count = el('span', { className: 'row-count', attrs: { role: 'status' } });
  private optionsKey = '';

  constructor(onChange: (change: FilterChange) => void) {
    const changed = () => onChange({ filterText: this.text.value, scheme: isSchemeId(this.scheme.value) ? this.scheme.value : undefined });
    this.text.addEventListener('input', changed);
    this.scheme.addEventListener('change', changed);
    this.element = el('div', { className: 'filter-bar' }, [this.text, this.scheme, this.count]);
  }

  /** Offers the schemes the model uses (with counts), and shows the current filter. */
  render(rows: readonly LayerRow[], filterText: string, scheme: SchemeId | undefined): void {
    const counts = new Map<SchemeId, number>();
    for (const r of rows) counts.set(r.scheme, (counts.get(r.scheme) ?? 0) + 1);
    const offered = SCHEME_IDS.filter((id) => counts.has(id) || id === scheme);
    const key = JSON.stringify(offered.map((id) => [id, counts.get(id) ?? 0]));
    if (key !== this.optionsKey) {
      this.optionsKey = key;
      this.scheme.replaceChildren(
        el('vscode-option', { text: 'All schemes', attrs: { value: ALL } }),
        ...offered.map((id) => el('vscode-option', { text: `${id} (${counts.get(id) ?? 0})`, attrs: { value: id } })),
      );
    }
    if (this.text.value !== filterText) this.text.value = filterText;
    this.scheme.value = scheme ?? ALL;
  }

  setCount(shown: number, total: number): void {
    this.count.textContent = shown === total ? `${total} layers` : `${shown} of ${total} layers`;
  }
}
