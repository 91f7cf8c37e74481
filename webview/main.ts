// The overview webview's entry point: builds the page, keeps the current ModelView and the view
// state, and routes messages. The host sends `show` after `ready` (also after a reload, when the
// state comes back from getState) and after every change; the page never computes a plan.

import './overview.css';
import type { HostMessage, LayerRow, ModelView } from '../src/protocol/webview';
import { Actions } from './actions';
import { LatencyChart } from './chart';
import { el } from './dom';
import { FilterBar } from './filter-bar';
import { connectHost } from './host';
import { LayerTable } from './layer-table';
import { OverridePanel } from './override';
import { SearchCompare } from './search-compare';
import { visibleRows } from './row-order';
import { StateStore } from './state';
import { StatusLine } from './status';
import { Summary } from './summary';
import { TargetPicker } from './target-picker';

// Lit styles the components with adoptedStyleSheets, which CSP does not govern; where those are
// missing it falls back to <style> elements, which then need the page's nonce.
(window as { litNonce?: string }).litNonce = document.currentScript?.nonce;

const host = connectHost();
const state = new StateStore(host);
let view: ModelView | undefined;
let restoredScroll = false;

const fileName = el('h1', { className: 'file-name truncate', text: 'Loading model…' });
const layerCount = el('span', { className: 'layer-count' });
const status = new StatusLine();
const summary = new Summary();
const targetPicker = new TargetPicker((target) => host.post({ type: 'setTarget', target }));
const actions = new Actions((m) => host.post(m), () => selectedRow()?.id);
const chart = new LatencyChart(select);
const searchCompare = new SearchCompare((m) => host.post(m));
const filterBar = new FilterBar((change) => {
  state.update(change);
  showRows();
});
const table = new LayerTable({
  onSort(sort) {
    state.update({ sort });
    showRows();
  },
  onSelect: select,
  onOpen: (layer) => host.post({ type: 'openTextView', layer }),
  onScroll: saveScrollSoon,
});
const override = new OverridePanel({
  onApply: (message) => host.post(message),
  onOpenTextView: (layer) => host.post({ type: 'openTextView', layer }),
});

const app = document.getElementById('app') ?? document.body.appendChild(el('main', { attrs: { id: 'app' } }));
app.replaceChildren(
  el('header', { className: 'top-bar' }, [el('div', { className: 'title-block' }, [fileName, layerCount]), targetPicker.element, actions.element]),
  status.element,
  summary.element,
  searchCompare.element,
  // The selected layer's details sit beside the chart, so the table below gets the full width.
  el('div', { className: 'chart-and-details' }, [chart.element, override.element]),
  el('section', { className: 'layers', attrs: { 'aria-label': 'Layers' } }, [
    el('div', { className: 'section-header' }, [el('h2', { className: 'section-title', text: 'Layers' }), filterBar.element]),
    table.element,
  ]),
);

window.addEventListener('message', (event: MessageEvent<HostMessage>) => {
  const message = event.data;
  if (typeof message !== 'object' || message === null) return;
  if (message.type === 'show' && Array.isArray(message.view?.layers)) show(message.view);
  else if (message.type === 'error' && typeof message.message === 'string') status.setError(message.message);
});
host.post({ type: 'ready' });

function show(next: ModelView): void {
  view = next;
  fileName.textContent = next.fileName;
  fileName.title = next.fileName;
  layerCount.textContent = `${next.layers.length} prunable layers`;
  status.setBusy(next.busy);
  status.setError(next.error);
  summary.render(next);
  searchCompare.render(next.search, next.target, next.busy);
  targetPicker.render(next.targets, next.target, next.busy);
  actions.setBusy(next.busy, next.workspaceTrusted !== false);
  table.setMeasured(next.bench !== undefined);
  table.setRows(next.layers);
  showRows();
  app.setAttribute('aria-busy', String(next.busy));
  if (!restoredScroll) {
    restoredScroll = true;
    const { scrollTop, scrollLeft } = state.get();
    // Only when needed: setting a scroll position forces a layout of the new rows right away.
    if (scrollTop || scrollLeft) table.scrollTo(scrollTop, scrollLeft);
  }
}

/** Filter, sort, and show the rows in the table and the chart. */
function showRows(): void {
  if (!view) return;
  const s = state.get();
  const rows = visibleRows(view.layers, s);
  filterBar.render(view.layers, s.filterText, s.scheme);
  filterBar.setCount(rows.length, view.layers.length);
  table.setSort(s.sort);
  table.setSelected(selectedRow()?.id);
  table.show(rows);
  chart.render(rows, selectedRow()?.id);
  override.render(selectedRow(), view.busy);
}

function select(layer: string): void {
  state.update({ selectedLayer: layer });
  table.setSelected(layer);
  table.revealSelected();
  chart.setSelected(layer);
  override.render(selectedRow(), view?.busy ?? false);
}

function selectedRow(): LayerRow | undefined {
  const id = state.get().selectedLayer;
  return id === undefined ? undefined : view?.layers.find((r) => r.id === id);
}

let scrollPending = false;
/** Stores the table's scroll position at most once per frame. */
function saveScrollSoon(): void {
  if (scrollPending) return;
  scrollPending = true;
  requestAnimationFrame(() => {
    scrollPending = false;
    state.update({ scrollTop: table.element.scrollTop, scrollLeft: table.element.scrollLeft });
  });
}
