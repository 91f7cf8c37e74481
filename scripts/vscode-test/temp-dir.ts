// A fresh temp dir per run (user data, extensions, settings), removed at the end or at exit.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atExit } from './cleanup';

export interface TempDir {
  path: string;
  remove(): void;
}

export function makeTempDir(prefix: string): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  const remove = atExit(() => rmSync(path, { recursive: true, force: true }));
  return { path, remove };
}
