// The model summary: parameters, MACs, estimated latency dense → pruned with the speedup,
// compression and target. Each number keeps its exact value in data-value.

import type { ModelView } from '../src/protocol/webview';
import { el } from './dom';
import { formatCount, formatMs, formatTimes } from './format';

export class Summary {
  readonly element = el('section', { className: 'summary', attrs: { 'aria-label': 'Model summary' } });

  render(view: ModelView): void {
    const s = view.summary;
    const targetName = view.targets.find((t) => t.id === view.target)?.name ?? view.target;
    this.element.replaceChildren(
      card('Parameters', [number('params', s.params, formatCount(s.params))], [text('in the prunable layers')]),
      card('MACs', [number('macs', s.macs, formatCount(s.macs))], [text('per run')]),
      card(
        'Latency (estimated)',
        [number('denseMs', s.denseMs, formatMs(s.denseMs)), el('span', { className: 'arrow', text: '→', attrs: { 'aria-label': 'to' } }), number('prunedMs', s.prunedMs, formatMs(s.prunedMs))],
        [number('speedup', s.speedup, formatTimes(s.speedup)), text(' faster')],
      ),
      card('Compression', [number('compression', s.compression, formatTimes(s.compression))], [text('of the prunable weights')]),
      card('Target', [el('span', { className: 'target-name', text: targetName, attrs: { 'data-metric': 'target', title: targetName } })], [text(view.target)]),
    );
  }
}

function number(metric: string, value: number, shown: string): HTMLSpanElement {
  return el('span', { className: 'num', text: shown, attrs: { 'data-metric': metric, 'data-value': String(value) } });
}

function text(s: string): Text {
  return document.createTextNode(s);
}

/** A labelled value with a muted note under it. */
function card(label: string, value: Node[], note: Node[]): HTMLElement {
  return el('div', { className: 'metric' }, [
    el('div', { className: 'metric-label', text: label }),
    el('div', { className: 'metric-value' }, value),
    el('div', { className: 'metric-note' }, note),
  ]);
}
