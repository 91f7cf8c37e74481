// The layer table: a grid of plain elements with table roles (hundreds of rows of Lit components
// would be slow), styled like VS Code's own tables, with sortable headers, a selected row and
// keyboard navigation. Rows are divs rather than <tr> so that `content-visibility: auto` can skip
// the layout of rows scrolled out of view (a <table> lays out every row: 5–8× slower at 600).
// Row elements are cached by layer id and rebuilt only when that layer's data changes, so a
// `show` after one override, a sort or a filter only moves existing rows.

import type { LayerRow } from '../src/protocol/webview';
import { COLUMNS, type Column } from './columns';
import { el, setAttributes } from './dom';
import type { SortOrder } from './state';

export interface LayerTableEvents {
  onSort(order: SortOrder | undefined): void;
  onSelect(layer: string): void;
  /** Double click or Enter on a row. */
  onOpen(layer: string): void;
  onScroll(top: number, left: number): void;
}

interface CachedRow {
  json: string;
  element: HTMLDivElement;
}

export class LayerTable {
  /** The scrolling box around the table (its scroll position is part of the view state). */
  readonly element: HTMLDivElement;
  private readonly body = el('div', { className: 'layer-rows', attrs: { role: 'rowgroup' } });
  private readonly headers = new Map<string, HTMLDivElement>();
  private readonly cache = new Map<string, CachedRow>();
  private visible: readonly LayerRow[] = [];
  private selected: string | undefined;

  constructor(private readonly events: LayerTableEvents) {
    const headRow = el('div', { className: 'layer-row header-row', attrs: { role: 'row' } }, COLUMNS.map((c) => this.header(c)));
    const table = el('div', { className: 'layer-table', attrs: { role: 'table', 'aria-label': 'Prunable layers' } }, [
      el('div', { className: 'layer-head', attrs: { role: 'rowgroup' } }, [headRow]),
      this.body,
    ]);
    this.element = el('div', { className: 'table-scroll' }, [table]);
    this.body.addEventListener('click', (e) => {
      const id = this.rowOf(e.target);
      if (id !== undefined) events.onSelect(id);
    });
    this.body.addEventListener('dblclick', (e) => {
      const id = this.rowOf(e.target);
      if (id !== undefined) events.onOpen(id);
    });
    this.body.addEventListener('keydown', (e) => this.onKey(e));
    this.element.addEventListener('scroll', () => events.onScroll(this.element.scrollTop, this.element.scrollLeft), { passive: true });
  }

  /** New data: rebuilds the rows whose layer changed, forgets layers that are gone. */
  setRows(rows: readonly LayerRow[]): void {
    const ids = new Set<string>();
    for (const row of rows) {
      ids.add(row.id);
      const json = JSON.stringify(row);
      if (this.cache.get(row.id)?.json !== json) this.cache.set(row.id, { json, element: this.buildRow(row) });
    }
    for (const id of this.cache.keys()) if (!ids.has(id)) this.cache.delete(id);
  }

  /** Shows these rows (filtered and sorted), in this order. */
  show(rows: readonly LayerRow[]): void {
    this.visible = rows;
    const elements = rows.map((r) => this.cache.get(r.id)?.element).filter((e): e is HTMLDivElement => e !== undefined);
    if (!this.replaceInPlace(elements)) this.body.replaceChildren(...elements);
    this.updateSelection();
  }

  /**
   * When only some rows were rebuilt (e.g. the layer of an override) and the order is the same,
   * swaps just those rows instead of re-inserting all of them. False when it cannot.
   */
  private replaceInPlace(rows: readonly HTMLDivElement[]): boolean {
    const shown = this.body.children;
    if (shown.length !== rows.length) return false;
    const swaps: [Element, HTMLDivElement][] = [];
    for (let i = 0; i < rows.length; i++) {
      const now = shown[i]!;
      const next = rows[i]!;
      if (now === next) continue;
      // A row already on the page elsewhere means the order changed.
      if (next.isConnected || (now as HTMLElement).dataset.layer !== next.dataset.layer) return false;
      swaps.push([now, next]);
    }
    for (const [now, next] of swaps) now.replaceWith(next);
    return true;
  }

  /** Shows the measured columns (after a benchmark of generated code) or hides them. */
  setMeasured(shown: boolean): void {
    this.element.firstElementChild?.classList.toggle('with-measured', shown);
  }

  setSort(order: SortOrder | undefined): void {
    for (const [id, header] of this.headers) {
      header.setAttribute('aria-sort', order?.column === id ? order.direction : 'none');
    }
  }

  setSelected(layer: string | undefined): void {
    this.selected = layer;
    this.updateSelection();
  }

  scrollTo(top: number, left: number): void {
    this.element.scrollTop = top;
    this.element.scrollLeft = left;
  }

  /** Brings the selected row into view (after a pick in the chart). */
  revealSelected(): void {
    if (this.selected !== undefined) this.cache.get(this.selected)?.element.scrollIntoView({ block: 'nearest' });
  }

  private header(column: Column): HTMLDivElement {
    const button = el('button', { className: 'sort-button', text: column.label, attrs: { type: 'button', title: `${column.description} — click to sort` } }, [
      el('span', { className: 'sort-indicator', attrs: { 'aria-hidden': 'true' } }),
    ]);
    button.addEventListener('click', () => this.events.onSort(this.nextSort(column)));
    const header = el('div', { className: `column-header col-${column.id}${column.numeric ? ' numeric' : ''}`, attrs: { role: 'columnheader', 'aria-sort': 'none' } }, [button]);
    this.headers.set(column.id, header);
    return header;
  }

  /** Numbers sort largest first, text A→Z; a second click flips, a third restores model order. */
  private nextSort(column: Column): SortOrder | undefined {
    const current = this.headers.get(column.id)?.getAttribute('aria-sort');
    const first = column.numeric ? 'descending' : 'ascending';
    if (current === 'none' || current === null) return { column: column.id, direction: first };
    if (current === first) return { column: column.id, direction: first === 'ascending' ? 'descending' : 'ascending' };
    return undefined;
  }

  private buildRow(row: LayerRow): HTMLDivElement {
    const cells = COLUMNS.map((column) => {
      const text = column.text(row);
      const cell = el('div', { className: `cell col-${column.id}${column.numeric ? ' numeric' : ''}`, attrs: { role: 'cell' } });
      const exact = column.exact?.(row);
      if (exact !== undefined) cell.dataset.value = String(exact);
      if (column.title) cell.title = column.title(row);
      if (column.stale?.(row)) cell.classList.add('stale');
      if (column.id === 'scheme') {
        cell.append(el('span', { className: 'scheme-chip', text, attrs: { 'data-scheme': row.scheme } }));
      } else if (column.id === 'layer') {
        // Isolated left-to-right inside a right-to-left cell, which puts the ellipsis at the start.
        cell.append(el('bdi', { text }));
        cell.title = text;
      } else {
        cell.textContent = text;
        // Long names, shapes and reasons end in an ellipsis; the tooltip has all of it.
        if (!column.numeric) cell.title = text;
      }
      return cell;
    });
    const element = el('div', { className: 'layer-row', attrs: { role: 'row', tabindex: -1 } }, cells);
    element.dataset.layer = row.id;
    return element;
  }

  private updateSelection(): void {
    let focusable = false;
    for (const row of this.visible) {
      const element = this.cache.get(row.id)?.element;
      if (!element) continue;
      const isSelected = row.id === this.selected;
      setAttributes(element, { 'aria-selected': isSelected ? 'true' : undefined, tabindex: isSelected ? 0 : -1 });
      focusable ||= isSelected;
    }
    // One tab stop into the table even when nothing is selected.
    if (!focusable && this.visible[0]) this.cache.get(this.visible[0].id)?.element.setAttribute('tabindex', '0');
  }

  private rowOf(target: EventTarget | null): string | undefined {
    const row = target instanceof Element ? target.closest<HTMLElement>('.layer-row') : null;
    return row?.dataset.layer;
  }

  private onKey(e: KeyboardEvent): void {
    const id = this.rowOf(e.target);
    if (id === undefined) return;
    const at = this.visible.findIndex((r) => r.id === id);
    const step = { ArrowDown: 1, ArrowUp: -1, Home: -Infinity, End: Infinity }[e.key];
    if (e.key === 'Enter') {
      this.events.onOpen(id);
    } else if (step !== undefined) {
      const next = this.visible[Math.max(0, Math.min(this.visible.length - 1, at + step))];
      if (!next) return;
      this.events.onSelect(next.id);
      this.cache.get(next.id)?.element.focus();
    } else {
      return;
    }
    e.preventDefault();
  }
}
