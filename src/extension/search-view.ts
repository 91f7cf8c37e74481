// The server's rule vs search comparison (prunemap/searchResult) as the overview's weight-free
// SearchView: per layer each plan's scheme, parameters, rate and estimated latency, and each plan's
// totals. The layer ids stay data; the webview renders them as text.

import type { ComparedEntry, ComparedTotals, SearchComparison } from '../protocol/types';
import type { ComparedChoice, ComparedSummary, SearchView } from '../protocol/webview';

export function searchView(c: SearchComparison): SearchView {
  return {
    ...(c.goal.speedup !== undefined ? { goalSpeedup: c.goal.speedup } : {}),
    ...(c.goal.budgetMs !== undefined ? { goalBudgetMs: c.goal.budgetMs } : {}),
    searchedTarget: c.searchedTarget,
    denseMs: c.rules.denseMs,
    rules: summaryOf(c.rules),
    search: summaryOf(c.search),
    layers: c.layers.map((l) => ({ id: l.id, rules: choiceOf(l.rules), search: choiceOf(l.search) })),
    adopted: c.adopted,
    ...(c.rulesError ? { rulesError: c.rulesError } : {}),
  };
}

function choiceOf(e: ComparedEntry): ComparedChoice {
  return {
    scheme: e.scheme, rate: e.rate, prunedMs: e.latency.prunedMs, reason: e.reason,
    ...(e.block ? { block: [e.block[0], e.block[1]] as [number, number] } : {}),
    ...(e.n !== undefined && e.m !== undefined ? { n: e.n, m: e.m } : {}),
  };
}

function summaryOf(t: ComparedTotals): ComparedSummary {
  return { prunedMs: t.prunedMs, speedup: t.speedup, compression: t.compression, ...(t.accuracyProxy !== undefined ? { accuracyProxy: t.accuracyProxy } : {}) };
}
