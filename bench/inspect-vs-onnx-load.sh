#!/usr/bin/env bash
# Benchmark: `prunemap inspect MODEL --json` (whole command, node start-up included) against
# Python's onnx.load(MODEL) on the same file: the parse alone (timed inside one long-running
# Python process) and the whole `python -c "import onnx; onnx.load(...)"` command. Also our peak
# RSS against the file size. See bench/README.md.
#
#   bash bench/inspect-vs-onnx-load.sh [MODEL] [-n RUNS]      (default: torchvision/resnet50.onnx, 7 runs)
#   npm run bench -- [MODEL] [-n RUNS]
DEFAULT_RUNS=7 MIN_RUNS=5
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
"$PY" -c 'import onnx' 2>/dev/null || die "onnx is not installed in .venv-ref: run \`npm run setup:reference\`"

# Peak RSS comes from GNU time when present (the helper falls back to getrusage otherwise).
if [[ ! -x /usr/bin/time && $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  echo "bench: installing GNU time (apt)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends time >/dev/null 2>&1 || true
fi

# Benchmark the current sources: rebuild the CLI when it is missing or older than a source file.
CLI="$ROOT/dist/cli.js"
if [[ ! -f "$CLI" ]] || [[ -n "$(find "$ROOT/src" -name '*.ts' -newer "$CLI" -print -quit)" ]]; then
  echo "bench: building dist/cli.js" >&2
  (cd "$ROOT" && npm run --silent build >&2)
fi

mkdir -p "$ROOT/bench/results"
OUT="$ROOT/bench/results/$(date +%Y%m%d-%H%M%S)-$(basename "$MODEL" .onnx).json"
exec "$PY" "$ROOT/bench/inspect-vs-onnx-load.py" --model "$MODEL" --runs "$RUNS" --node "$(command -v node)" \
  --cli "$CLI" --python "$PY" --json-out "$OUT"
