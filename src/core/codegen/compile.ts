// Runs the C compiler on generated sources. The command comes from the target (target.ts): for the
// host $CC (default `cc`) with $CFLAGS (default `-O3 -march=native`). A missing or failing compiler
// becomes one line naming the command and quoting its first error. compileRunnerAsync is what jobs
// use (a child process, killed on abort); compileRunner is the blocking form for tests and scripts.

import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { ModelError } from '../errors';
import { runChild, type ChildResult } from './child-process';
import { targetFor, type CompilerCommand } from './target';

export type { CompilerCommand } from './target';

export const RUNNER_BINARY = 'prunemap_run';

/** The host compiler from $CC / $CFLAGS. */
export function compilerFromEnv(env: NodeJS.ProcessEnv = process.env): CompilerCommand {
  return targetFor('host', env).compiler;
}

export interface CompileOptions {
  readonly threads?: number;
  readonly signal?: AbortSignal;
  /** Where the compiler keeps its temporary files (TMPDIR), so a killed compile leaves none elsewhere. */
  readonly tmpDir?: string;
}

/** Compiles main.c + prunemap_model.c in `dir` into dir/prunemap_run without blocking the event loop. */
export async function compileRunnerAsync(dir: string, compiler: CompilerCommand, options: CompileOptions = {}): Promise<string> {
  const { exe, args, out } = compileCommand(dir, compiler, options.threads ?? 1);
  const env = options.tmpDir ? { ...process.env, TMPDIR: options.tmpDir } : process.env;
  const r = await runChild(exe, args, { cwd: dir, env, signal: options.signal });
  checkResult(compiler, exe, args, r);
  return out;
}

/** Compiles main.c + prunemap_model.c in `dir` into dir/prunemap_run (blocking). */
export function compileRunner(dir: string, compiler: CompilerCommand, threads = 1): string {
  const { exe, args, out } = compileCommand(dir, compiler, threads);
  const r = spawnSync(exe, args, { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20 });
  checkResult(compiler, exe, args, { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error as NodeJS.ErrnoException | undefined });
  return out;
}

function compileCommand(dir: string, compiler: CompilerCommand, threads: number) {
  const [exe, ...ccArgs] = compiler.cc.split(/\s+/);
  const out = path.join(dir, RUNNER_BINARY);
  const args = [...ccArgs, ...compiler.flags, ...(threads > 1 ? ['-fopenmp'] : []), '-o', out, 'main.c', 'prunemap_model.c', ...(compiler.linkFlags ?? []), '-lm'];
  return { exe, args, out };
}

function checkResult(compiler: CompilerCommand, exe: string, args: string[], r: ChildResult): void {
  const [ccVar, flagsVar] = compiler.envNames ?? ['CC', 'CFLAGS'];
  if (r.error) {
    const install = compiler.package ? `Install it (Debian/Ubuntu: apt-get install ${compiler.package}) or set ${ccVar}.` : `Install a C compiler or set ${ccVar} (e.g. ${ccVar}=gcc).`;
    throw new ModelError(r.error.code === 'ENOENT' ? `C compiler "${exe}" not found` : `C compiler "${exe}" could not run (${r.error.message})`, 'codegen', install);
  }
  if (r.status !== 0) {
    const lines = (r.stderr || r.stdout || '').split('\n').map((l) => l.trim()).filter(Boolean);
    const first = lines.find((l) => /error/i.test(l)) ?? lines[0] ?? `exit status ${r.status ?? r.signal}`;
    throw new ModelError(`\`${[exe, ...args].join(' ')}\` failed: ${first}`, 'codegen', `Check ${ccVar}/${flagsVar}; the generated sources were not written.`);
  }
}
