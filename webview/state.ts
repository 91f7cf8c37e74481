// The view state that survives a reload of the webview (VS Code discards a hidden webview's page
// and keeps only what setState stored): filter, sort, scroll position and the selected layer.
// What getState returns is checked field by field, as an older version may have stored it.

import { isSchemeId, type SchemeId } from '../src/protocol/webview';
import type { Host } from './host';

export type SortDirection = 'ascending' | 'descending';

export interface SortOrder {
  column: string;
  direction: SortDirection;
}

export interface ViewState {
  filterText: string;
  /** Only layers with this scheme; undefined = all. */
  scheme: SchemeId | undefined;
  /** undefined = the model's layer order. */
  sort: SortOrder | undefined;
  scrollTop: number;
  scrollLeft: number;
  selectedLayer: string | undefined;
}

export const INITIAL_STATE: ViewState = {
  filterText: '',
  scheme: undefined,
  sort: undefined,
  scrollTop: 0,
  scrollLeft: 0,
  selectedLayer: undefined,
};

export function loadState(host: Host): ViewState {
  const raw = host.getState();
  if (typeof raw !== 'object' || raw === null) return { ...INITIAL_STATE };
  const s = raw as Record<string, unknown>;
  return {
    filterText: typeof s.filterText === 'string' ? s.filterText : '',
    scheme: isSchemeId(s.scheme) ? s.scheme : undefined,
    sort: isSortOrder(s.sort) ? { column: s.sort.column, direction: s.sort.direction } : undefined,
    scrollTop: nonNegative(s.scrollTop),
    scrollLeft: nonNegative(s.scrollLeft),
    selectedLayer: typeof s.selectedLayer === 'string' ? s.selectedLayer : undefined,
  };
}

/** Keeps the state and stores it with the host on every change. */
export class StateStore {
  private current: ViewState;

  constructor(private readonly host: Host) {
    this.current = loadState(host);
  }

  get(): Readonly<ViewState> {
    return this.current;
  }

  update(change: Partial<ViewState>): void {
    this.current = { ...this.current, ...change };
    this.host.setState(this.current);
  }
}

function isSortOrder(value: unknown): value is SortOrder {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.column === 'string' && (v.direction === 'ascending' || v.direction === 'descending');
}

function nonNegative(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}
