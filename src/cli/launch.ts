// The `prunemap` executable (dist/cli.js): runs the CLI bundle (dist/cli-main.js) through a V8
// code cache made at build time, which saves about a tenth of a short command's time (Node 22's
// module.enableCompileCache does the same; Node 20 lacks it). A cache V8 rejects, because Node
// changed or the bundle was rebuilt, is ignored and the bundle compiles as usual.

import * as fs from 'node:fs';
import Module from 'node:module';
import * as path from 'node:path';
import * as vm from 'node:vm';

const bundle = path.join(__dirname, 'cli-main.js');
const cacheFile = `${bundle}.cache`;

let cachedData: Buffer | undefined;
try {
  cachedData = fs.readFileSync(cacheFile);
} catch {
  // no cache yet: compile normally
}
const script = new vm.Script(Module.wrap(fs.readFileSync(bundle, 'utf8')), { filename: bundle, cachedData });
if (process.env.PRUNEMAP_WRITE_CODE_CACHE) {
  // After the run, so that the functions it compiled are in the cache too (see scripts/build.mjs).
  process.on('exit', () => fs.writeFileSync(cacheFile, script.createCachedData()));
}
const mod = new Module(bundle, module);
mod.filename = bundle;
// Resolve externals (onnxruntime-node) from the bundle's folder, as a normal require would.
const requireFromBundle = Module.createRequire(bundle);
const moduleWrapper = script.runInThisContext() as (...args: unknown[]) => void;
moduleWrapper.call(mod.exports, mod.exports, requireFromBundle, mod, bundle, path.dirname(bundle));
