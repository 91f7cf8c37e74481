// Starts a program as the leader of its own process group and stops the whole group: code-server
// forks a file watcher and extension hosts that outlive it if only the leader is killed.

import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { atExit } from './cleanup';

export interface Group {
  child: ChildProcess;
  /** SIGTERM to the group, then SIGKILL to whatever is left once the leader has exited. */
  stop(): Promise<void>;
}

export function spawnGroup(command: string, args: string[], options: SpawnOptions): Group {
  const child = spawn(command, args, { ...options, detached: true });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${command}`);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const killNow = atExit(() => signalGroup(pid, 'SIGKILL'));
  const stop = async () => {
    signalGroup(pid, 'SIGTERM');
    // Not a test limit: how long the group gets to shut down cleanly before SIGKILL.
    const grace = new Promise<void>((resolve) => setTimeout(resolve, 5000).unref());
    await Promise.race([exited, grace]);
    killNow();
  };
  return { child, stop };
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}
