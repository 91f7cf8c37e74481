// The pruned-model writer. The output is a byte copy of the input in which only the bytes of pruned
// weight elements differ: the model file (and every external data file that holds pruned weights)
// is streamed once into a temporary file in the destination folder, each masked element being
// written as zero bytes where it lives (raw_data, external data, float_data/double_data, Constant
// value_floats — all fixed-width, so +0.0 fits in place); other data files are copied as they are;
// the temporaries are renamed over the outputs at the very end. A cancelled or failed run removes
// its temporaries: there is never a partial output. The input and its data files are only read.
//
// A weight tensor used by several layers is patched once; the layers must then have identical
// masks (otherwise the run is refused rather than AND-ing them, which would silently exceed both
// layers' planned rates), and no layer left dense may use it.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { ModelError } from '../errors';
import type { Layer } from '../layers';
import { DataType } from '../onnx/dtypes';
import type { LoadedModel } from '../onnx/load';
import type { Tensor } from '../onnx/model';
import { elementCount } from '../onnx/tensor-data';
import { TensorLocator, type ElementLayout } from './locate';
import { weightTensorsOf, type LayerMasks, type MaskSet } from './masks';
import { planOutput, type OutputPlan } from './output';
import { streamPieces, type Piece, type StreamEnds } from './stream-pieces';

export interface WriteOptions {
  readonly signal?: AbortSignal;
  /** Replace an existing output (and its external data files). */
  readonly force?: boolean;
  /**
   * Every prunable layer of the model: totals then cover the whole model (layers without masks
   * count as dense), and a dense layer sharing a pruned weight is refused.
   */
  readonly layers?: readonly Layer[];
  /**
   * fsync the outputs before renaming them into place (default false). The rename alone already
   * means no partial output is ever seen; fsync adds durability across a power cut, at about a
   * third of a second per 100 MB here, which onnx.save and torch.save do not pay either.
   */
  readonly durable?: boolean;
  /** Called after each patched tensor (for progress reports; it may abort the signal). */
  readonly onProgress?: (done: number, total: number) => void;
}

export interface LayerReport {
  readonly id: string;
  readonly op: string;
  readonly scheme: string;
  /** The plan's rate, or null when the masks came without a plan entry. */
  readonly plannedRate: number | null;
  /** pruned / weights. */
  readonly achievedRate: number;
  /** Elements of the layer's weight tensors (W, plus R for RNNs; biases are never pruned). */
  readonly weights: number;
  readonly kept: number;
  /** Elements the masks remove. */
  readonly pruned: number;
  /** Elements equal to zero after pruning (pruned ones plus weights that were zero already). */
  readonly zeros: number;
}

export interface PruneTotals {
  /** Weights of all prunable layers (or of the pruned layers when the writer was not given every layer). */
  readonly weights: number;
  readonly pruned: number;
  readonly kept: number;
  /** pruned / weights. */
  readonly rate: number;
  /** weights / kept = 1 / (1 − rate). */
  readonly compression: number;
}

export interface PruneReport {
  readonly input: string;
  readonly output: string;
  /** External data files written next to the output (the model's own files when shared). */
  readonly dataFiles: readonly string[];
  readonly layers: readonly LayerReport[];
  readonly totals: PruneTotals;
}

/** A tensor to patch: its element layout and the layers whose weight it is (shared tensors appear once). */
interface Patch {
  readonly tensor: Tensor;
  readonly layout: ElementLayout;
  /** Each layer using the tensor, and the tensor's index among that layer's masks (W 0, R 1). */
  readonly users: { readonly id: string; readonly masks: LayerMasks; readonly index: number }[];
  /** The mask, once patching reaches the tensor (masks may be computed only when first read). */
  mask?: Uint8Array;
  /** Filled in while patching: elements zero afterwards, and elements the mask removes. */
  zeros: number;
  pruned: number;
  /** For layouts found by walking the file: the decoded values, to check the bytes against. */
  expected?: Float32Array;
}

/** Writes the pruned model to `outPath` and reports what was pruned. */
export async function writePrunedModel(loaded: LoadedModel, masks: MaskSet, outPath: string, options: WriteOptions = {}): Promise<PruneReport> {
  const { signal } = options;
  signal?.throwIfAborted();
  const model = loaded.model;
  const patches = collectPatches(loaded, masks, options.layers);
  const patchedData = new Set(patches.filter((p) => p.layout.externalLocation !== undefined).map((p) => p.layout.file));
  const plan = planOutput(model, outPath, options.force ?? false, patchedData);

  const job = new OutputJob(plan);
  const durable = options.durable ?? false;
  try {
    // Each file with pruned weights is streamed through once, patching as it goes; the others are copied.
    const runs = runsByFile(patches);
    const files = [{ source: model.path, final: plan.output }, ...plan.dataFiles.filter((d) => !d.shared).map((d) => ({ source: d.source, final: d.target }))];
    const total = patches.length;
    let done = 0;
    for (const f of files) {
      const fileRuns = runs.get(realpath(f.source));
      if (!fileRuns) {
        await job.copy(f.source, f.final, durable, signal);
        continue;
      }
      await job.stream(f.source, f.final, fileRuns, durable, signal, loaded, () => options.onProgress?.(++done, total));
    }
    signal?.throwIfAborted();
    job.commit(durable);
  } catch (err) {
    job.abandon();
    throw err;
  }
  return report(model.path, plan, masks, patches, options.layers);
}

/** One run of a patch in one file: `count` elements from byte `offset`, masked by mask[maskBase…]. */
interface Run {
  readonly offset: number;
  readonly count: number;
  readonly maskBase: number;
  readonly patch: Patch;
  /** The tensor's last run: progress is reported after it. */
  readonly last: boolean;
}

/** The runs of every patch (up to the mask's length), grouped by file (resolved) and sorted by offset. */
function runsByFile(patches: readonly Patch[]): Map<string, Run[]> {
  const out = new Map<string, Run[]>();
  for (const p of patches) {
    const list: Run[] = [];
    let base = 0;
    for (const r of p.layout.runs) {
      const count = Math.min(r.count, elementCount(p.tensor.dims) - base);
      if (count <= 0) break;
      list.push({ offset: r.offset, count, maskBase: base, patch: p, last: false });
      base += count;
    }
    if (list.length) list[list.length - 1] = { ...list[list.length - 1], last: true };
    const file = realpath(p.layout.file);
    out.set(file, [...(out.get(file) ?? []), ...list]);
  }
  for (const list of out.values()) list.sort((a, b) => a.offset - b.offset);
  return out;
}

/** Locates every masked tensor, merging tensors shared by layers and refusing conflicting uses. */
function collectPatches(loaded: LoadedModel, masks: MaskSet, allLayers: readonly Layer[] | undefined): Patch[] {
  const locator = new TensorLocator(loaded.model);
  const byKey = new Map<string, Patch>();
  const keyOf = (layout: ElementLayout) => `${realpath(layout.file)}:${layout.runs[0]?.offset ?? -1}`;
  try {
    for (const [id, layerMasks] of masks) {
      weightTensorsOf(layerMasks.layer).forEach((tensor, index) => {
        const layout = locator.locate(tensor, id);
        const key = keyOf(layout);
        const user = { id, masks: layerMasks, index };
        const seen = byKey.get(key);
        if (seen) seen.users.push(user);
        else byKey.set(key, { tensor, layout, users: [user], zeros: 0, pruned: 0 });
      });
    }
    if (allLayers) {
      for (const layer of allLayers) {
        if (masks.has(layer.id)) continue;
        for (const tensor of weightTensorsOf(layer)) {
          let layout: ElementLayout;
          try {
            layout = locator.locate(tensor, layer.id);
          } catch {
            continue; // a weight that cannot be patched is not one of the patched ones
          }
          const shared = byKey.get(keyOf(layout));
          if (shared) {
            throw new ModelError(`weight "${tensor.name}" of layer "${layer.id}", which the plan leaves dense, is also the weight of pruned layer "${shared.users[0].id}"`,
              loaded.model.path, `Give "${layer.id}" the same plan entry as "${shared.users[0].id}", or leave both dense.`);
          }
        }
      }
    }
  } finally {
    locator.close();
  }
  const patches = [...byKey.values()];
  checkOverlaps(patches, loaded.model.path);
  return patches;
}

/**
 * The patch's mask, checked when patching reaches it: one element per weight, and the same for
 * every layer sharing the tensor.
 */
function maskOf(p: Patch, where: string): Uint8Array {
  if (p.mask) return p.mask;
  const maskOfUser = (u: Patch['users'][number]) => {
    const mask = u.masks.masks[u.index];
    if (mask?.length !== elementCount(p.tensor.dims)) throw new Error(`layer ${u.id}: mask of ${mask?.length} elements for ${p.tensor.name} (${elementCount(p.tensor.dims)})`);
    return mask;
  };
  const [first, ...others] = p.users;
  const mask = maskOfUser(first);
  for (const other of others) {
    if (!equalBytes(maskOfUser(other), mask)) {
      throw new ModelError(`weight "${p.tensor.name}" is shared by layers "${first.id}" and "${other.id}", and their plan entries give it different masks`,
        where, 'Give both layers the same scheme entry, or leave both dense.');
    }
  }
  return (p.mask = mask);
}

/**
 * When `bytes` hold all of a FLOAT weight that is its layer's only one (and only its layer's),
 * masks computed on demand are computed from them: the weights are then read once, not twice.
 */
function computeMaskFrom(p: Patch, bytes: Uint8Array): void {
  const [user, ...others] = p.users;
  if (others.length || !user.masks.masksFrom || p.tensor.dataType !== DataType.FLOAT || !littleEndianHost) return;
  if (weightTensorsOf(user.masks.layer).length !== 1 || bytes.byteOffset % 4 !== 0) return;
  user.masks.masksFrom([new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4)]);
}

const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Distinct tensors whose bytes overlap (a hostile or oddly deduplicated file) cannot be patched independently. */
function checkOverlaps(patches: Patch[], where: string): void {
  const spans = patches.flatMap((p) => p.layout.runs.map((r) => ({ file: realpath(p.layout.file), from: r.offset, to: r.offset + r.count * p.layout.elementSize, p })));
  spans.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.from - b.from));
  for (let i = 1; i < spans.length; i++) {
    const [a, b] = [spans[i - 1], spans[i]];
    if (a.file === b.file && b.from < a.to && a.p !== b.p) {
      throw new ModelError(`weights "${a.p.tensor.name}" and "${b.p.tensor.name}" overlap in ${path.basename(a.file)}`, where, 'Re-save the model so that every tensor has its own bytes.');
    }
  }
}

/**
 * Sets elements [0, m) of `bytes` to +0.0 where mask[base + i] is 0. Counts the masked elements and
 * the elements that are zero afterwards (±0.0). Works on 16- or 32-bit words (a DOUBLE is two), so
 * `bytes` must start at a multiple of 4 in its buffer.
 */
function zeroMasked(bytes: Uint8Array, size: number, mask: Uint8Array, base: number, m: number): { zeros: number; pruned: number } {
  let zeros = 0, pruned = 0;
  if (size === 2) {
    const w = new Uint16Array(bytes.buffer, bytes.byteOffset, m);
    for (let i = 0; i < m; i++) {
      if (mask[base + i] === 0) {
        w[i] = 0;
        pruned++;
      } else if ((w[i] & 0x7fff) === 0) zeros++;
    }
  } else if (size === 4) {
    // Branch-free: masks of block schemes are close to random at the element level, so an if per
    // element would be mispredicted often. keep is 0 or 1; -keep is all ones or all zeros.
    // Four elements per pass (a quarter faster than one).
    const w = new Int32Array(bytes.buffer, bytes.byteOffset, m);
    const isZero = (x: number) => ((x & 0x7fffffff) - 1) >>> 31; // 1 when x is ±0
    let i = 0;
    for (; i + 4 <= m; i += 4) {
      const k0 = mask[base + i], k1 = mask[base + i + 1], k2 = mask[base + i + 2], k3 = mask[base + i + 3];
      const x0 = w[i] & -k0, x1 = w[i + 1] & -k1, x2 = w[i + 2] & -k2, x3 = w[i + 3] & -k3;
      w[i] = x0;
      w[i + 1] = x1;
      w[i + 2] = x2;
      w[i + 3] = x3;
      zeros += (k0 & isZero(x0)) + (k1 & isZero(x1)) + (k2 & isZero(x2)) + (k3 & isZero(x3));
      pruned += 4 - k0 - k1 - k2 - k3;
    }
    for (; i < m; i++) {
      const keep = mask[base + i];
      const x = w[i] & -keep;
      w[i] = x;
      zeros += keep & isZero(x);
      pruned += keep ^ 1;
    }
  } else {
    const w = new Uint32Array(bytes.buffer, bytes.byteOffset, m * 2); // little-endian: word 2i + 1 holds sign and exponent
    for (let i = 0; i < m; i++) {
      if (mask[base + i] === 0) {
        w[2 * i] = 0;
        w[2 * i + 1] = 0;
        pruned++;
      } else if (w[2 * i] === 0 && (w[2 * i + 1] & 0x7fffffff) === 0) zeros++;
    }
  }
  return { zeros: zeros + pruned, pruned };
}

/**
 * For layouts found by walking the file (not recorded by the decoder): the input bytes of a run must
 * hold the values the engine's reader decoded, element for element, before anything is patched.
 */
function verifyRun(bytes: Uint8Array, run: Run, first: number, m: number, expected: Float32Array): void {
  const size = run.patch.layout.elementSize;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < m; i++) {
    const v = size === 8 ? dv.getFloat64(i * 8, true) : dv.getFloat32(i * 4, true);
    const want = expected[run.maskBase + first + i];
    if (Math.fround(v) !== want && !(Number.isNaN(v) && Number.isNaN(want))) {
      throw new Error(`located bytes of weight "${run.patch.tensor.name}" (element ${run.maskBase + first + i}) do not hold its decoded value`);
    }
  }
}

function report(input: string, plan: OutputPlan, masks: MaskSet, patches: Patch[], allLayers: readonly Layer[] | undefined): PruneReport {
  // A tensor shared by layers with equal masks was patched once: every sharer reports its counts.
  const patchOf = new Map(patches.flatMap((p) => p.users.map((u) => [`${u.id}\u0000${u.index}`, p] as const)));
  const layers: LayerReport[] = [];
  for (const [id, { layer, spec }] of masks) {
    let weights = 0, pruned = 0, zeros = 0;
    weightTensorsOf(layer).forEach((t, index) => {
      const p = patchOf.get(`${id}\u0000${index}`);
      weights += elementCount(t.dims);
      pruned += p?.pruned ?? 0;
      zeros += p?.zeros ?? 0;
    });
    layers.push({
      id, op: layer.op, scheme: spec?.scheme ?? 'mask', plannedRate: spec?.rate ?? null,
      achievedRate: weights ? pruned / weights : 0, weights, kept: weights - pruned, pruned, zeros,
    });
  }
  let weights = layers.reduce((n, l) => n + l.weights, 0);
  if (allLayers) {
    weights = 0;
    for (const l of allLayers) for (const t of weightTensorsOf(l)) weights += elementCount(t.dims);
  }
  const pruned = layers.reduce((n, l) => n + l.pruned, 0);
  const kept = weights - pruned;
  return {
    input: path.resolve(input), output: plan.output, dataFiles: plan.dataFiles.map((d) => d.target), layers,
    totals: { weights, pruned, kept, rate: weights ? pruned / weights : 0, compression: kept ? weights / kept : Infinity },
  };
}

/**
 * The temporaries of one run and the folders it created: committed by renaming each over its
 * output (data files first, the model last, so the model appears only when its data is in place),
 * or abandoned by deleting them all.
 */
class OutputJob {
  private readonly pending: { temp: string; final: string }[] = [];
  private readonly createdDirs: string[] = [];

  constructor(private readonly plan: OutputPlan) {}

  /** A fresh temporary next to `final`, registered for removal before it exists. */
  private temp(final: string): string {
    this.makeDir(path.dirname(final));
    const temp = path.join(path.dirname(final), `.${path.basename(final)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.prunemap-tmp`);
    this.pending.push({ temp, final });
    return temp;
  }

  /** Copies `source` as it is (a data file without pruned weights). */
  async copy(source: string, final: string, durable: boolean, signal: AbortSignal | undefined): Promise<void> {
    const temp = this.temp(final);
    try {
      await fs.promises.copyFile(source, temp, fs.constants.COPYFILE_EXCL);
      if (durable) fsyncPath(temp);
    } catch (err) {
      throw this.error(err, temp);
    }
    signal?.throwIfAborted();
  }

  /**
   * Streams `source` into a temporary once: the bytes between runs as they are, each run's masked
   * elements as zeros (stream-pieces.ts overlaps the reads, the patching and the writes). A
   * cancellation is seen within one piece.
   */
  async stream(source: string, final: string, runs: readonly Run[], durable: boolean, signal: AbortSignal | undefined, loaded: LoadedModel, progress: () => void): Promise<void> {
    const temp = this.temp(final);
    const input = fs.openSync(source, 'r');
    let output: number | undefined;
    try {
      const { size, mode } = fs.fstatSync(input);
      output = this.io(() => fs.openSync(temp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, (mode & 0o777) | 0o200), temp);
      if (source === loaded.model.path && size !== loaded.model.fileSize) {
        throw new ModelError(`the model file changed while pruning (${loaded.model.fileSize} bytes when read, ${size} now)`, source, 'Check that nothing else is writing the model, and run again.');
      }
      const ends: StreamEnds = {
        input, output,
        shortRead: (wanted, at) => new ModelError(`file shrank while pruning (wanted ${wanted} bytes at ${at})`, source, 'Check that nothing else is writing the file, and run again.'),
        writeError: (err) => this.error(err, temp),
      };
      await streamPieces(ends, piecesOf(runs, size, loaded, progress), CHUNK, signal);
      if (durable) this.io(() => fs.fsyncSync(output!), temp);
    } finally {
      fs.closeSync(input);
      if (output !== undefined) fs.closeSync(output);
    }
  }

  /** Runs a file operation on a temporary, turning errors into one-line user errors. */
  io<T>(op: () => T, file: string): T {
    try {
      return op();
    } catch (err) {
      throw this.error(err, file);
    }
  }

  commit(durable: boolean): void {
    const order = [...this.pending.filter((p) => p.final !== this.plan.output), ...this.pending.filter((p) => p.final === this.plan.output)];
    for (const p of order) this.io(() => fs.renameSync(p.temp, p.final), p.final);
    this.pending.length = 0;
    if (durable) for (const dir of new Set(order.map((p) => path.dirname(p.final)))) fsyncPath(dir);
  }

  abandon(): void {
    for (const p of this.pending) fs.rmSync(p.temp, { force: true });
    this.pending.length = 0;
    for (const dir of this.createdDirs.reverse()) {
      try {
        fs.rmdirSync(dir);
      } catch {
        // not empty (someone else wrote there): leave it
      }
    }
  }

  private makeDir(dir: string): void {
    if (fs.existsSync(dir)) return;
    const missing: string[] = [];
    for (let d = dir; !fs.existsSync(d) && path.dirname(d) !== d; d = path.dirname(d)) missing.unshift(d);
    for (const d of missing) {
      this.io(() => fs.mkdirSync(d), d);
      this.createdDirs.push(d);
    }
  }

  private error(err: unknown, file: string): unknown {
    const code = (err as NodeJS.ErrnoException).code;
    const folder = path.dirname(file);
    switch (code) {
      case 'ENOSPC':
      case 'EDQUOT':
        return new ModelError(`disk full while writing the pruned model (${code === 'ENOSPC' ? 'no space left on device' : 'disk quota exceeded'})`, folder,
          'Free some space, or write the output elsewhere with -o; nothing was written.');
      case 'EACCES':
      case 'EPERM':
        return new ModelError('cannot write in this folder (permission denied)', folder, 'Choose an output folder you can write to with -o.');
      case 'EROFS':
        return new ModelError('cannot write in this folder (read-only file system)', folder, 'Choose an output folder on a writable disk with -o.');
      case 'ENOTDIR':
        return new ModelError('a part of the output path is a file, not a folder', file, 'Check the -o path.');
      case 'ENAMETOOLONG':
        return new ModelError('the output path is too long', file, 'Choose a shorter -o path.');
      default:
        return err;
    }
  }
}

/**
 * Bytes per read and write: large enough for throughput and for most weights to fit in one piece
 * (see computeMaskFrom), small enough to see Ctrl+C promptly.
 */
const CHUNK = 16 << 20;

/**
 * The file cut into pieces of at most CHUNK bytes, in order: the bytes between runs are copied as
 * they are, each run's pieces are checked (layouts found by walking the file) and have their
 * masked elements zeroed and counted; progress is reported after each tensor's last piece.
 */
function piecesOf(runs: readonly Run[], size: number, loaded: LoadedModel, progress: () => void): Piece[] {
  const pieces: Piece[] = [];
  let pos = 0;
  const copyUpTo = (end: number) => {
    for (; pos < end; pos = Math.min(end, pos + CHUNK)) pieces.push({ offset: pos, length: Math.min(CHUNK, end - pos) });
  };
  for (const run of runs) {
    const p = run.patch;
    const esize = p.layout.elementSize;
    const count = elementCount(p.tensor.dims);
    copyUpTo(run.offset);
    const perChunk = Math.floor(CHUNK / esize);
    for (let first = 0; first < run.count; first += perChunk) {
      const m = Math.min(perChunk, run.count - first);
      const last = run.last && first + m >= run.count;
      pieces.push({
        offset: pos, length: m * esize,
        patch: (bytes) => {
          if (p.layout.walked) verifyRun(bytes, run, first, m, (p.expected ??= loaded.tensors.float32(p.tensor)));
          if (m === count && !p.mask) computeMaskFrom(p, bytes);
          const counted = zeroMasked(bytes, esize, maskOf(p, loaded.model.path), run.maskBase + first, m);
          p.zeros += counted.zeros;
          p.pruned += counted.pruned;
          if (last) progress();
        },
      });
      pos += m * esize;
    }
  }
  copyUpTo(size);
  return pieces;
}

function fsyncPath(p: string): void {
  const fd = fs.openSync(p, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function realpath(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
