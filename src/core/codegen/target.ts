// Where the generated code is compiled for and how its binary is run. The sources are the same for
// every target (C99 + GCC vector extensions, which GCC lowers to AVX on x86 and NEON on arm64);
// only the compiler, its flags and the way the binary is launched differ:
//   host   $CC $CFLAGS (default cc -O3 -march=native), run directly
//   arm64  $CC_ARM64 $CFLAGS_ARM64 (default aarch64-linux-gnu-gcc -O3 -march=armv8-a), linked
//          statically so it runs on any aarch64 Linux, and run here under qemu-aarch64

import { ModelError } from '../errors';
import { isExecutableOnPath } from './child-process';

export type Arch = 'host' | 'arm64';

export const ARCHES: readonly Arch[] = ['host', 'arm64'];

export interface CompilerCommand {
  /** The compiler, possibly with leading words (CC="ccache gcc"). */
  readonly cc: string;
  readonly flags: string[];
  /** Flags for linking only (-static for arm64); kept apart so overriding CFLAGS keeps them. */
  readonly linkFlags?: string[];
  /** The Debian package that provides the default compiler, for the "not found" hint. */
  readonly package?: string;
  /** The environment variables that override cc and flags, for hints. */
  readonly envNames?: readonly [string, string];
}

export interface Target {
  readonly arch: Arch;
  readonly compiler: CompilerCommand;
  /** Command words put before the binary to run it (qemu for arm64), empty for the host. */
  readonly launcher: string[];
  /** Debian package providing launcher[0]. */
  readonly launcherPackage?: string;
}

export const ARM64_CC = 'aarch64-linux-gnu-gcc';
export const ARM64_CFLAGS = '-O3 -march=armv8-a';
/** qemu-user's aarch64 emulator; -L points it at the cross libraries should the binary be dynamic. */
export const ARM64_LAUNCHER = ['qemu-aarch64', '-L', '/usr/aarch64-linux-gnu'];

const words = (s: string) => s.split(/\s+/).filter(Boolean);

export function targetFor(arch: Arch, env: NodeJS.ProcessEnv = process.env): Target {
  if (arch === 'arm64') {
    return {
      arch,
      compiler: { cc: (env.CC_ARM64 ?? '').trim() || ARM64_CC, flags: words(env.CFLAGS_ARM64 ?? ARM64_CFLAGS), linkFlags: ['-static'], package: 'gcc-aarch64-linux-gnu', envNames: ['CC_ARM64', 'CFLAGS_ARM64'] },
      launcher: ARM64_LAUNCHER,
      launcherPackage: 'qemu-user',
    };
  }
  return { arch, compiler: { cc: (env.CC ?? '').trim() || 'cc', flags: words(env.CFLAGS ?? '-O3 -march=native'), envNames: ['CC', 'CFLAGS'] }, launcher: [] };
}

/**
 * Checks up front that the tools a cross build needs exist, so a missing one is reported before
 * anything is generated: one line naming the Debian package. The host compiler is checked when it runs.
 */
export function checkTools(target: Target, needsLauncher: boolean, env: NodeJS.ProcessEnv = process.env): void {
  if (target.arch === 'host') return;
  const cc = words(target.compiler.cc)[0];
  if (!isExecutableOnPath(cc, env)) {
    throw new ModelError(`C compiler "${cc}" not found`, 'codegen', `Install it (Debian/Ubuntu: apt-get install ${target.compiler.package}) or set ${target.compiler.envNames?.[0]}.`);
  }
  const launcher = target.launcher[0];
  if (needsLauncher && launcher && !isExecutableOnPath(launcher, env)) {
    throw new ModelError(`"${launcher}" not found (needed to run the ${target.arch} binary for --verify)`, 'codegen', `Install it (Debian/Ubuntu: apt-get install ${target.launcherPackage}), or run without --verify.`);
  }
}
