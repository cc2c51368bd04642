#!/usr/bin/env bash
# Fuzzes the /api contract with schemathesis (README, "Tests"): starts the built service
# (`dist/`, so run `npm run build` first) on embedded defaults on a free loopback port with a fresh
# DATA_DIR, every provider pointed at a local double that accepts any key, and runs every /api
# operation of the served OpenAPI document with all checks, once as a plain user and once as an
# administrator who is also an organisation admin. Fixed seed, bounded examples; zero failures is
# the bar. Stops everything it started, whatever happens.
#
#   FUZZ_MAX_EXAMPLES (default 60)  test cases per operation and phase
#   FUZZ_SEED (default 20260101)    schemathesis' random seed
# Arguments are passed on to `schemathesis run` (e.g. `--output-sanitize false` to see bodies).
set -euo pipefail
cd "$(dirname "$0")/.."

max_examples="${FUZZ_MAX_EXAMPLES:-60}"
config="$PWD/scripts/schemathesis.toml"
extra_args=("$@")
seed="${FUZZ_SEED:-20260101}"

say() { echo "fuzz-api: $*"; }

if [ ! -f dist/main.js ]; then
  say 'dist/main.js is missing: run `npm run build` first' >&2
  exit 1
fi
# The python3 that scripts/install-test-deps.sh installed it for, whatever PATH holds.
if ! python3 -m schemathesis.cli --version >/dev/null 2>&1; then
  say 'schemathesis is missing: run scripts/install-test-deps.sh' >&2
  exit 1
fi

work="$(mktemp -d -t byok-fuzz-XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  node -e 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => {
    console.log(s.address().port); s.close(); });'
}

wait_for() {
  local url="$1" log="$2"
  for _ in $(seq 1 300); do
    if curl -fsS -o /dev/null "$url" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  say "$url did not answer within 30 s; its log:" >&2
  cat "$log" >&2
  return 1
}

# The upstream double: 200 to every request (a provider's verify request says "valid"), so the
# fuzzer never reaches a real provider and verify never depends on the network.
upstream_port="$(free_port)"
node -e 'require("node:http").createServer((req, res) => {
  req.resume();
  res.writeHead(200, { "content-type": "application/json" }).end("{\"object\":\"list\",\"data\":[]}");
}).listen(Number(process.argv[1]), "127.0.0.1");' "$upstream_port" >"$work/upstream.log" 2>&1 &
pids+=($!)

port="$(free_port)"
export DATA_DIR="$work/data"
export AUTH_JWT_SECRET="fuzz-$(node -e 'console.log(require("node:crypto").randomBytes(24).toString("hex"))')"
unset AUTH_JWKS_URI AUTH_ISSUER AUTH_AUDIENCE DATABASE_URL VAULT_ADDR REDIS_URL PROVIDERS_FILE
provider_env=()
for id in $(sed -n 's/^- id: *\([a-z0-9_-]*\).*/\1/p' src/providers/builtin-providers.yaml); do
  provider_env+=("$(echo "$id" | tr 'a-z-' 'A-Z_')_BASE_URL=http://127.0.0.1:$upstream_port")
done
env "${provider_env[@]}" PORT="$port" HOST=127.0.0.1 LOG_LEVEL=warn node dist/main.js \
  >"$work/app.log" 2>&1 &
pids+=($!)
base="http://127.0.0.1:$port"
wait_for "http://127.0.0.1:$upstream_port/" "$work/upstream.log"
wait_for "$base/healthz" "$work/app.log"

user_token="$(node dist/bin/mint-token.js --sub fuzz-user --expires-in 1h)"
admin_token="$(node dist/bin/mint-token.js --sub fuzz-admin --admin --org fuzz-org \
  --org-role admin --expires-in 1h)"

status=0
run() {
  local who="$1" token="$2"
  say "schemathesis as $who ($max_examples examples per operation, seed $seed)"
  # From the temporary folder: schemathesis keeps its crash cache in ./.schemathesis. One worker:
  # several threads trip a CPython 3.11 bug in the AST parser hypothesis uses ("AST constructor
  # recursion depth mismatch"), and the machine's cores are the service's too.
  (cd "$work" && python3 -m schemathesis.cli --no-color --config-file "$config" run "$base/docs/json" \
    --url "$base" \
    --include-path-regex '^/api/' \
    --seed "$seed" \
    --max-examples "$max_examples" \
    --workers 1 \
    --generation-database none \
    --header "Authorization: Bearer $token" "${extra_args[@]}") | banners_as_text || status=1
}

# Schemathesis closes with pytest's banner ("==== 2 warnings in 20s ===="). Anything reading this
# log for test-runner summaries would take that for a pytest run with no test, so the banners
# become plain lines; the only summary line of the test command stays its own last one.
banners_as_text() {
  sed -E 's/^=+ (.*[^=]) =+$/-- \1 --/'
}

start=$SECONDS
run 'a plain user' "$user_token"
run 'an administrator and organisation admin' "$admin_token"
say "both runs took $((SECONDS - start)) s"
if grep -q '"level":50' "$work/app.log"; then
  say 'the service logged errors during the run:' >&2
  grep '"level":50' "$work/app.log" | head -20 >&2
  status=1
fi
exit "$status"
