#!/usr/bin/env bash
# podman with what a sandboxed machine without Docker needs (test/deploy/image.spec.ts and the
# scripts beside this one): the runc runtime, and explicit default ulimits, because copying the
# host's limits into the container is refused there ("error setting rlimit ... operation not
# permitted"). The settings live in a containers.conf in the cache, not in /etc.
set -euo pipefail
conf_dir="${BYOK_CACHE_DIR:-$HOME/.cache/byok-proxy}/image"
conf="$conf_dir/containers.conf"
wanted='[containers]
default_ulimits = ["nofile=16384:16384", "nproc=4096:4096"]

[engine]
runtime = "runc"'
if [ "$(cat "$conf" 2>/dev/null)" != "$wanted" ]; then
  mkdir -p "$conf_dir"
  printf '%s\n' "$wanted" >"$conf"
fi
CONTAINERS_CONF="$conf" exec podman "$@"
