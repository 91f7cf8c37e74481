// Copies onnxruntime-node's run-time files into dist/node_modules/. The VSIX is packaged with
// --no-dependencies (every other dependency is bundled into dist/), and the server's
// require('onnxruntime-node') resolves there first, so development builds and tests load the very
// layout the VSIX ships. Only linux-x64 binaries are copied: the VSIX is platform-specific
// (vsce package --target linux-x64). onnxruntime-common is its one run-time dependency; adm-zip and
// global-agent serve only its install script.
//
// Files are replaced only when they differ, each through a temporary name and a rename, so a server
// or test that has the native library loaded keeps its (old) inode and never sees a half-written file.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const COPIES = [
  ['onnxruntime-node/package.json'],
  ['onnxruntime-node/dist', (f) => f.endsWith('.js')],
  ['onnxruntime-node/bin/napi-v6/linux/x64'],
  ['onnxruntime-common/package.json'],
  ['onnxruntime-common/dist/cjs', (f) => f.endsWith('.js') || f.endsWith('package.json')],
];

export function vendorOnnxruntime(root) {
  let copied = 0;
  const copyFile = (from, to) => {
    const a = fs.statSync(from);
    const b = fs.statSync(to, { throwIfNoEntry: false });
    if (b && b.size === a.size && b.mtimeMs === a.mtimeMs) return;
    fs.mkdirSync(path.dirname(to), { recursive: true });
    const tmp = `${to}.tmp-${process.pid}`;
    fs.copyFileSync(from, tmp);
    fs.utimesSync(tmp, a.atime, a.mtime);
    fs.renameSync(tmp, to);
    copied++;
  };
  const walk = (from, to, keep) => {
    if (fs.statSync(from).isDirectory()) {
      for (const name of fs.readdirSync(from)) walk(path.join(from, name), path.join(to, name), keep);
    } else if (keep(from)) {
      copyFile(from, to);
    }
  };
  for (const [rel, keep = () => true] of COPIES) {
    walk(path.join(root, 'node_modules', rel), path.join(root, 'dist', 'node_modules', rel), keep);
  }
  return copied;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
  console.log(`vendored onnxruntime-node (linux-x64) into dist/node_modules: ${vendorOnnxruntime(root)} files updated`);
}
