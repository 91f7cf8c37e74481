// The reference manifest written by scripts/corpora/reference.py with Python's onnx: what an
// independent decoder says about every corpus file. Tests compare the engine against it.

import * as fs from 'node:fs';
import * as path from 'node:path';

export const corporaDir = path.resolve(__dirname, '..', 'corpora');
const manifestPath = path.join(corporaDir, 'manifest.json');

export interface RefTensor {
  name: string; dataType: number; dims: number[]; storage: string; rawLength: number; externalLength: number; absSum?: number;
}
export interface RefLayer {
  id: string; op: string; weight: string; weightShape: number[]; group: number; kernel: number[];
  /** Dims Python's shape inference could not determine are null; so are MACs computed from them. */
  inputShape: (number | null)[] | null; outputShape: (number | null)[] | null; params: number; macs: number | null;
}
export interface RefEntry {
  corpus: string; path: string; relPath: string; ok: boolean; error?: string;
  irVersion: number; opsets: Record<string, number>; producer: string;
  nodeCount: number; initializerCount: number; sparseInitializerCount: number; functionCount: number; functionNodeCount: number;
  opTypes: Record<string, number>; rawBytes: number;
  initializers: RefTensor[]; constantTensors: { node: string; dataType: number; dims: number[]; absSum?: number }[];
  layers?: RefLayer[];
}
export interface Manifest {
  roots: Record<string, string>;
  hostile: { name: string; path: string; readme: string }[];
  entries: RefEntry[];
}

let cached: Manifest | undefined;

export function loadManifest(): Manifest {
  if (!cached) {
    if (!fs.existsSync(manifestPath)) {
      throw new Error(`${manifestPath} is missing: run \`bash scripts/setup-reference.sh\` (npm test does it for you)`);
    }
    cached = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as Manifest;
  }
  return cached;
}
