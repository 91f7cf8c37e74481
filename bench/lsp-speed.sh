#!/usr/bin/env bash
# Benchmark: the language server as an editor feels it (bench/lsp-speed.ts says what is timed):
# first inlay hints after prunemap/textView in a fresh server (goal ≤ 1 s), hover p95 over every
# layer (goal ≤ 20 ms), and override refresh, setLayer → refreshed inlay hints (goal ≤ 100 ms),
# on a text view of DenseNet-121 by default. Figures are printed next to the goals and written to
# bench/results/ (git-ignored).
#
#   bash bench/lsp-speed.sh                         (test/corpora/torchvision/densenet121.onnx)
#   bash bench/lsp-speed.sh MODEL [--cold N] [--rounds N] [--overrides N]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Benchmark the current sources: rebuild the server when it is missing or older than a source file.
SERVER="$ROOT/dist/server.js"
if [[ ! -f "$SERVER" ]] || [[ -n "$(find "$ROOT/src" -name '*.ts' -newer "$SERVER" -print -quit)" ]]; then
  echo "bench: building dist/server.js" >&2
  (cd "$ROOT" && npm run --silent build >&2)
fi

mkdir -p "$ROOT/bench/results"
OUT="$ROOT/bench/results/$(date +%Y%m%d-%H%M%S)-lsp-speed.json"
cd "$ROOT"
exec node --import tsx bench/lsp-speed.ts "$@" --json-out "$OUT"
