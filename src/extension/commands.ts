// Every command of the extension, in one table: its id (as in package.json), and what it does.
// Model commands take the model from their argument, else the model in front, else ask.

import * as vscode from 'vscode';
import { Commands } from '../protocol/constants';
import { AnalyzeRequest, LayerDetailsRequest, SavePlanRequest, SetLayerRequest } from '../protocol/messages';
import type { Alternative } from '../protocol/types';
import { resolveModel } from './active-model';
import type { Backend } from './backend';
import { exportTrainingRecipe, isRecipeFormat } from './export-recipe-command';
import { generateSparseCode, type BenchSink, type CodegenOptions } from './codegen-command';
import { pruneModel } from './prune-command';
import { adoptSearchPlan, saveSearchPlan, searchPlan, type SearchGoal } from './search-command';
import { selectTarget, setCompression } from './settings';
import { openTextView } from './text-view';

/** What the commands need besides the backend: a way to redraw everything that shows the plan, and where benchmarks go. */
export interface CommandContext {
  readonly backend: Backend;
  readonly refresh: () => Promise<void>;
  readonly showBench: BenchSink;
}

type Handler = (ctx: CommandContext, ...args: unknown[]) => unknown;

const COMMANDS: Record<string, Handler> = {
  'prunemap.openTextView': async ({ backend }, arg) => {
    const model = await resolveModel(backend, arg);
    if (model) await openTextView(backend, model);
  },
  'prunemap.mapModel': async ({ backend }, arg) => {
    const model = await resolveModel(backend, arg);
    if (model) await showPlan(backend, model, true);
  },
  // Also the code lens "Prune model…" (Commands.pruneModel), whose argument is { uri, textUri }.
  // A second argument, the output's Uri, skips the save dialog (scripts, keybindings, tests).
  'prunemap.pruneModel': async ({ backend }, arg, output) => {
    const model = await resolveModel(backend, arg);
    if (model) return pruneModel(backend, model, output instanceof vscode.Uri ? output : undefined);
    return undefined;
  },
  // Also the code lens "Generate sparse code…" (Commands.generateCode) and the overview's action.
  // A second argument, { outputDir?: Uri, verify?, bench?, force? }, skips the dialogs (scripts, tests).
  [Commands.generateCode]: async ({ backend, showBench }, arg, options) => {
    const model = await resolveModel(backend, arg);
    if (model) return generateSparseCode(backend, model, codegenOptions(options), showBench);
    return undefined;
  },
  // A second argument, { speedup } or { budgetMs } (with seed and effort), skips the questions (scripts, tests).
  'prunemap.searchPlan': async ({ backend, refresh }, arg, goal) => {
    const model = await resolveModel(backend, arg);
    if (model) return searchPlan(backend, model, refresh, typeof goal === 'object' && goal !== null ? (goal as SearchGoal) : undefined);
    return undefined;
  },
  'prunemap.adoptSearchPlan': async ({ backend, refresh }, arg) => {
    const model = await resolveModel(backend, arg);
    if (model) await adoptSearchPlan(backend, model, refresh);
  },
  // A second argument, the plan file's Uri, skips the save dialog.
  'prunemap.saveSearchPlan': async ({ backend, refresh }, arg, output) => {
    const model = await resolveModel(backend, arg);
    if (model) return saveSearchPlan(backend, model, refresh, output instanceof vscode.Uri ? output : undefined);
    return undefined;
  },
  // Further arguments, a format ('pytorch', 'nni', 'torch-ao') and the folder's Uri, skip the dialogs.
  'prunemap.exportTrainingRecipe': async ({ backend }, arg, format, folder) => {
    const model = await resolveModel(backend, arg);
    if (model) return exportTrainingRecipe(backend, model, isRecipeFormat(format) ? format : undefined, folder instanceof vscode.Uri ? folder : undefined);
    return undefined;
  },
  'prunemap.selectTarget': async ({ refresh }, target) => {
    await selectTarget(typeof target === 'string' ? target : undefined);
    await refresh();
  },
  'prunemap.setCompression': async ({ refresh }, value) => {
    await setCompression(typeof value === 'number' ? value : undefined);
    await refresh();
  },
  'prunemap.openPlan': async ({ backend }, arg) => {
    const model = await resolveModel(backend, arg);
    if (model) await showPlan(backend, model, false);
  },
  'prunemap.showOutput': ({ backend }) => backend.output.show(),
  'prunemap.restartBackend': async ({ backend, refresh }) => {
    await backend.restart();
    await refresh();
    void vscode.window.setStatusBarMessage('PruneMap backend restarted', 3000);
  },
  [Commands.explainLayer]: async ({ backend }, arg) => {
    const { uri, layer } = layerArgs(arg);
    const details = await backend.client.sendRequest(LayerDetailsRequest.type, { uri, layer });
    const document = await vscode.workspace.openTextDocument({ language: 'markdown', content: `# Why ${details.entry.scheme} for \`${layer}\`?\n\n${details.markdown}\n` });
    await vscode.commands.executeCommand('markdown.showPreviewToSide', document.uri);
  },
  [Commands.changeScheme]: async ({ backend, refresh }, arg) => {
    const { uri, layer } = layerArgs(arg);
    const details = await backend.client.sendRequest(LayerDetailsRequest.type, { uri, layer });
    const items = details.alternatives.map((a) => ({ label: describe(a), description: `${a.latency.prunedMs.toFixed(3)} ms · ${a.speedup.toFixed(2)}×`, alternative: a }));
    const pick = await vscode.window.showQuickPick(items, {
      placeHolder: `${layer}: now ${describe(details.entry)} (${details.entry.latency.prunedMs.toFixed(3)} ms). Pick another scheme`,
    });
    if (!pick) return;
    const { scheme, rate, block, n, m, patterns, library } = pick.alternative;
    await backend.client.sendRequest(SetLayerRequest.type, { uri, layer, scheme, rate, params: { block, n, m, patterns, library } });
    await refresh();
  },
};

/** "block-punched 8×4 at 87.5%". */
function describe(spec: Pick<Alternative, 'scheme' | 'rate' | 'block' | 'n' | 'm'>): string {
  const params = spec.block ? ` ${spec.block[0]}×${spec.block[1]}` : spec.n !== undefined ? ` ${spec.n}:${spec.m}` : '';
  return `${spec.scheme}${params} at ${(spec.rate * 100).toFixed(1)}%`;
}

function codegenOptions(value: unknown): CodegenOptions | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  return {
    outputDir: v.outputDir instanceof vscode.Uri ? v.outputDir : typeof v.outputDir === 'string' ? vscode.Uri.file(v.outputDir) : undefined,
    verify: v.verify === true, bench: v.bench === true, force: v.force === true,
  };
}

function layerArgs(arg: unknown): { uri: string; layer: string } {
  const a = arg as { uri?: unknown; layer?: unknown } | undefined;
  if (typeof a?.uri !== 'string' || typeof a.layer !== 'string') throw new Error('This command needs a layer: use it from a layer\'s code lens in the text view.');
  return { uri: a.uri, layer: a.layer };
}

/** Opens the model's plan file, writing the current plan first when there is none yet (or when asked to). */
async function showPlan(backend: Backend, model: vscode.Uri, write: boolean): Promise<void> {
  // The server names the plan file (plan.file, when one sits next to the model) and writes it (savePlan).
  const { plan } = await backend.client.sendRequest(AnalyzeRequest.type, { uri: model.toString() });
  const planUri = !write && plan.file
    ? plan.file
    : (await backend.client.sendRequest(SavePlanRequest.type, { uri: model.toString() })).uri;
  await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(vscode.Uri.parse(planUri)), { preview: false });
}

export function registerCommands(context: vscode.ExtensionContext, ctx: CommandContext): void {
  for (const [id, handler] of Object.entries(COMMANDS)) {
    context.subscriptions.push(vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await handler(ctx, ...args);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        ctx.backend.output.error(`${id}: ${message}`);
        void vscode.window.showErrorMessage(`PruneMap: ${message}`);
        return undefined;
      }
    }));
  }
}
