// The output folder is written whole or not at all: files go to a temporary sibling folder (where
// the compiler also runs), which is renamed into place only when everything succeeded.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { ModelError } from '../errors';
import { throwIfCancelled } from './child-process';

/** Refuses an existing, non-empty `out` unless `force` (callers check before slow work, writeOutputDir again). */
export function checkOutputDir(out: string, force: boolean): void {
  const target = path.resolve(out);
  if (!fs.existsSync(target) || force) return;
  const empty = fs.statSync(target).isDirectory() && fs.readdirSync(target).length === 0;
  if (!empty) throw new ModelError('output folder exists', target, 'Choose another -o or pass --force to replace it.');
}

/**
 * Writes `files` into a fresh temporary folder next to `out`, runs `work(tmp)`, then renames it to
 * `out`. When `signal` is aborted by then, the temporary folder is removed instead and the abort thrown.
 */
export async function writeOutputDir<T>(out: string, files: Record<string, string | Uint8Array>, force: boolean, work: (dir: string) => T | Promise<T>, signal?: AbortSignal): Promise<T> {
  const target = path.resolve(out);
  checkOutputDir(target, force);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = fs.mkdtempSync(path.join(path.dirname(target), `.${path.basename(target)}.tmp-`));
  try {
    for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(tmp, name), content);
    const result = await work(tmp);
    throwIfCancelled(signal);
    if (fs.existsSync(target)) fs.rmSync(target, { recursive: true, force: true });
    fs.renameSync(tmp, target);
    return result;
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}
