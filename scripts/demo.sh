#!/usr/bin/env bash
# `npm run demo`: PruneMap in a real VS Code in your browser. Packages prunemap.vsix when it is
# missing or older than the sources, installs code-server (scripts/setup-vscode.sh, idempotent),
# installs the VSIX into a fresh extensions dir with code-server's --install-extension, and serves
# a workspace holding a copy of the sample model on http://127.0.0.1:$PORT (default 8080, no auth:
# it listens on localhost only). Ctrl+C stops code-server's whole process group and removes the
# temp dir (user data, extensions, workspace).
#
#   PORT=8080 npm run demo        # then open the printed URL and click fashion-cnn.onnx
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PORT="${PORT:-8080}"
VERSION=4.100.3 # as scripts/setup-vscode.sh and scripts/vscode-test/paths.ts
ENTRY="$ROOT/.vscode-test/code-server-$VERSION/node_modules/code-server/out/node/entry.js"
VSIX="$ROOT/prunemap.vsix"
say() { printf '[demo] %s\n' "$*"; }

if [[ ! -f "$VSIX" || -n "$(find src webview syntaxes schemas scripts/build.mjs package.json README.md -newer "$VSIX" -print -quit)" ]]; then
  say "packaging prunemap.vsix (npm run package)"
  log="$(mktemp)"
  if ! npm run --silent package >"$log" 2>&1; then cat "$log" >&2; rm -f "$log"; exit 1; fi
  rm -f "$log"
fi
bash scripts/setup-vscode.sh

TMP="$(mktemp -d "${TMPDIR:-/tmp}/prunemap-demo-XXXXXX")"
PGID=""
stop() {
  trap - EXIT INT TERM HUP
  if [[ -n "$PGID" ]]; then
    say "stopping code-server (process group $PGID)"
    kill -TERM -- "-$PGID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 -- "-$PGID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$PGID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

WORKSPACE="$TMP/workspace"
mkdir -p "$WORKSPACE" "$TMP/extensions" "$TMP/user-data/User"
cp samples/fashion-cnn.onnx "$WORKSPACE/"
cat >"$TMP/user-data/User/settings.json" <<'JSON'
{
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none"
}
JSON
# code-server keeps its config and logs under the XDG dirs: keep them in the temp dir, not $HOME.
export XDG_CONFIG_HOME="$TMP/xdg-config" XDG_DATA_HOME="$TMP/xdg-data" EXTENSIONS_GALLERY='{}'
COMMON=(--config "$TMP/config.yaml" --user-data-dir "$TMP/user-data" --extensions-dir "$TMP/extensions")

say "installing $(basename "$VSIX") ($(du -k "$VSIX" | cut -f1) KB) with code-server --install-extension"
node "$ENTRY" "${COMMON[@]}" --install-extension "$VSIX" | sed 's/^/[code-server] /'

# setsid: code-server leads a process group of its own (its file watcher and extension hosts with
# it), which stop() ends as a whole.
setsid node "$ENTRY" "${COMMON[@]}" --auth none --bind-addr "127.0.0.1:$PORT" --disable-telemetry \
  --disable-update-check --disable-workspace-trust "$WORKSPACE" >"$TMP/code-server.log" 2>&1 &
PID=$!
PGID="$(ps -o pgid= "$PID" | tr -d ' ')"
until curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; do
  if ! kill -0 "$PID" 2>/dev/null; then
    say "code-server did not start (is port $PORT free? try PORT=8081 npm run demo):"
    cat "$TMP/code-server.log" >&2
    exit 1
  fi
  sleep 0.2
done

say "PruneMap $(node -p "require('./package.json').version") is running in VS Code $(node -p "require('$ROOT/.vscode-test/code-server-$VERSION/node_modules/code-server/lib/vscode/package.json').version") (code-server $VERSION)"
say "open  http://127.0.0.1:$PORT/?folder=$WORKSPACE"
say "then click fashion-cnn.onnx in the explorer. Ctrl+C stops it."
wait "$PID"
