// External tensor data: files next to the model, named by the model. Model files are untrusted, so
// a location may never leave the model's folder: absolute paths, `..` segments and links that
// resolve outside are refused, and offset/length must lie inside the data file.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { ModelError } from '../errors';
import type { ByteRange } from './model';

export interface ExternalDataRequest {
  readonly tensor: string;
  readonly location: string;
  readonly offset: number;
  /** Declared length, or undefined when the model leaves it out (data runs to the file's end). */
  readonly length: number | undefined;
}

/** Resolves external data locations of one model, checking each data file once. */
export class ExternalDataResolver {
  private readonly folder: string;
  private realFolder: string | undefined;
  private readonly sizes = new Map<string, number>();

  constructor(private readonly modelPath: string) {
    this.folder = path.dirname(path.resolve(modelPath));
  }

  resolve(req: ExternalDataRequest): ByteRange {
    const file = this.checkedPath(req);
    const size = this.sizeOf(file, req);
    const length = req.length ?? Math.max(0, size - req.offset);
    if (req.offset + length > size) {
      throw this.error(req, `needs bytes ${req.offset}..${req.offset + length} but the data file has ${size}`,
        'The external data file is truncated or belongs to another version of the model; copy it again.');
    }
    return { file, offset: req.offset, length };
  }

  private checkedPath(req: ExternalDataRequest): string {
    const loc = req.location;
    if (loc === '') throw this.error(req, 'has an empty external data location', 'Re-save the model with its external data.');
    if (path.isAbsolute(loc) || /^[a-zA-Z]:[\\/]/.test(loc) || loc.startsWith('\\')) {
      throw this.error(req, `has an absolute external data location "${loc}"`, 'External data must live in the model\'s folder; re-save the model with a relative location.');
    }
    if (loc.split(/[\\/]/).includes('..')) {
      throw this.error(req, `has an external data location "${loc}" that leaves the model's folder`, 'Move the data next to the model and re-save it with a relative location.');
    }
    if (loc.includes('\0')) throw this.error(req, 'has a NUL byte in its external data location', 'Re-save the model with a valid location.');
    const file = path.join(this.folder, loc);
    let real: string;
    try {
      real = fs.realpathSync(file);
    } catch {
      throw this.error(req, `external data file "${loc}" is missing`, `Put "${loc}" next to the model (in ${this.folder}).`);
    }
    this.realFolder ??= fs.realpathSync(this.folder);
    if (!real.startsWith(this.realFolder + path.sep)) {
      throw this.error(req, `external data "${loc}" resolves to ${real}, outside the model's folder`, 'Links out of the model\'s folder are refused; copy the data into the folder.');
    }
    return real;
  }

  private sizeOf(file: string, req: ExternalDataRequest): number {
    let size = this.sizes.get(file);
    if (size === undefined) {
      const stat = fs.statSync(file);
      if (!stat.isFile()) throw this.error(req, `external data "${req.location}" is not a regular file`, 'Point the location at a data file.');
      size = stat.size;
      this.sizes.set(file, size);
    }
    return size;
  }

  private error(req: ExternalDataRequest, what: string, hint: string): ModelError {
    return new ModelError(`tensor "${req.tensor}" ${what}`, this.modelPath, hint);
  }
}
