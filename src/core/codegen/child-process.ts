// Runs a tool (compiler, compiled model, qemu) as an async child process so the caller's event
// loop — the language server's — stays free. The child gets its own process group: on abort the
// whole group is killed (a compiler driver's cc1/as/ld too), and the promise settles only once the
// child has exited, so the caller can then delete the folder it was working in.

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface ChildResult {
  /** Exit status, or null when a signal ended the child. */
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when the child could not start (e.g. ENOENT). */
  readonly error?: NodeJS.ErrnoException;
}

export interface ChildOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly signal?: AbortSignal;
}

/** The error a cancelled job throws: name 'AbortError', like fetch and the DOM. */
export function abortError(): Error {
  const err = new Error('codegen cancelled');
  err.name = 'AbortError';
  return err;
}

export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError();
}

/** Runs `exe args`, collecting output; rejects with abortError() (after the child exited) if `signal` fires. */
export function runChild(exe: string, args: readonly string[], options: ChildOptions = {}): Promise<ChildResult> {
  const { signal } = options;
  throwIfCancelled(signal);
  return new Promise((resolve, reject) => {
    const child = spawn(exe, args, { cwd: options.cwd, env: options.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '', startError: NodeJS.ErrnoException | undefined;
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const kill = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL'); // the group is already gone; make sure the child is too
      }
    };
    signal?.addEventListener('abort', kill, { once: true });
    child.on('error', (err) => { startError = err; });
    child.on('close', (status, sig) => {
      signal?.removeEventListener('abort', kill);
      if (signal?.aborted) reject(abortError());
      else resolve({ status, signal: sig, stdout, stderr, error: startError });
    });
  });
}

/** True when `exe` (a path, or a name looked up on PATH) names an executable file. */
export function isExecutableOnPath(exe: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const candidates = exe.includes('/') ? [exe] : (env.PATH ?? '').split(path.delimiter).filter(Boolean).map((d) => path.join(d, exe));
  return candidates.some((file) => {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return fs.statSync(file).isFile();
    } catch {
      return false;
    }
  });
}
