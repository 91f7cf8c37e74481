#!/usr/bin/env bash
# Held-out accuracy of the measured host-cpu latency profile: the group-1 Convs of ResNet-50,
# VGG-11 and MobileNetV2 (none of them in `prunemap calibrate`'s grid), dense and pruned,
# timed by the calibration harness and predicted by the latency model; prints them side by side,
# then MAPE (goal ≤ 15%) and Spearman's rank correlation. Compiler: $CC $CFLAGS (cc -O3 -march=native).
#
#   bash bench/calibrate-eval.sh [--profile FILE] [--threads N] [--quick]
#   (no --profile: calibrate as `prunemap calibrate --threads N` does, timing the grid in the same
#    program run as the held-out kernels, and evaluate that fit; --profile
#    src/core/latency/profiles/host-cpu.json evaluates the built-in profile, fitted at another time)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
case "${1:-}" in -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
cd "$ROOT"
for m in resnet50 vgg11 mobilenet_v2; do
  [[ -f "test/corpora/torchvision/$m.onnx" ]] || { echo "bench: test/corpora/torchvision/$m.onnx is missing (run \`npm run setup:reference\`)" >&2; exit 1; }
done
echo "$(date -u '+%Y-%m-%d %H:%M UTC') · cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs) · load: $(cut -d' ' -f1-3 /proc/loadavg) · cc: $(${CC:-cc} --version | head -1)"
node --import tsx bench/calibrate-eval.ts "$@"
