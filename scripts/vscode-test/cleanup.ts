// Releases what the runner started (code-server's process group, temp dirs) however the process
// ends: normally, on an uncaught error, or on Ctrl+C / SIGTERM. code-server runs in its own process
// group, so a signal to ours never reaches it: without this, it and its file watcher would linger.

const releases = new Set<() => void>();
let installed = false;

/**
 * Registers a synchronous release to run at exit if the owner has not run it already.
 * Returns a function that runs it now (once) and unregisters it.
 */
export function atExit(release: () => void): () => void {
  installHandlers();
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    releases.delete(once);
    release();
  };
  releases.add(once);
  return once;
}

function installHandlers(): void {
  if (installed) return;
  installed = true;
  process.on('exit', () => {
    for (const release of [...releases]) {
      try {
        release();
      } catch {
        // Best effort: the process is ending anyway.
      }
    }
  });
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    // process.exit runs the 'exit' handler above.
    process.once(signal, () => {
      console.error(`[vscode-test] ${signal}: stopping code-server and the browser`);
      process.exit(code);
    });
  }
}
