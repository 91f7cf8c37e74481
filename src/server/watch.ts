// Watches the folders of the models whose text views are open, so that a model or its plan file
// changing on disk refreshes the annotations without waiting for the next request (the cache
// checks each file's stamp on every access anyway; this only makes the editor notice sooner).
// Folders, not files: editors and exporters often replace a file by renaming a new one over it.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from './log';
import { planFileOf } from './plan-state';

export class ModelWatcher {
  private readonly folders = new Map<string, fs.FSWatcher>();
  private models: string[] = [];
  private readonly pending = new Map<string, NodeJS.Timeout>();

  constructor(private readonly onChange: (model: string) => void, private readonly log: Logger, private readonly delayMs = 150) {}

  /** Watches exactly the folders of these models. */
  watch(models: readonly string[]): void {
    this.models = [...models];
    const wanted = new Set(models.map((m) => path.dirname(m)));
    for (const [folder, w] of this.folders) {
      if (!wanted.has(folder)) {
        w.close();
        this.folders.delete(folder);
      }
    }
    for (const folder of wanted) {
      if (this.folders.has(folder)) continue;
      try {
        const w = fs.watch(folder, { persistent: false }, (_event, name) => this.changed(folder, name?.toString()));
        w.on('error', (err) => this.log.debug(`watching ${folder} stopped: ${err.message}`));
        this.folders.set(folder, w);
      } catch (err) {
        this.log.debug(`cannot watch ${folder}: ${(err as Error).message}`);
      }
    }
  }

  dispose(): void {
    for (const w of this.folders.values()) w.close();
    this.folders.clear();
    for (const t of this.pending.values()) clearTimeout(t);
  }

  private changed(folder: string, name: string | undefined): void {
    for (const model of this.models) {
      if (path.dirname(model) !== folder) continue;
      if (name !== undefined && name !== path.basename(model) && name !== path.basename(planFileOf(model))) continue;
      // Writes come in bursts: one refresh after the burst.
      clearTimeout(this.pending.get(model));
      this.pending.set(model, setTimeout(() => {
        this.pending.delete(model);
        this.onChange(model);
      }, this.delayMs));
    }
  }
}
