#!/usr/bin/env bash
# What `npm test` runs: reference venv + corpora (idempotent), typecheck, build, the TextMate grammar
# test, then every unit and corpus test in ONE node:test run. The last line printed is
# `N passed, N failed, N skipped`; the exit code is non-zero on any failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

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
TEST_FILES=(test/unit/**/*.test.ts test/corpus/**/*.test.ts)
shopt -u globstar nullglob
if [[ ${#TEST_FILES[@]} -eq 0 ]]; then
  echo "no test files under test/unit or test/corpus" >&2
  exit 1
fi

step "unit and corpus tests (${#TEST_FILES[@]} files; total so far $((SECONDS - T0)) s)"
node --import tsx --test \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=./test/support/summary-reporter.mjs --test-reporter-destination=stdout \
  "${TEST_FILES[@]}"
