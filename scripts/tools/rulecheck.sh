#!/usr/bin/env bash
# Prints the path of rulecheck (scripts/tools/rulecheck: Prometheus' own rule-file validation,
# what `promtool check rules` runs), building it once from the Go module proxy into a cache
# outside the repository, keyed by its go.sum.
#   BYOK_CACHE_DIR (default ~/.cache/byok-proxy)   where built tools are kept
set -euo pipefail
src="$(cd "$(dirname "$0")/rulecheck" && pwd)"
key="$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum | cut -c1-12)"
bin="${BYOK_CACHE_DIR:-$HOME/.cache/byok-proxy}/tools/rulecheck-$key/rulecheck"
if [ ! -x "$bin" ]; then
  command -v go >/dev/null || { echo 'rulecheck: Go is needed to build it' >&2; exit 1; }
  echo "rulecheck: building (once; cached as $bin)" >&2
  (cd "$src" && go build -o "$bin" .) >&2
fi
echo "$bin"
