#!/usr/bin/env bash
# Benchmark: generated sparse code (`prunemap codegen --bench`) on ResNet-18 and ResNet-50, every
# Conv whose F and C divide by (8, 4) block-punched (8, 4) at 87.5%. Per layer: ours sparse, our own
# dense kernel and onnxruntime-node's dense Conv (same pruned weights), alternating rounds, medians;
# then the whole model against onnxruntime-node on the pruned model, outputs verified. Goals side by
# side. Compiler: $CC $CFLAGS (default cc -O3 -march=native).
#
#   bash bench/codegen-speed.sh [MODEL...] [--threads N]     (default: torchvision resnet18 and resnet50)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
THREADS=1
MODELS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --threads) THREADS="$2"; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) MODELS+=("$1"); shift ;;
  esac
done
[[ ${#MODELS[@]} -gt 0 ]] || MODELS=("$ROOT/test/corpora/torchvision/resnet18.onnx" "$ROOT/test/corpora/torchvision/resnet50.onnx")
cd "$ROOT"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs) · cc: $(${CC:-cc} --version | head -1)"
for m in "${MODELS[@]}"; do
  [[ -f "$m" ]] || { echo "bench: no model file $m" >&2; exit 1; }
  node --import tsx bench/codegen-speed.ts "$m" "$THREADS"
  echo
done
