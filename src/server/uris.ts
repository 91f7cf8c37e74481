// URIs at the server's edge: file: URIs ↔ paths, the text view URI of a model, and a canonical
// key so that the same URI spelt with different percent-encodings (VS Code encodes more characters
// than Node does) finds the same document.

import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ErrorCodes, ResponseError } from 'vscode-languageserver/node';
import { TEXT_VIEW_SCHEME } from '../protocol/constants';

/** The path of a file: URI, or a clear InvalidParams error. */
export function pathOfFileUri(uri: unknown, what = 'model'): string {
  if (typeof uri !== 'string' || !/^file:/i.test(uri)) {
    throw new ResponseError(ErrorCodes.InvalidParams, `expected the file: URI of a ${what}, got ${JSON.stringify(uri)}`);
  }
  try {
    return path.resolve(fileURLToPath(uri));
  } catch (err) {
    throw new ResponseError(ErrorCodes.InvalidParams, `${uri} is not a valid file: URI (${(err as Error).message})`);
  }
}

export function fileUriOf(file: string): string {
  return pathToFileURL(file).href;
}

/** `file:///d/resnet50.onnx` → `prunemap-text:/d/resnet50.onnx-text` (".onnx-text" appended when the name does not end in .onnx). */
export function textViewUriOf(modelPath: string): string {
  const encodedPath = pathToFileURL(modelPath).href.slice('file://'.length);
  return `${TEXT_VIEW_SCHEME}:${encodedPath}${/\.onnx$/i.test(modelPath) ? '-text' : '.onnx-text'}`;
}

/** A URI with its scheme lower-cased, an empty authority dropped and percent-encoding decoded. */
export function uriKey(uri: string): string {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):(?:\/\/(?=\/))?(.*)$/s.exec(uri);
  if (!m) return uri;
  let rest = m[2];
  try {
    rest = decodeURIComponent(rest);
  } catch {
    // a malformed escape: keep the text as it is
  }
  return `${m[1].toLowerCase()}:${rest}`;
}

export function isPlanFilePath(file: string): boolean {
  return /\.prune\.json$/i.test(file);
}

/** A file: URI's path, or undefined for any other URI (never throws). */
export function tryPathOfFileUri(uri: string): string | undefined {
  if (!/^file:/i.test(uri)) return undefined;
  try {
    return path.resolve(fileURLToPath(uri));
  } catch {
    return undefined;
  }
}
