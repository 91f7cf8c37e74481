// The `prunemap` task type, so pruning (or mapping) can live in tasks.json and run in CI the same
// way: a task runs the bundled `prunemap` command line (dist/cli.js) in a terminal.
//
//   { "type": "prunemap", "command": "prune", "model": "models/net.onnx", "plan": "models/net.prune.json", "output": "out/net.pruned.onnx" }

import * as vscode from 'vscode';

export const TASK_TYPE = 'prunemap';

export interface PruneMapTaskDefinition extends vscode.TaskDefinition {
  type: typeof TASK_TYPE;
  command: 'prune' | 'map';
  model: string;
  plan?: string;
  output?: string;
  target?: string;
}

export class PruneMapTaskProvider implements vscode.TaskProvider {
  constructor(private readonly cli: string) {}

  /** One prune task per model in the workspace (at most 20), for "Run Task". */
  async provideTasks(): Promise<vscode.Task[]> {
    const models = await vscode.workspace.findFiles('**/*.onnx', '**/node_modules/**', 20);
    return models.map((uri) => {
      const folder = vscode.workspace.getWorkspaceFolder(uri);
      const model = folder ? vscode.workspace.asRelativePath(uri, false) : uri.fsPath;
      return this.task({ type: TASK_TYPE, command: 'prune', model }, folder ?? vscode.TaskScope.Workspace);
    });
  }

  resolveTask(task: vscode.Task): vscode.Task | undefined {
    const definition = task.definition as PruneMapTaskDefinition;
    if (definition.command !== 'prune' && definition.command !== 'map') return undefined;
    if (typeof definition.model !== 'string') return undefined;
    return this.task(definition, task.scope ?? vscode.TaskScope.Workspace, task);
  }

  private task(definition: PruneMapTaskDefinition, scope: vscode.WorkspaceFolder | vscode.TaskScope, from?: vscode.Task): vscode.Task {
    const args = [this.cli, definition.command, definition.model];
    if (definition.plan) args.push('--plan', definition.plan);
    if (definition.target) args.push('--target', definition.target);
    if (definition.output) args.push('-o', definition.output);
    if (definition.command === 'prune') args.push('--force');
    // On desktop VS Code process.execPath is Electron: ELECTRON_RUN_AS_NODE makes it plain Node.
    const execution = new vscode.ProcessExecution(process.execPath, args, { env: { ELECTRON_RUN_AS_NODE: '1' } });
    const name = from?.name ?? `${definition.command} ${definition.model}`;
    const task = new vscode.Task(definition, scope, name, TASK_TYPE, execution, []);
    task.group = definition.command === 'prune' ? vscode.TaskGroup.Build : undefined;
    return task;
  }
}

export function registerTasks(context: vscode.ExtensionContext): void {
  context.subscriptions.push(vscode.tasks.registerTaskProvider(TASK_TYPE, new PruneMapTaskProvider(context.asAbsolutePath('dist/cli.js'))));
}
