#!/usr/bin/env bash
# What `npm test` runs: reference venv + corpora (idempotent), typecheck, build, the TextMate grammar
# test, every unit and corpus test in ONE node:test run, then the suites that run in a real VS Code
# (code-server + chromium, see docs/testing.md). The last line printed is `N passed, N failed,
# N skipped` over the node:test run and the VS Code suites; the exit code is non-zero on any failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# Test suites that run in a real VS Code, one per line as "name|command". A command prints the
# closing line `N passed, N failed, N skipped` and exits non-zero on failure; bash expands its globs.
NODE_TEST_REPORTERS='--test-reporter=spec --test-reporter-destination=stdout --test-reporter=./test/support/summary-reporter.mjs --test-reporter-destination=stdout'
HARNESS=test/fixtures/harness-extension
VSCODE_SUITES=(
  "harness fixture, extension host|node --import tsx scripts/vscode-test/run.ts --extension $HARNESS --tests $HARNESS/out/test/index.js --folder $HARNESS/workspace"
  "harness fixture, workspace trust on|node --import tsx scripts/vscode-test/run.ts --trust --extension $HARNESS --tests $HARNESS/out/test/trust/index.js --folder $HARNESS/workspace"
  "harness fixture, UI|node --import tsx --test $NODE_TEST_REPORTERS $HARNESS/ui/*.test.ts"
  "PruneMap, extension host|node --import tsx test/integration/run-extension-tests.ts"
  "PruneMap, UI|npm run --silent package >/dev/null && node --import tsx --test $NODE_TEST_REPORTERS test/ui/prunemap-workbench.test.ts"
  "PruneMap, Restricted Mode|node --import tsx test/integration/run-extension-tests.ts --restricted"
)

T0=$SECONDS
step() { printf '\n==> %s\n' "$*"; }
took() { printf '    (%s: %d s)\n' "$1" "$((SECONDS - $2))"; }

step "reference venv and corpora (scripts/setup-reference.sh)"
t=$SECONDS; bash scripts/setup-reference.sh; took setup "$t"

step "typecheck"
t=$SECONDS; npm run --silent typecheck; took typecheck "$t"

step "build"
t=$SECONDS; npm run --silent build; took build "$t"

step "grammar (vscode-tmgrammar-test)"
t=$SECONDS; npm run --silent test:grammar; took grammar "$t"

# Node 20's --test does not expand globs itself: let bash do it.
shopt -s globstar nullglob
TEST_FILES=(test/unit/**/*.test.ts test/corpus/**/*.test.ts test/lsp/**/*.test.ts test/ui/webview*.test.ts)
shopt -u globstar nullglob
if [[ ${#TEST_FILES[@]} -eq 0 ]]; then
  echo "no test files under test/unit or test/corpus" >&2
  exit 1
fi

step "unit and corpus tests (${#TEST_FILES[@]} files; total so far $((SECONDS - T0)) s)"
LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT
PASSED=0 FAILED=0 SKIPPED=0 STATUS=0

# Runs a command with its output shown and kept in $LOG, then adds the counts of its last
# `N passed, N failed, N skipped` line to the totals. A command that fails without reporting a
# failed test (a crash, a setup error) counts as one failed test, so the totals never hide it.
run_counted() {
  local name="$1"; shift
  local status=0 line p=0 f=0 s=0
  "$@" 2>&1 | tee "$LOG" || status=$?
  line="$(grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped' "$LOG" | tail -n 1 || true)"
  if [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped ]]; then
    p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]} s=${BASH_REMATCH[3]}
  fi
  if (( status != 0 && f == 0 )); then
    echo "    $name failed (exit $status) without a failing test: counted as 1 failed"
    f=1
  fi
  PASSED=$((PASSED + p)) FAILED=$((FAILED + f)) SKIPPED=$((SKIPPED + s))
  if (( status != 0 )); then STATUS=1; fi
}

# shellcheck disable=SC2086  # the reporter flags are meant to split
run_counted "unit and corpus tests" node --import tsx --test $NODE_TEST_REPORTERS "${TEST_FILES[@]}"

step "VS Code: code-server (scripts/setup-vscode.sh) and the harness fixture's build"
t=$SECONDS
if bash scripts/setup-vscode.sh && node "$HARNESS/build.mjs"; then
  took "setup and fixture build" "$t"
  for suite in "${VSCODE_SUITES[@]}"; do
    step "VS Code: ${suite%%|*} (total so far $((SECONDS - T0)) s)"
    t=$SECONDS
    run_counted "${suite%%|*}" bash -c "${suite#*|}"
    took "${suite%%|*}" "$t"
  done
else
  echo "    the VS Code suites did not run: setup failed (see above); counted as 1 failed"
  FAILED=$((FAILED + 1)) STATUS=1
fi

step "all tests: $((SECONDS - T0)) s"
printf '%d passed, %d failed, %d skipped\n' "$PASSED" "$FAILED" "$SKIPPED"
exit "$STATUS"
