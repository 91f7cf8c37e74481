#!/usr/bin/env bash
# The executable @vscode/test-electron starts as "VS Code": runs code-cli.ts under tsx.
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec node --import tsx "$HERE/code-cli.ts" "$@"
