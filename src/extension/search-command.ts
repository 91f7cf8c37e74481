// "PruneMap: Search Pruning Plan…": asks for a goal (a target speedup or a latency budget), runs
// prunemap/search in the server with a progress notification that can be cancelled (a cancelled
// search changes nothing), then shows the model's overview, where the rule-based and the searched
// plan sit side by side, and offers to adopt the searched plan. The server reports progress on a
// work-done token this command creates.

import * as path from 'node:path';
import * as vscode from 'vscode';
import { AdoptSearchPlanRequest, AnalyzeRequest, SavePlanRequest, SearchRequest, type SearchParams } from '../protocol/messages';
import type { SearchComparison } from '../protocol/types';
import { OVERVIEW_VIEW_TYPE } from './active-model';
import type { Backend } from './backend';
import { withServerProgress } from './server-progress';

/** What to search for: exactly one of speedup and budgetMs (the command's second argument skips the questions). */
export interface SearchGoal {
  speedup?: number;
  budgetMs?: number;
  seed?: number;
  effort?: SearchParams['effort'];
}

/** Searches a plan for `model`; returns the comparison, or undefined when the user cancelled. */
export async function searchPlan(backend: Backend, model: vscode.Uri, refresh: () => Promise<void>, given?: SearchGoal): Promise<SearchComparison | undefined> {
  const goal = given ?? (await askGoal(backend, model));
  if (!goal) return undefined;
  const result = await withServerProgress(backend.client, `Searching a pruning plan for ${path.basename(model.fsPath)}`, 'Search cancelled; the plans are unchanged.',
    (workDoneToken, cancel) => backend.client.sendRequest(SearchRequest.type, { uri: model.toString(), ...goal, workDoneToken }, cancel));
  if (!result) return undefined;
  // The overview shows the two plans side by side.
  await vscode.commands.executeCommand('vscode.openWith', model, OVERVIEW_VIEW_TYPE);
  await refresh();
  if (!given) void announce(backend, model, result, refresh);
  return result;
}

/** Adopts the model's search plan as its current plan (prune and Save Plan then use it). */
export async function adoptSearchPlan(backend: Backend, model: vscode.Uri, refresh: () => Promise<void>): Promise<void> {
  await backend.client.sendRequest(AdoptSearchPlanRequest.type, { uri: model.toString() });
  await refresh();
}

/**
 * Adopts the searched plan and writes it as a plan file with prunemap/savePlan — by default
 * `<name>.prune.json` beside the model, which then is the model's plan. The file is asked for when
 * not given (and then opened); the plans change only once a file is chosen.
 */
export async function saveSearchPlan(backend: Backend, model: vscode.Uri, refresh: () => Promise<void>, output?: vscode.Uri): Promise<string | undefined> {
  const asked = output === undefined;
  output ??= await vscode.window.showSaveDialog({
    defaultUri: vscode.Uri.joinPath(model, '..', `${path.basename(model.fsPath).replace(/\.onnx$/i, '')}.prune.json`),
    filters: { 'Plan files': ['json'] }, saveLabel: 'Save Plan', title: 'Save the searched plan',
  });
  if (!output) return undefined;
  await backend.client.sendRequest(AdoptSearchPlanRequest.type, { uri: model.toString() });
  const { uri } = await backend.client.sendRequest(SavePlanRequest.type, { uri: model.toString(), output: output.toString() });
  await refresh();
  if (asked) await vscode.window.showTextDocument(vscode.Uri.parse(uri), { preview: false });
  return uri;
}

/** A quick pick of the kind of goal, then its value, checked as the server checks it. */
async function askGoal(backend: Backend, model: vscode.Uri): Promise<SearchGoal | undefined> {
  const kind = await vscode.window.showQuickPick(
    [
      { label: 'Target speedup', description: 'estimated dense ÷ pruned latency, e.g. 2', goal: 'speedup' as const },
      { label: 'Latency budget (ms)', description: 'estimated latency of the prunable layers', goal: 'budgetMs' as const },
    ],
    { placeHolder: `Search a pruning plan for ${path.basename(model.fsPath)}: what should it reach?` },
  );
  if (!kind) return undefined;
  // The rule-based plan's figures are a sensible starting value.
  const { plan } = await backend.client.sendRequest(AnalyzeRequest.type, { uri: model.toString() });
  const start = kind.goal === 'speedup' ? Math.max(1.5, plan.totals.speedup) : plan.totals.prunedMs;
  const value = await vscode.window.showInputBox({
    title: kind.label,
    prompt: kind.goal === 'speedup'
      ? `Estimated speedup over dense on ${plan.target} (dense: ${plan.totals.denseMs.toPrecision(3)} ms); above 1`
      : `Estimated latency of the prunable layers on ${plan.target}, in ms (dense: ${plan.totals.denseMs.toPrecision(3)} ms); above 0`,
    value: String(Number(start.toPrecision(3))),
    validateInput: (text) => validateGoal(kind.goal, text),
  });
  if (value === undefined) return undefined;
  return { [kind.goal]: Number(value) };
}

/** The input box's check: a speedup above 1, a budget above 0. */
export function validateGoal(kind: 'speedup' | 'budgetMs', text: string): string | undefined {
  const value = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(value)) return 'Enter a number.';
  if (kind === 'speedup' && !(value > 1)) return 'The speedup must be above 1 (1 is the dense model).';
  if (kind === 'budgetMs' && !(value > 0)) return 'The budget must be above 0 ms.';
  return undefined;
}

async function announce(backend: Backend, model: vscode.Uri, result: SearchComparison, refresh: () => Promise<void>): Promise<void> {
  const { rules, search } = result;
  const proxy = search.accuracyProxy !== undefined ? `, accuracy proxy ${(search.accuracyProxy * 100).toFixed(1)}%` : '';
  const choice = await vscode.window.showInformationMessage(
    `Searched plan for ${path.basename(model.fsPath)}: ${search.speedup.toFixed(2)}× estimated speedup, ${search.compression.toFixed(2)}× compression${proxy} (rule-based: ${rules.speedup.toFixed(2)}×, ${rules.compression.toFixed(2)}×).`,
    'Adopt as Current Plan',
  );
  if (choice === 'Adopt as Current Plan') await adoptSearchPlan(backend, model, refresh);
}
