// The layer table's columns: header, sort key and cell text of each. The ids are stored in the
// view state (the sort column), so keep them stable.

import type { LayerRow } from '../src/protocol/webview';
import { elementsOf, formatCount, formatRate, formatSchemeParameters, formatShape, formatTimes, speedupOf } from './format';

export interface Column {
  id: string;
  label: string;
  /** Header tooltip. */
  description: string;
  numeric: boolean;
  /** The value the column sorts by (numbers numerically, strings naturally). */
  sortKey(row: LayerRow): number | string;
  text(row: LayerRow): string;
  /** Exact value behind a rounded cell, kept in data-value (none when the cell is empty). */
  exact?(row: LayerRow): number | undefined;
  /** The cell's tooltip, when it needs more than its text. */
  title?(row: LayerRow): string;
  /** True when the cell's value no longer matches the row (shown muted). */
  stale?(row: LayerRow): boolean;
}

const msFormat = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 3 });

export const COLUMNS: readonly Column[] = [
  { id: 'layer', label: 'Layer', description: 'Layer id (node name, or weight name)', numeric: false, sortKey: (r) => r.id, text: (r) => r.id },
  { id: 'op', label: 'Op', description: 'ONNX operator', numeric: false, sortKey: (r) => r.op, text: (r) => r.op },
  {
    id: 'input',
    label: 'Input',
    description: 'Input shape (sorted by element count)',
    numeric: false,
    sortKey: (r) => elementsOf(r.inputShape),
    text: (r) => formatShape(r.inputShape),
  },
  {
    id: 'output',
    label: 'Output',
    description: 'Output shape (sorted by element count)',
    numeric: false,
    sortKey: (r) => elementsOf(r.outputShape),
    text: (r) => formatShape(r.outputShape),
  },
  {
    id: 'weight',
    label: 'Weight',
    description: 'Weight shape (sorted by element count)',
    numeric: false,
    sortKey: (r) => elementsOf(r.weightShape),
    text: (r) => formatShape(r.weightShape),
  },
  { id: 'macs', label: 'MACs', description: 'Multiply-accumulates per run', numeric: true, sortKey: (r) => r.macs, text: (r) => formatCount(r.macs), exact: (r) => r.macs },
  { id: 'params', label: 'Params', description: 'Weights and biases', numeric: true, sortKey: (r) => r.params, text: (r) => formatCount(r.params), exact: (r) => r.params },
  { id: 'scheme', label: 'Scheme', description: 'Pruning scheme', numeric: false, sortKey: (r) => r.scheme, text: (r) => r.scheme },
  {
    id: 'block',
    label: 'Block',
    description: 'Block size (filters×channels or rows×cols), or n:m',
    numeric: false,
    sortKey: (r) => formatSchemeParameters(r),
    text: (r) => formatSchemeParameters(r),
  },
  { id: 'rate', label: 'Rate', description: 'Fraction of weights pruned', numeric: true, sortKey: (r) => r.rate, text: (r) => formatRate(r.rate), exact: (r) => r.rate },
  {
    id: 'denseMs',
    label: 'Dense',
    description: 'Estimated latency before pruning, in ms',
    numeric: true,
    sortKey: (r) => r.denseMs,
    text: (r) => msFormat.format(r.denseMs),
    exact: (r) => r.denseMs,
  },
  {
    id: 'prunedMs',
    label: 'Pruned',
    description: 'Estimated latency after pruning, in ms',
    numeric: true,
    sortKey: (r) => r.prunedMs,
    text: (r) => msFormat.format(r.prunedMs),
    exact: (r) => r.prunedMs,
  },
  // After a benchmark of the generated code (shown only then): this machine, beside the estimates.
  {
    id: 'measuredMs',
    label: 'Measured',
    description: 'Measured on this machine: the generated code for this layer (median ms, 1 thread), from the last "Generate Sparse Code…" benchmark; Pruned is the estimate for the target',
    numeric: true,
    sortKey: (r) => r.measured?.oursMs ?? -1,
    text: (r) => (r.measured ? msFormat.format(r.measured.oursMs) : '—'),
    exact: (r) => r.measured?.oursMs,
    title: (r) => measuredTitle(r, 'the generated code'),
    stale: (r) => staleMeasurement(r),
  },
  {
    id: 'ortMs',
    label: 'ORT',
    description: 'Measured on this machine: onnxruntime running the pruned layer alone (median ms, 1 thread), from the same benchmark',
    numeric: true,
    sortKey: (r) => r.measured?.ortMs ?? -1,
    text: (r) => (r.measured ? msFormat.format(r.measured.ortMs) : '—'),
    exact: (r) => r.measured?.ortMs,
    title: (r) => measuredTitle(r, 'onnxruntime'),
    stale: (r) => staleMeasurement(r),
  },
  {
    id: 'speedup',
    label: 'Speedup',
    description: 'Dense ms / pruned ms',
    numeric: true,
    sortKey: (r) => speedupOf(r),
    text: (r) => formatTimes(speedupOf(r)),
    exact: (r) => speedupOf(r),
  },
  { id: 'reason', label: 'Reason', description: 'Why this scheme and rate', numeric: false, sortKey: (r) => r.reason, text: (r) => r.reason },
];

/** A measurement is stale once the layer's scheme changed after the benchmark. */
function staleMeasurement(row: LayerRow): boolean {
  return row.measured !== undefined && row.measured.scheme !== row.scheme;
}

function measuredTitle(row: LayerRow, who: string): string {
  const m = row.measured;
  if (!m) return 'Not measured: the last benchmark did not time this layer';
  const what = `${who}, ${m.scheme}, measured on this machine (estimate for the target: ${msFormat.format(row.prunedMs)} ms); ours dense ${msFormat.format(m.denseOursMs)} ms`;
  return staleMeasurement(row) ? `${what}. Measured with ${m.scheme}; the plan now says ${row.scheme}: generate and benchmark again` : what;
}

export function columnById(id: string): Column | undefined {
  return COLUMNS.find((c) => c.id === id);
}
