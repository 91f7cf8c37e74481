// The model summary: parameters, MACs, estimated latency dense → pruned with the speedup,
// compression and target, and after a benchmark of generated code the measured whole model. Each number keeps its exact value in data-value.

import type { BenchSummary, ModelView } from '../src/protocol/webview';
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
      Object.assign(card(
        view.basis === 'measured' ? 'Latency (measured on this machine)' : 'Latency (modelled)',
        [number('denseMs', s.denseMs, formatMs(s.denseMs)), el('span', { className: 'arrow', text: '→', attrs: { 'aria-label': 'to' } }), number('prunedMs', s.prunedMs, formatMs(s.prunedMs))],
        [number('speedup', s.speedup, formatTimes(s.speedup)), text(' faster')],
      ), {
        // Say where the figures come from: a profile fitted to timings here, or the model alone.
        title: view.basis === 'measured'
          ? 'Estimated by the latency model with a profile fitted to timings of generated kernels on this machine (prunemap calibrate)'
          : 'Estimated by the latency model from published specifications (docs/latency.md); not measured',
      }),
      card('Compression', [number('compression', s.compression, formatTimes(s.compression))], [text('of the prunable weights')]),
      card('Target', [el('span', { className: 'target-name', text: targetName, attrs: { 'data-metric': 'target', title: targetName } })], [text(view.target)]),
    );
    if (view.bench) this.element.append(measuredCard(view.bench));
  }
}

/** After a benchmark of the generated code: the whole model, ours vs onnxruntime, on this machine. */
function measuredCard(bench: BenchSummary): HTMLElement {
  const verified = bench.verified === undefined ? '' : bench.verified ? '; its output matched onnxruntime\'s' : '; its output did NOT match onnxruntime\'s';
  const measured = card(
    'Measured (this machine)',
    [number('measuredOursMs', bench.oursMs, formatMs(bench.oursMs)), el('span', { className: 'vs', text: ' vs ORT ' }), number('measuredOrtMs', bench.ortMs, formatMs(bench.ortMs))],
    [number('measuredSpeedup', bench.ortMs / bench.oursMs, formatTimes(bench.ortMs / bench.oursMs)), text(' faster, whole model')],
  );
  measured.title = `The whole model on this machine, 1 thread: the generated code vs onnxruntime on the pruned model (medians)${verified}`;
  return measured;
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
