#!/usr/bin/env bash
# What the image's runtime stage does, without Docker: `npm ci --omit=dev --ignore-scripts` into a
# temporary directory holding package*.json, dist/ and src/**/*.yaml (as the image), then the
# image's command (`node dist/main.js`, NODE_ENV=production) must reach /readyz 200 and exit 0
# on SIGTERM. Uses the embedded database and the local store (no servers needed), so it proves
# the production dependencies suffice, PGlite included. Needs `npm run build` first.
# scripts/check-deploy.sh runs it when BYOK_CHECK_PROD_INSTALL=1.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -f dist/main.js ] || { echo 'check-prod-install: dist/main.js missing: npm run build' >&2; exit 1; }

dir="$(mktemp -d -t prod-install-XXXXXX)"
pid=''
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
  rm -rf "$dir"
}
trap cleanup EXIT

started=$SECONDS
cp package.json package-lock.json "$dir/"
cp -r dist "$dir/dist"
# As docker/Dockerfile does: the YAML data files the code reads from src/.
find src -name '*.yaml' -exec cp --parents {} "$dir/" \;
if ! (cd "$dir" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error) \
  >"$dir/npm.log" 2>&1; then
  # npm follows a refusal with its whole usage text: keep the reason.
  echo 'check-prod-install: npm ci --omit=dev failed:' >&2
  sed -e '/^npm error Clean install/,$d' -e '/^npm error$/d' "$dir/npm.log" |
    grep -v EBADENGINE | head -20 >&2
  exit 1
fi
echo "check-prod-install: production install in $((SECONDS - started)) s ($(du -sh "$dir/node_modules" | cut -f1))"

port="$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
log="$dir/server.log"
(
  cd "$dir"
  exec env -i PATH="$PATH" HOME="$dir" NODE_ENV=production HOST=127.0.0.1 PORT="$port" \
    DATA_DIR="$dir/data" SHUTDOWN_TIMEOUT_MS=10000 \
    LOCAL_MASTER_KEY="$(node -e "console.log(require('crypto').randomBytes(32).toString('base64'))")" \
    AUTH_JWT_SECRET="$(node -e "console.log(require('crypto').randomBytes(32).toString('hex'))")" \
    node dist/main.js
) >"$log" 2>&1 &
pid=$!

ready=''
for _ in $(seq 1 120); do
  if ! kill -0 "$pid" 2>/dev/null; then break; fi
  if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")" = 200 ]; then
    ready=1
    break
  fi
  sleep 0.5
done
if [ -z "$ready" ]; then
  echo "check-prod-install: /readyz never answered 200; server log:" >&2
  tail -30 "$log" >&2
  exit 1
fi
echo "check-prod-install: /readyz 200 from $dir (production dependencies only)"

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=''
if [ "$status" -ne 0 ]; then
  echo "check-prod-install: exited $status after SIGTERM; server log:" >&2
  tail -30 "$log" >&2
  exit 1
fi
echo "check-prod-install: exited 0 on SIGTERM; $((SECONDS - started)) s in all"
