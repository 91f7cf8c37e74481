// Runs the C compiler on generated sources. The command is $CC (default `cc`) with $CFLAGS
// (default `-O3 -march=native`); a missing or failing compiler becomes one line naming the command
// and quoting its first error.

import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { ModelError } from '../errors';

export const RUNNER_BINARY = 'prunemap_run';

export interface CompilerCommand {
  readonly cc: string;
  readonly flags: string[];
}

export function compilerFromEnv(env: NodeJS.ProcessEnv = process.env): CompilerCommand {
  const cc = (env.CC ?? '').trim() || 'cc';
  const flags = (env.CFLAGS ?? '-O3 -march=native').split(/\s+/).filter(Boolean);
  return { cc, flags };
}

/** Compiles main.c + prunemap_model.c in `dir` into dir/prunemap_run. */
export function compileRunner(dir: string, compiler: CompilerCommand, threads = 1): string {
  const [exe, ...ccArgs] = compiler.cc.split(/\s+/);
  const out = path.join(dir, RUNNER_BINARY);
  const args = [...ccArgs, ...compiler.flags, ...(threads > 1 ? ['-fopenmp'] : []), '-o', out, 'main.c', 'prunemap_model.c', '-lm'];
  const r = spawnSync(exe, args, { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20 });
  const command = [exe, ...args].join(' ');
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    throw new ModelError(code === 'ENOENT' ? `C compiler "${exe}" not found` : `C compiler "${exe}" could not run (${r.error.message})`, 'codegen', 'Install a C compiler or set CC (e.g. CC=gcc).');
  }
  if (r.status !== 0) {
    const lines = (r.stderr || r.stdout || '').split('\n').map((l) => l.trim()).filter(Boolean);
    const first = lines.find((l) => /error/i.test(l)) ?? lines[0] ?? `exit status ${r.status ?? r.signal}`;
    throw new ModelError(`\`${command}\` failed: ${first}`, 'codegen', 'Check CC/CFLAGS; the generated sources were not written.');
  }
  return out;
}
