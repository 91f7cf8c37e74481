#!/usr/bin/env bash
# Benchmark: the rule-based mapper's time on a model, excluding the model load (goal: < 50 ms on
# ResNet-50). The benchmark is bundled with esbuild exactly as the CLI is (scripts/build.mjs: bundle,
# node20, cjs, no keepNames), so it times the code `prunemap map` runs. It loads the model into
# memory first (decode, layers and every weight byte: the load the goal excludes), then prints the
# first (cold JIT) mapping — the figure —, the median of warm runs with CPU time next to wall time
# (the steadier figure on a busy machine), the pattern-library count alone, mapping with the
# weights read lazily from the file as the CLI does, and the SHA-256 of the file.
#
#   bash bench/map-speed.sh                          (test/corpora/torchvision/resnet50.onnx)
#   bash bench/map-speed.sh MODEL [--target ID] [-n RUNS]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
"$ROOT/node_modules/.bin/esbuild" "$ROOT/bench/map-speed.ts" --bundle --platform=node --target=node20 --format=cjs \
  --log-level=warning --outfile="$OUT/map-speed.js" --define:__BENCH_ROOT__="\"$ROOT\""
node "$OUT/map-speed.js" "$@"
