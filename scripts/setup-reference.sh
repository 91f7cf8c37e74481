#!/usr/bin/env bash
# Sets up the Python reference side: Debian test data (ONNX models, fashion-mnist), the .venv-ref
# venv (local wheels only), the test corpora under test/corpora/ and their reference manifest.
# Idempotent; re-runs take seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv-ref"
CORPORA="$ROOT/test/corpora"
PKGS=(onnx==1.23.1 onnxruntime==1.30.0 torch==2.13.0+cpu torchvision==0.28.0 numpy)
# Local wheels only: the default index (pypi.org) is unreachable here and pip would retry for minutes.
PIP_SOURCES=(--index-url file:///opt/pypi/simple --extra-index-url file:///opt/pypi-more/simple
             --find-links /opt/wheels)

log() { printf '[setup-reference] %s\n' "$*"; }

APT_UPDATED=0
apt_install() {  # root only; runs apt-get update at most once per run
  if [[ $(id -u) -ne 0 ]]; then
    log "missing Debian package(s) $*; run as root: apt-get update && apt-get install -y $*"
    exit 1
  fi
  log "installing $* (apt)"
  if [[ $APT_UPDATED -eq 0 ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# libonnx-testdata: ~1,070 real ONNX test models; dataset-fashion-mnist (MIT): the data
# scripts/sample/train_sample.py trains the bundled sample model on.
DEBIAN_DATA=(libonnx-testdata dataset-fashion-mnist)

ensure_debian_testdata() {
  local pkg missing=()
  for pkg in "${DEBIAN_DATA[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$pkg")
    fi
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    return
  fi
  apt_install "${missing[@]}"
}

ensure_python() {
  # The wheels on disk are cp311; venv needs ensurepip (Debian: python3-venv).
  local ver
  ver="$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  if [[ "$ver" != "3.11" ]]; then
    log "python3 is $ver but the local wheels are for CPython 3.11"
    exit 1
  fi
  if ! python3 -c 'import ensurepip' 2>/dev/null; then
    apt_install python3-venv
  fi
}

ensure_venv() {
  local stamp="$VENV/.stamp" want="${PKGS[*]}"
  if [[ -x "$VENV/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    log "venv up to date ($VENV)"
    return
  fi
  log "creating venv $VENV and installing ${PKGS[*]} from local wheels"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  # PIP_CONFIG_FILE=/dev/null: ignore pip.conf so only the sources below are used.
  PIP_CONFIG_FILE=/dev/null "$VENV/bin/python" -m pip install -q --no-input --disable-pip-version-check \
    "${PIP_SOURCES[@]}" "${PKGS[@]}" 2>&1 | { grep -v 'is ignored: it is neither a file nor a directory' || true; }
  printf '%s' "$want" > "$stamp"
}

# The corpora depend on make_corpora.py, the manifest on reference.py too: editing the reference
# recomputes the manifest (~20 s) without re-exporting the models (~1 min). The manifest stores
# absolute paths, so a moved checkout rebuilds both.
stamp_of() {
  { printf '%s\n%s\n' "${PKGS[*]}" "$ROOT"; cat "$@"; } | sha256sum | cut -d' ' -f1
}

ensure_corpora() {
  local stamp="$CORPORA/.stamp" want
  want="$(stamp_of "$ROOT/scripts/corpora/make_corpora.py")"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    log "corpora up to date ($CORPORA)"
  else
    rm -f "$stamp" "$CORPORA/.manifest-stamp"
    log "building corpora"
    "$VENV/bin/python" "$ROOT/scripts/corpora/make_corpora.py" "$CORPORA"
    printf '%s' "$want" > "$stamp"
  fi
  stamp="$CORPORA/.manifest-stamp"
  want="$(stamp_of "$ROOT/scripts/corpora/make_corpora.py" "$ROOT/scripts/corpora/reference.py")"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -f "$CORPORA/manifest.json" ]]; then
    log "reference manifest up to date"
    return
  fi
  log "computing reference manifest"
  "$VENV/bin/python" "$ROOT/scripts/corpora/reference.py" "$CORPORA"
  printf '%s' "$want" > "$stamp"
}

main() {
  local t0=$SECONDS
  ensure_debian_testdata
  ensure_python
  ensure_venv
  ensure_corpora
  log "done in $((SECONDS - t0)) s"
}

main "$@"
