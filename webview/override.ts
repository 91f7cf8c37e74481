// The selected layer's details and its override: a scheme among the ones the layer accepts, a
// rate in [0, 0.99], and the scheme's parameters (block size, or n:m). Apply posts setLayer once
// the input is valid; the server re-plans and the host sends a new `show`.

import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { VscodeTextfield } from '@vscode-elements/elements/dist/vscode-textfield/vscode-textfield.js';
import { isSchemeId, type LayerRow, type SchemeId, type SetLayer } from '../src/protocol/webview';
import { el } from './dom';
import { formatCount, formatMs, formatRate, formatShape, formatTimes, speedupOf } from './format';
import { parseNm, parseRate, parseSize } from './override-input';

const DEFAULT_BLOCK: [number, number] = [8, 4];
const DEFAULT_NM = { n: 2, m: 4 };
const BLOCK_SCHEMES: readonly SchemeId[] = ['block-punched', 'block-bcr'];

export interface OverrideEvents {
  onApply(message: SetLayer.Message): void;
  onOpenTextView(layer: string): void;
}

export class OverridePanel {
  readonly element = el('section', { className: 'details', attrs: { 'aria-label': 'Selected layer' } });
  private readonly empty = el('p', { className: 'details-empty', text: 'Select a layer in the table or the chart to see why it got its scheme, and to change it.' });
  private readonly title = el('h2', { className: 'details-title truncate' });
  private readonly facts = el('dl', { className: 'details-facts' });
  private readonly reason = el('p', { className: 'details-reason' });
  private readonly scheme = el('vscode-single-select', { attrs: { id: 'override-scheme', label: 'Scheme' } });
  // Text, not a number field: a number field flags 0.5533 as a step mismatch. parseRate checks it.
  private readonly rate = el('vscode-textfield', { attrs: { id: 'override-rate', label: 'Rate (0 to 0.99)', inputmode: 'decimal', placeholder: '0 to 0.99' } });
  private readonly blockA = numberField('override-block-0', 'Block filters or rows', { min: 1, step: 1 });
  private readonly blockB = numberField('override-block-1', 'Block channels or columns', { min: 1, step: 1 });
  private readonly n = numberField('override-n', 'n (kept)', { min: 1, step: 1 });
  private readonly m = numberField('override-m', 'm (group size)', { min: 2, step: 1 });
  private readonly blockRow = fieldRow('Block', [this.blockA, el('span', { className: 'times', text: '×' }), this.blockB], 'override-block-0');
  private readonly nmRow = fieldRow('N:M', [this.n, el('span', { className: 'times', text: ':' }), this.m], 'override-n');
  private readonly error = el('p', { className: 'override-error', attrs: { role: 'alert', id: 'override-error' } });
  private readonly apply = el('vscode-button', { text: 'Apply', attrs: { id: 'override-apply', title: 'Re-plan with this scheme and rate' } });
  private readonly form: HTMLElement;
  private row: LayerRow | undefined;
  /** The shown row as JSON; null until the first render. */
  private rowJson: string | null = null;
  private busy = false;

  constructor(private readonly events: OverrideEvents) {
    const textView = el('vscode-button', { text: 'Show in text view', attrs: { secondary: true, id: 'override-text-view' } });
    textView.addEventListener('click', () => this.row && events.onOpenTextView(this.row.id));
    this.apply.addEventListener('click', () => this.submit());
    this.scheme.addEventListener('change', () => this.onSchemeChange());
    for (const field of [this.rate, this.blockA, this.blockB, this.n, this.m]) {
      field.addEventListener('input', () => this.clearError());
      field.addEventListener('keydown', (e) => e.key === 'Enter' && this.submit());
    }
    for (const field of [this.n, this.m]) field.addEventListener('input', () => this.showNmRate());
    this.form = el('div', { className: 'override' }, [
      el('h3', { className: 'override-title', text: 'Override' }),
      fieldRow('Scheme', [this.scheme], 'override-scheme'),
      fieldRow('Rate', [this.rate], 'override-rate'),
      this.blockRow,
      this.nmRow,
      this.error,
      el('div', { className: 'override-buttons' }, [this.apply, textView]),
    ]);
    this.render(undefined, false);
  }

  /** Shows this layer (or none); the form is reset only when the layer's data changed. */
  render(row: LayerRow | undefined, busy: boolean): void {
    this.busy = busy;
    this.apply.toggleAttribute('disabled', busy);
    const json = row ? JSON.stringify(row) : '';
    if (json === this.rowJson) return;
    this.row = row;
    this.rowJson = json;
    if (!row) {
      this.element.replaceChildren(this.empty);
      return;
    }
    this.title.textContent = row.id;
    this.title.title = row.id;
    this.facts.replaceChildren(
      ...fact('Op', row.op),
      ...fact('Shapes', `${formatShape(row.inputShape)} → ${formatShape(row.outputShape)}`),
      ...fact('Weight', `${formatShape(row.weightShape)} · ${formatCount(row.params)} params`),
      ...fact('MACs', formatCount(row.macs)),
      ...fact('Latency', `${formatMs(row.denseMs)} → ${formatMs(row.prunedMs)} (${formatTimes(speedupOf(row))})`),
    );
    this.reason.textContent = row.reason;
    const schemes = row.feasibleSchemes.includes(row.scheme) ? row.feasibleSchemes : [row.scheme, ...row.feasibleSchemes];
    this.scheme.replaceChildren(...schemes.map((id) => el('vscode-option', { text: id, attrs: { value: id, selected: id === row.scheme } })));
    this.scheme.value = row.scheme;
    this.blockA.value = String((row.block ?? DEFAULT_BLOCK)[0]);
    this.blockB.value = String((row.block ?? DEFAULT_BLOCK)[1]);
    this.n.value = String(row.n ?? DEFAULT_NM.n);
    this.m.value = String(row.m ?? DEFAULT_NM.m);
    this.rate.value = formatRate(row.rate);
    this.showFieldsFor(row.scheme);
    this.clearError();
    this.element.replaceChildren(this.title, this.facts, this.reason, this.form);
  }

  private selectedScheme(): SchemeId | undefined {
    return isSchemeId(this.scheme.value) ? this.scheme.value : undefined;
  }

  private onSchemeChange(): void {
    const scheme = this.selectedScheme();
    if (!scheme || !this.row) return;
    if (scheme !== 'dense' && this.rate.value.trim() === '0') this.rate.value = formatRate(this.row.rate || 0.5);
    this.showFieldsFor(scheme);
    this.clearError();
  }

  /** Dense has no rate; N:M's rate follows from n and m; blocks need a size. */
  private showFieldsFor(scheme: SchemeId): void {
    this.blockRow.hidden = !BLOCK_SCHEMES.includes(scheme);
    this.nmRow.hidden = scheme !== 'nm';
    this.rate.disabled = scheme === 'dense' || scheme === 'nm';
    if (scheme === 'dense') this.rate.value = '0';
    if (scheme === 'nm') this.showNmRate();
  }

  private showNmRate(): void {
    const nm = parseNm(this.n.value, this.m.value);
    if (nm.ok && this.selectedScheme() === 'nm') this.rate.value = formatRate(nm.value.rate);
  }

  private submit(): void {
    const row = this.row;
    const scheme = this.selectedScheme();
    if (!row || !scheme || this.busy) return;
    const message = this.read(row.id, scheme);
    if (!message.ok) return this.showError(message.error.field, message.error.text);
    this.clearError();
    this.events.onApply(message.value);
  }

  private read(layer: string, scheme: SchemeId): ReadResult {
    if (scheme === 'dense') return { ok: true, value: { type: 'setLayer', layer, scheme, rate: 0 } };
    if (scheme === 'nm') {
      const nm = parseNm(this.n.value, this.m.value);
      if (!nm.ok) return failure(this.n, nm.error);
      return { ok: true, value: { type: 'setLayer', layer, scheme, rate: nm.value.rate, n: nm.value.n, m: nm.value.m } };
    }
    const rate = parseRate(this.rate.value);
    if (!rate.ok) return failure(this.rate, rate.error);
    if (!BLOCK_SCHEMES.includes(scheme)) return { ok: true, value: { type: 'setLayer', layer, scheme, rate: rate.value } };
    const a = parseSize(this.blockA.value, 'Block size');
    if (!a.ok) return failure(this.blockA, a.error);
    const b = parseSize(this.blockB.value, 'Block size');
    if (!b.ok) return failure(this.blockB, b.error);
    return { ok: true, value: { type: 'setLayer', layer, scheme, rate: rate.value, block: [a.value, b.value] } };
  }

  private showError(field: VscodeTextfield, text: string): void {
    field.invalid = true;
    this.error.textContent = text;
    field.focus();
  }

  private clearError(): void {
    for (const f of [this.rate, this.blockA, this.blockB, this.n, this.m]) f.invalid = false;
    this.error.textContent = '';
  }
}

type ReadResult = { ok: true; value: SetLayer.Message } | { ok: false; error: { field: VscodeTextfield; text: string } };

function failure(field: VscodeTextfield, text: string): ReadResult {
  return { ok: false, error: { field, text } };
}

function numberField(id: string, label: string, limits: { min: number; step: number }): VscodeTextfield {
  return el('vscode-textfield', { attrs: { id, type: 'number', label, min: limits.min, step: limits.step } });
}

function fieldRow(label: string, controls: Node[], forId: string): HTMLElement {
  return el('div', { className: 'field-row' }, [el('label', { className: 'field-label', text: label, attrs: { for: forId } }), el('div', { className: 'field-controls' }, controls)]);
}

function fact(term: string, value: string): HTMLElement[] {
  return [el('dt', { text: term }), el('dd', { text: value, attrs: { title: value } })];
}
