#!/usr/bin/env bash
# Installs the real VS Code the integration and UI tests run in: code-server 4.100.3 (VS Code 1.100.3
# server + web workbench) in .vscode-test/, driven by Debian's chromium (see docs/testing.md).
# Idempotent: a finished install leaves a stamp file and a second run returns at once; an unfinished
# one is wiped and redone. Works as root on a fresh Debian 12 with the packages .ci/run installs.
#
# Why not `npm install code-server`: as root its postinstall demands --unsafe-perm, and
# @vscode/ripgrep's postinstall downloads rg from GitHub. So we install with --ignore-scripts and do
# the postinstall's work ourselves, building the native modules with node-gyp and using Debian's rg.
set -euo pipefail

VERSION=4.100.3
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="$ROOT/.vscode-test/code-server-$VERSION"
STAMP="$DIR/.setup-complete"
CS="$DIR/node_modules/code-server"
VSCODE="$CS/lib/vscode"

t0=$SECONDS
step() { printf '[setup-vscode] %s\n' "$*"; }
quiet() { # runs a command, printing its output only when it fails
  local log; log="$(mktemp)"
  if ! "$@" >"$log" 2>&1; then cat "$log" >&2; rm -f "$log"; step "failed: $*" >&2; exit 1; fi
  rm -f "$log"
}

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$VERSION" ]]; then
  step "code-server $VERSION already installed in ${DIR#"$ROOT"/} (remove it to reinstall)"
  exit 0
fi

# Tools the install and the tests need, with the Debian package that provides each.
missing=()
for pair in node:nodejs npm:npm make:build-essential g++:build-essential python3:python3 \
            rg:ripgrep chromium:chromium; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
if (( ${#missing[@]} )); then
  step "missing tools; install them with: apt-get install -y $(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')" >&2
  exit 1
fi

step "fresh install into ${DIR#"$ROOT"/}"
rm -rf "$DIR"
mkdir -p "$DIR"
echo '{ "private": true, "description": "code-server for PruneMap tests (scripts/setup-vscode.sh)" }' >"$DIR/package.json"

# The machine's npm config may set yes=false; node-pty's postinstall runs `npx node-gyp`, which then
# refuses to fetch node-gyp. The other settings keep the logs short.
export npm_config_yes=true npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
# node-gyp compiles against Node's headers: use the ones installed with Node (Debian/NodeSource put
# them in /usr/include/node) rather than downloading them from nodejs.org, which CI cannot reach.
node_prefix="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
if [[ -z "${npm_config_nodedir:-}" && -f "$node_prefix/include/node/node.h" ]]; then
  export npm_config_nodedir="$node_prefix"
fi

step "npm install --ignore-scripts code-server@$VERSION"
(cd "$DIR" && quiet npm install --ignore-scripts "code-server@$VERSION")

step "npm rebuild argon2 (password hashing; loaded even with --auth none)"
(cd "$DIR" && quiet npm rebuild argon2)

step "lib/vscode: npm install --omit=dev --ignore-scripts"
(cd "$VSCODE" && quiet npm install --omit=dev --ignore-scripts)

# kerberos (proxy auth) is left out: it needs libkrb5-dev and the tests never use a proxy.
step "lib/vscode: npm rebuild @parcel/watcher @vscode/spdlog native-watchdog node-pty @vscode/deviceid (node-gyp)"
(cd "$VSCODE" && quiet npm rebuild @parcel/watcher @vscode/spdlog native-watchdog node-pty @vscode/deviceid)

step "lib/vscode: ripgrep from Debian ($(command -v rg)) for search"
mkdir -p "$VSCODE/node_modules/@vscode/ripgrep/bin"
cp "$(command -v rg)" "$VSCODE/node_modules/@vscode/ripgrep/bin/rg"

step "lib/vscode: the links code-server's postinstall.sh creates"
ln -sfn node_modules "$VSCODE/node_modules.asar"
ln -sfn code-linux.sh "$VSCODE/bin/remote-cli/code-server"
ln -sfn browser-linux.sh "$VSCODE/bin/helpers/browser.sh"

step "lib/vscode/extensions: npm install --omit=dev --ignore-scripts, then postinstall.mjs"
(cd "$VSCODE/extensions" && quiet npm install --omit=dev --ignore-scripts && quiet node postinstall.mjs)

# Fail here, not in a test, if a native module did not build.
for f in "$DIR/node_modules/argon2/lib/binding/napi-v3/argon2.node" \
         "$VSCODE/node_modules/@vscode/spdlog/build/Release/spdlog.node" \
         "$VSCODE/node_modules/native-watchdog/build/Release/watchdog.node" \
         "$VSCODE/node_modules/node-pty/build/Release/pty.node"; do
  [[ -f "$f" ]] || { step "a native module did not build: ${f#"$DIR"/} is missing" >&2; exit 1; }
done

step "check: code-server --version"
# code-server writes a config file and logs under the XDG dirs even for --version: keep them out of $HOME.
xdg="$(mktemp -d)"
XDG_CONFIG_HOME="$xdg" XDG_DATA_HOME="$xdg" quiet node "$CS/out/node/entry.js" --version
rm -rf "$xdg"

echo "$VERSION" >"$STAMP"
step "done in $((SECONDS - t0)) s ($(du -sh "$DIR" | cut -f1))"
