#!/usr/bin/env bash
# Benchmark: rule-based vs search-based plans (bench/search.ts says what it measures). Writes the
# tables into docs/search.md between the bench:search markers.
#
#   bash bench/search.sh            the sample at six compressions, then ResNet-18 and MobileNetV2 (proxy)
#   bash bench/search.sh --quick    the sample at 2× and 4× only
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[[ -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ]] || { echo "bench: fashion-mnist is missing: run \`npm run setup:reference\`" >&2; exit 1; }
cd "$ROOT"
exec node --import tsx bench/search.ts "$@"
