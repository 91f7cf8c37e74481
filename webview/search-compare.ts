// The rule-based plan and the searched plan side by side, after "Search Pruning Plan…": each
// plan's estimated latency, speedup, compression and (when the search reports it) accuracy proxy,
// then per layer each plan's scheme, rate and estimated latency, with the layers the two plans
// treat differently marked. Actions: adopt the searched plan as the current plan, or save it as a
// plan file; both only post their message. Hidden until a search has run for the model.

import '@vscode-elements/elements/dist/vscode-button/index.js';
import type { ComparedChoice, ComparedSummary, SearchView, WebviewMessage } from '../src/protocol/webview';
import { el } from './dom';
import { formatMs, formatRate, formatSchemeParameters, formatTimes } from './format';

export class SearchCompare {
  readonly element = el('section', { className: 'search-compare', attrs: { 'aria-label': 'Rule-based vs searched plan', hidden: true } });
  private readonly adopt: HTMLElement & { disabled: boolean };
  private readonly save: HTMLElement & { disabled: boolean };

  constructor(post: (message: WebviewMessage) => void) {
    this.adopt = button('Adopt searched plan', 'Make the searched plan the current plan: Prune… and Open plan then use it', 'adopt-search-plan');
    this.save = button('Save as plan file…', 'Adopt the searched plan and write it as a plan file', 'save-search-plan', true);
    this.adopt.addEventListener('click', () => post({ type: 'adoptSearchPlan' }));
    this.save.addEventListener('click', () => post({ type: 'saveSearchPlan' }));
  }

  render(search: SearchView | undefined, target: string, busy: boolean): void {
    this.element.hidden = search === undefined;
    if (!search) {
      this.element.replaceChildren();
      return;
    }
    this.adopt.disabled = busy || search.adopted;
    this.save.disabled = busy;
    this.element.replaceChildren(
      el('div', { className: 'section-header' }, [
        el('h2', { className: 'section-title', text: 'Rule-based vs searched plan' }),
        el('span', { className: 'search-goal', text: goalText(search, target) }),
        el('span', { className: 'search-adopted', text: search.adopted ? 'The searched plan is the current plan.' : '', attrs: { hidden: !search.adopted } }),
        el('div', { className: 'actions', attrs: { role: 'toolbar', 'aria-label': 'Searched plan actions' } }, [this.adopt, this.save]),
      ]),
      ...(search.rulesError ? [el('div', { className: 'search-note', text: `No rule-based plan: ${search.rulesError}` })] : []),
      totalsTable(search),
      layersTable(search),
    );
  }
}

function goalText(s: SearchView, target: string): string {
  const goal = s.goalSpeedup !== undefined ? `a ${formatTimes(s.goalSpeedup)} speedup` : `a ${formatMs(s.goalBudgetMs ?? 0)} budget`;
  const on = s.searchedTarget === target ? `on ${target}` : `on ${s.searchedTarget} (figures below on ${target})`;
  return `Searched for ${goal} ${on}`;
}

/** Latency, speedup, compression and accuracy proxy of each plan. */
function totalsTable(s: SearchView): HTMLTableElement {
  const rows: [string, string, (x: ComparedSummary) => number | undefined, (v: number) => string][] = [
    ['Latency (estimated)', 'prunedMs', (x) => x.prunedMs, formatMs],
    ['Speedup (estimated)', 'speedup', (x) => x.speedup, formatTimes],
    ['Compression', 'compression', (x) => x.compression, formatTimes],
    ['Accuracy proxy', 'accuracyProxy', (x) => x.accuracyProxy, (v) => `${(v * 100).toFixed(1)}%`],
  ];
  return el('table', { className: 'search-totals', attrs: { 'aria-label': 'Plan totals' } }, [
    el('thead', {}, [el('tr', {}, [el('th', { text: '' }), el('th', { text: 'Rule-based' }), el('th', { text: 'Searched' })])]),
    el('tbody', {}, rows
      .filter(([, , value]) => value(s.rules) !== undefined || value(s.search) !== undefined)
      .map(([label, metric, value, format]) => el('tr', {}, [
        el('th', { text: label, attrs: { scope: 'row' } }),
        number(metric, 'rules', value(s.rules), format),
        number(metric, 'search', value(s.search), format),
      ]))),
  ]);
}

function number(metric: string, plan: string, value: number | undefined, format: (v: number) => string): HTMLTableCellElement {
  return el('td', { className: 'num', text: value === undefined ? '—' : format(value), attrs: { 'data-metric': metric, 'data-plan': plan, 'data-value': value === undefined ? undefined : String(value) } });
}

/** Per layer: each plan's scheme, rate and estimated latency. */
function layersTable(s: SearchView): HTMLElement {
  const head = el('tr', {}, [
    el('th', { text: 'Layer', attrs: { rowspan: 2 } }),
    el('th', { text: 'Rule-based', attrs: { colspan: 3 } }),
    el('th', { text: 'Searched', attrs: { colspan: 3 } }),
  ]);
  const sub = el('tr', {}, ['Scheme', 'Rate', 'Latency', 'Scheme', 'Rate', 'Latency'].map((t) => el('th', { text: t })));
  const body = s.layers.map((l) => {
    const differs = l.rules.scheme !== l.search.scheme || l.rules.rate !== l.search.rate || formatSchemeParameters(l.rules) !== formatSchemeParameters(l.search);
    return el('tr', { className: differs ? 'differs' : '', attrs: { 'data-layer': l.id } }, [
      el('td', { className: 'layer-id truncate', text: l.id, attrs: { title: l.id } }),
      ...choiceCells(l.rules, 'rules'),
      ...choiceCells(l.search, 'search'),
    ]);
  });
  return el('div', { className: 'search-layers-scroll' }, [
    el('table', { className: 'search-layers', attrs: { 'aria-label': 'Rule-based vs searched plan per layer' } }, [el('thead', {}, [head, sub]), el('tbody', {}, body)]),
  ]);
}

function choiceCells(c: ComparedChoice, plan: 'rules' | 'search'): HTMLTableCellElement[] {
  const params = formatSchemeParameters(c);
  return [
    el('td', { className: 'scheme', text: params ? `${c.scheme} ${params}` : c.scheme, attrs: { 'data-plan': plan, title: c.reason } }),
    el('td', { className: 'num', text: formatRate(c.rate), attrs: { 'data-plan': plan, 'data-metric': 'rate', 'data-value': String(c.rate) } }),
    el('td', { className: 'num', text: formatMs(c.prunedMs), attrs: { 'data-plan': plan, 'data-metric': 'prunedMs', 'data-value': String(c.prunedMs) } }),
  ];
}

function button(label: string, title: string, action: string, secondary = false): HTMLElement & { disabled: boolean } {
  return el('vscode-button', { text: label, attrs: { title, 'data-action': action, secondary } });
}
