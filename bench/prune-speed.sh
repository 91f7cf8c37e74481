#!/usr/bin/env bash
# Benchmark: `prunemap prune` against a straightforward NumPy implementation of the same pruning
# (onnx.load → per layer: reshape to units, L2 scores, stable argsort, zero → onnx.save), on every
# Conv of ResNet-50 whose F and C divide by (8, 4), block-punched (8, 4) at rate 0.875. Alternating,
# median of N ≥ 3 runs; prints both times and the ratio, and checks that the masks are identical.
# See bench/README.md.
#
#   bash bench/prune-speed.sh [MODEL] [-n RUNS]      (default: torchvision/resnet50.onnx, 5 runs)
DEFAULT_RUNS=5 MIN_RUNS=3
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# Benchmark the current sources: rebuild the CLI when it is missing or older than a source file.
CLI="$ROOT/dist/cli.js"
if [[ ! -f "$CLI" ]] || [[ -n "$(find "$ROOT/src" -name '*.ts' -newer "$CLI" -print -quit)" ]]; then
  echo "bench: building dist/cli.js" >&2
  (cd "$ROOT" && npm run --silent build >&2)
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/prunemap-bench-prune.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
# Our in-process side, bundled as the CLI is (under tsx, cross-module calls go through getters).
"$ROOT/node_modules/.bin/esbuild" "$ROOT/bench/prune-speed.ts" --bundle --platform=node --target=node20 \
  --external:onnxruntime-node --log-level=warning --outfile="$WORK/prune-speed.js"
mkdir -p "$ROOT/bench/results"
OUT="$ROOT/bench/results/$(date +%Y%m%d-%H%M%S)-prune-$(basename "$MODEL" .onnx).json"
cd "$ROOT"
"$PY" "$ROOT/bench/prune-speed.py" --model "$MODEL" --runs "$RUNS" --node "$(command -v node)" \
  --cli "$CLI" --script "$WORK/prune-speed.js" --work "$WORK" --json-out "$OUT"
