// The latency chart: for every shown layer (in the table's order) a pair of bars, dense and
// pruned, whose heights are proportional to the estimated milliseconds. Inline SVG built with
// DOM calls; layer ids only ever reach attributes and <title> text. Clicking a pair selects the layer.

import type { LayerRow } from '../src/protocol/webview';
import { el, svg } from './dom';
import { formatMs, formatTimes, speedupOf } from './format';

/** The chart fills its box's height, but never less than this (px). */
const MIN_HEIGHT = 160;
const TOP = 10;
const BOTTOM = 6;
const LEFT = 64;
const RIGHT = 8;
/** Each layer gets an equal share of the width, at least this many px (then the chart scrolls). */
const MIN_SLOT = 6;
/** Bars wider than this look like blocks, not bars. */
const MAX_BAR = 18;

export class LatencyChart {
  readonly element: HTMLElement;
  private readonly scroller = el('div', { className: 'chart-scroll' });
  private rows: readonly LayerRow[] = [];
  private selected: string | undefined;
  /** The scroller's size, as the ResizeObserver last reported it (reading it here would force a layout). */
  private size = { width: 0, height: 0 };

  constructor(onSelect: (layer: string) => void) {
    const legend = el('div', { className: 'chart-legend', attrs: { 'aria-hidden': 'true' } }, [
      el('span', { className: 'swatch dense' }),
      el('span', { text: 'Dense' }),
      el('span', { className: 'swatch pruned' }),
      el('span', { text: 'Pruned' }),
    ]);
    const header = el('div', { className: 'section-header' }, [el('h2', { className: 'section-title', text: 'Estimated latency per layer' }), legend]);
    this.element = el('section', { className: 'chart', attrs: { 'aria-label': 'Estimated latency per layer' } }, [header, this.scroller]);
    this.scroller.addEventListener('click', (e) => {
      const group = e.target instanceof Element ? e.target.closest('[data-layer]') : null;
      const id = group?.getAttribute('data-layer');
      if (id !== null && id !== undefined) onSelect(id);
    });
    // The bar width depends on the space available.
    new ResizeObserver(([entry]) => {
      const { width, height } = entry!.contentRect;
      if (width === this.size.width && height === this.size.height) return;
      this.size = { width, height };
      this.draw();
    }).observe(this.scroller);
  }

  render(rows: readonly LayerRow[], selected: string | undefined): void {
    this.rows = rows;
    this.selected = selected;
    this.draw();
  }

  setSelected(layer: string | undefined): void {
    this.selected = layer;
    for (const g of this.scroller.querySelectorAll('g.bar-group')) g.classList.toggle('selected', g.getAttribute('data-layer') === layer);
  }

  private draw(): void {
    const rows = this.rows;
    if (rows.length === 0) {
      this.scroller.replaceChildren(el('p', { className: 'chart-empty', text: 'No layers match the filter.' }));
      return;
    }
    const height = Math.max(MIN_HEIGHT, Math.floor(this.size.height));
    const plotHeight = height - TOP - BOTTOM;
    const available = (this.size.width || 800) - LEFT - RIGHT;
    const slot = Math.max(MIN_SLOT, available / rows.length);
    const bar = Math.min(MAX_BAR, slot * 0.4);
    const inset = (slot - 2 * bar) / 2;
    const width = LEFT + RIGHT + slot * rows.length;
    const maxMs = Math.max(...rows.map((r) => Math.max(r.denseMs, r.prunedMs)), Number.MIN_VALUE);
    const heightOf = (ms: number) => (Math.max(0, ms) / maxMs) * plotHeight;

    const chart = svg('svg', {
      attrs: { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `Estimated latency of ${rows.length} layers, dense and pruned` },
    });
    chart.append(axis(maxMs, width, plotHeight));
    rows.forEach((row, i) => {
      const x = LEFT + i * slot;
      const group = svg('g', { className: row.id === this.selected ? 'bar-group selected' : 'bar-group', attrs: { 'data-layer': row.id } }, [
        svg('title', { text: `${row.id}\n${formatMs(row.denseMs)} → ${formatMs(row.prunedMs)} (${formatTimes(speedupOf(row))})` }),
        svg('rect', { className: 'hit', attrs: { x, y: TOP, width: slot, height: plotHeight } }),
        barRect('dense', row, x + inset, TOP + plotHeight, bar, heightOf(row.denseMs)),
        barRect('pruned', row, x + inset + bar, TOP + plotHeight, bar, heightOf(row.prunedMs)),
      ]);
      chart.append(group);
    });
    this.scroller.replaceChildren(chart);
  }
}

/** A bar standing on `baseline`. */
function barRect(kind: 'dense' | 'pruned', row: LayerRow, x: number, baseline: number, width: number, height: number): SVGRectElement {
  return svg('rect', { className: `bar ${kind}`, attrs: { x, y: baseline - height, width, height, 'data-layer': row.id } });
}

/** Gridlines at 0, ½ and the maximum, labelled on the left. */
function axis(maxMs: number, width: number, plotHeight: number): SVGGElement {
  const g = svg('g', { className: 'axis', attrs: { 'aria-hidden': 'true' } });
  for (const f of [0, 0.5, 1]) {
    const y = TOP + plotHeight * (1 - f);
    g.append(
      svg('line', { className: f === 0 ? 'baseline' : 'gridline', attrs: { x1: LEFT, x2: width - RIGHT, y1: y, y2: y } }),
      svg('text', { className: 'tick', text: f === 0 ? '0' : formatMs(maxMs * f), attrs: { x: LEFT - 6, y: y + 4, 'text-anchor': 'end' } }),
    );
  }
  return g;
}
