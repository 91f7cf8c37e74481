#!/usr/bin/env bash
# The main job (`npm start`): on the bundled, trained sample, map every layer to its pruning scheme
# (the per-layer table: scheme, block, rate, latency dense → pruned, reason), prune the model with
# that plan, check that the pruned model runs in onnxruntime, then generate C code for it (sparse
# kernels + whole-model runner), compile it and check its output against onnxruntime and time it
# (--bench, generated code vs onnxruntime, 1 thread). Outputs go to out/.
# Usage: bash scripts/main-job.sh [MODEL] [OUT_DIR]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

model="${1:-samples/fashion-cnn.onnx}"
out="${2:-out}"
name="$(basename "$model" .onnx)"

node scripts/build.mjs > /dev/null
mkdir -p "$out"
node dist/cli.js map "$model" -o "$out/$name.prune.json"
echo
node dist/cli.js prune "$model" --plan "$out/$name.prune.json" -o "$out/$name.pruned.onnx" --force --verify
echo
node dist/cli.js codegen "$model" --plan "$out/$name.prune.json" -o "$out/$name.codegen" --force --verify --bench
echo
echo "outputs: $out/$name.prune.json (the plan), $out/$name.pruned.onnx (the pruned model), $out/$name.codegen/ (C sources, Makefile, weights)"
