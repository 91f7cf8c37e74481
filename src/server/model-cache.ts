// The model cache: analyses keyed by path and checked against the file's size, mtime and inode on
// every access, so a model that changed on disk is analysed again. Bounded in memory: at most
// `maxModels` analyses and about `maxBytes` of them; the least recently used are dropped (and their
// files closed). Weights are never held: an analysis is the model's metadata and text view.

import { analyseModel, sameStamp, stampOf, type ModelAnalysis } from './analysis';

export interface CacheLimits {
  readonly maxModels: number;
  readonly maxBytes: number;
}

export const defaultCacheLimits: CacheLimits = { maxModels: 8, maxBytes: 512 * 1024 * 1024 };

export class ModelCache {
  /** Insertion order = recency: the first entry is the least recently used. */
  private readonly entries = new Map<string, ModelAnalysis>();

  constructor(
    private limits: CacheLimits = defaultCacheLimits,
    private readonly analyse: (file: string) => ModelAnalysis = analyseModel,
    /** Called when an analysis is replaced or dropped (e.g. to log it). */
    private readonly onDrop: (analysis: ModelAnalysis, why: 'changed' | 'evicted') => void = () => {},
  ) {}

  /** The analysis of the file as it is on disk now; throws the analysis's error (ModelError) for a bad file. */
  get(file: string): ModelAnalysis {
    const cached = this.entries.get(file);
    if (cached) {
      this.entries.delete(file);
      if (sameStamp(cached.stamp, stampOf(file))) {
        this.entries.set(file, cached);
        return cached;
      }
      this.close(cached, 'changed');
    }
    const fresh = this.analyse(file);
    this.entries.set(file, fresh);
    this.evict();
    return fresh;
  }

  /** The cached analysis, without checking the file or touching recency. */
  peek(file: string): ModelAnalysis | undefined {
    return this.entries.get(file);
  }

  /** True when the file differs from its cached analysis (or is gone); false when not cached. */
  isStale(file: string): boolean {
    const cached = this.entries.get(file);
    return !!cached && !sameStamp(cached.stamp, stampOf(file));
  }

  setLimits(limits: CacheLimits): void {
    this.limits = limits;
    this.evict();
  }

  get size(): number {
    return this.entries.size;
  }

  paths(): string[] {
    return [...this.entries.keys()];
  }

  dispose(): void {
    for (const a of this.entries.values()) a.loaded.close();
    this.entries.clear();
  }

  /** Drops the least recently used analyses until both limits hold; the most recent one always stays. */
  private evict(): void {
    let bytes = 0;
    for (const a of this.entries.values()) bytes += a.approxBytes;
    for (const [file, a] of this.entries) {
      if (this.entries.size <= 1) break;
      if (this.entries.size <= this.limits.maxModels && bytes <= this.limits.maxBytes) break;
      this.entries.delete(file);
      bytes -= a.approxBytes;
      this.close(a, 'evicted');
    }
  }

  private close(a: ModelAnalysis, why: 'changed' | 'evicted'): void {
    a.loaded.close();
    this.onDrop(a, why);
  }
}
