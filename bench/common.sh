# Sourced by the bench/*.sh scripts: their shared arguments (MODEL, -n RUNS) and checks.
# Set DEFAULT_RUNS and MIN_RUNS before sourcing; afterwards ROOT, MODEL, RUNS and PY are set.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODEL="$ROOT/test/corpora/torchvision/resnet50.onnx"
RUNS="${DEFAULT_RUNS:-5}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    -n|--runs) RUNS="$2"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) MODEL="$1"; shift ;;
  esac
done

die() { echo "bench: $*" >&2; exit 1; }
[[ -f "$MODEL" ]] || die "no model file $MODEL (the default comes from \`npm run setup:reference\`)"
[[ "$RUNS" =~ ^[0-9]+$ && "$RUNS" -ge "${MIN_RUNS:-3}" ]] || die "RUNS must be a number >= ${MIN_RUNS:-3} (got $RUNS)"
PY="$ROOT/.venv-ref/bin/python"
[[ -x "$PY" ]] || die "$PY is missing: run \`npm run setup:reference\`"
