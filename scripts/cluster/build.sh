#!/usr/bin/env bash
# Builds the local Kubernetes control plane that test/deploy/cluster.spec.ts runs the chart on:
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl and kwok (simulated
# nodes and pods), all from the Go module proxy, and copies kwok's stage files (which make
# simulated pods Ready, complete Jobs, ...) from its module. Everything is cached outside the
# repository, keyed by the versions; a second run is a no-op. About 25 minutes on a loaded
# 2-core machine, once.
#
# Prints the cache's folder on stdout (bin/ and stages/ in it; progress goes to stderr).
set -euo pipefail

ETCD_VERSION=v3.6.16
KUBE_VERSION=v1.37.2
KWOK_VERSION=v0.8.0
# Kubernetes' staging modules (k8s.io/api, k8s.io/apiserver, ...) are published as v0.<minor>.<patch>.
STAGING_VERSION="v0.${KUBE_VERSION#v1.}"

cache_root="${BYOK_CACHE_DIR:-$HOME/.cache/byok-proxy}"
dir="$cache_root/cluster/etcd-$ETCD_VERSION-kube-$KUBE_VERSION-kwok-$KWOK_VERSION"
bin="$dir/bin"
kube_binaries=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
binaries=(etcd kwok "${kube_binaries[@]}")

say() { echo "cluster-build: $*" >&2; }

missing() {
  local name
  for name in "$@"; do [ -x "$bin/$name" ] || return 0; done
  return 1
}

if ! missing "${binaries[@]}" && [ -f "$dir/stages/done" ]; then
  say "control plane present ($dir)"
  echo "$dir"
  exit 0
fi
if [ -n "${BYOK_CLUSTER_NO_BUILD:-}" ]; then
  say "not built ($dir): run scripts/cluster/build.sh"
  exit 1
fi
command -v go >/dev/null || { say 'Go is missing: install Go >= 1.26 and run this again'; exit 1; }

mkdir -p "$bin"
work="$(mktemp -d -t byok-cluster-build-XXXXXX)"
trap 'rm -rf "$work"' EXIT
export CGO_ENABLED=0 GOFLAGS="-buildvcs=false -mod=mod"
started=$SECONDS

# etcd: `go install go.etcd.io/etcd/server/v3@...` refuses its replace directives, so a two-line
# wrapper module calls the same entry point the etcd binary does.
build_etcd() {
  mkdir -p "$work/etcd"
  cat >"$work/etcd/go.mod" <<MOD
module byok-proxy.local/etcd

go 1.25

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
MOD
  cat >"$work/etcd/main.go" <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  (cd "$work/etcd" && go mod tidy && go build -trimpath -o "$work/out/etcd" .)
}

# kwok installs as it is; its stage files come from the same module (see test/deploy/cluster).
build_kwok() {
  GOBIN="$work/out" GOFLAGS=-buildvcs=false go install -trimpath "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
}

# kube-apiserver, -controller-manager and -scheduler: k8s.io/kubernetes requires its staging
# modules at v0.0.0 and replaces them with ./staging/..., which a dependent module ignores; the
# wrapper replaces each one with its published release instead.
build_kube() {
  mkdir -p "$work/kube"
  local gomod
  gomod="$(cd "$work/kube" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" |
    sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
  {
    echo 'module byok-proxy.local/kube'
    echo
    echo "go $(sed -n 's/^go \([0-9.]*\)$/\1/p' "$gomod")"
    echo
    echo "require k8s.io/kubernetes $KUBE_VERSION"
    echo
    sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#replace \1 => \1 '"$STAGING_VERSION"'#p' "$gomod"
  } >"$work/kube/go.mod"
  local pkg=k8s.io/component-base/version
  local ldflags="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$(echo "$KUBE_VERSION" | cut -d. -f2)"
    ldflags+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  local name pkgs=()
  for name in "${kube_binaries[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$name"); done
  (cd "$work/kube" &&
    go get "k8s.io/kubernetes/cmd/kube-apiserver@$KUBE_VERSION" >&2 &&
    go build -trimpath -ldflags "$ldflags" -o "$work/out/" "${pkgs[@]}")
}

# kwok's stage files, as its module ships them (kustomize/stage/...).
copy_stages() {
  local module
  module="$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  rm -rf "$dir/stages" && mkdir -p "$dir/stages"
  cp "$module"/kustomize/stage/node/fast/node-initialize.yaml "$module"/kustomize/stage/pod/fast/pod-*.yaml "$dir/stages/"
  chmod u+w "$dir"/stages/*.yaml
  touch "$dir/stages/done"
}

mkdir -p "$work/out"
say "building etcd $ETCD_VERSION, Kubernetes $KUBE_VERSION and kwok $KWOK_VERSION (about 25 minutes, once)"
# The small builds run beside the big one, and only what is missing; each failure is reported by name.
status=0
pids=()
if missing etcd; then
  build_etcd >"$work/etcd.log" 2>&1 &
  pids+=("$!:etcd")
fi
if missing kwok; then
  build_kwok >"$work/kwok.log" 2>&1 &
  pids+=("$!:kwok")
fi
if missing "${kube_binaries[@]}"; then
  build_kube >&2 || { say 'Kubernetes build FAILED'; status=1; }
fi
for entry in "${pids[@]}"; do
  wait "${entry%%:*}" || { cat "$work/${entry#*:}.log" >&2; say "${entry#*:} build FAILED"; status=1; }
done
[ "$status" -eq 0 ] || exit 1
copy_stages
for name in "${binaries[@]}"; do
  if [ -f "$work/out/$name" ]; then mv "$work/out/$name" "$bin/$name"; fi
done
missing "${binaries[@]}" && { say "missing after the build: ${binaries[*]}"; exit 1; }
say "built in $((SECONDS - started)) s: $dir"
echo "$dir"
