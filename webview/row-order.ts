// Which layers the table and the chart show, in which order: the text and scheme filters, then a
// stable sort (ties keep the model's order, as Array.prototype.sort does).

import type { LayerRow, SchemeId } from '../src/protocol/webview';
import { columnById } from './columns';
import type { SortOrder } from './state';

export interface RowQuery {
  filterText: string;
  scheme: SchemeId | undefined;
  sort: SortOrder | undefined;
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

export function visibleRows(rows: readonly LayerRow[], query: RowQuery): LayerRow[] {
  const needle = query.filterText.trim().toLowerCase();
  const shown = rows.filter((r) => (query.scheme === undefined || r.scheme === query.scheme) && (needle === '' || matchesText(r, needle)));
  const column = query.sort && columnById(query.sort.column);
  if (!column || !query.sort) return shown;
  const sign = query.sort.direction === 'ascending' ? 1 : -1;
  return shown.sort((a, b) => sign * compare(column.sortKey(a), column.sortKey(b)));
}

/** Case-insensitive substring of the layer id, op, scheme or reason. */
function matchesText(row: LayerRow, needle: string): boolean {
  return [row.id, row.op, row.scheme, row.reason].some((s) => s.toLowerCase().includes(needle));
}

function compare(a: number | string, b: number | string): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return collator.compare(String(a), String(b));
}
