#!/usr/bin/env bash
# One chat completion through byok-proxy with curl (and jq). The proxy injects your own provider
# key; this script never sees it. When the proxy cannot be reached, or has no Cerebras key for
# this caller (provider_key_missing), it falls back to CEREBRAS_API_KEY sent straight to
# Cerebras, and says so.
#
#   BACKEND_URL=http://localhost:8080 BYOK_TOKEN=byok_... examples/curl.sh "Say hello"
set -euo pipefail

for tool in curl jq; do
  command -v "$tool" >/dev/null || { echo "error: this example needs $tool" >&2; exit 1; }
done

backend="${BACKEND_URL:-http://localhost:8080}"
backend="${backend%/}"
cerebras_url="${CEREBRAS_BASE_URL:-https://api.cerebras.ai}"
cerebras_url="${cerebras_url%/}"
model="${MODEL:-llama-3.3-70b}"
prompt="${*:-Say hello in one short sentence.}"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# POST one user message to $1/v1/chat/completions with key $2 and model $3. The key goes to curl
# through a file descriptor, never on its command line (where `ps` would show it). Sets $status
# (000 when there was no HTTP answer) and leaves headers, body and curl's stderr in $tmp.
chat() {
  jq -n --arg model "$3" --arg prompt "$prompt" \
    '{model: $model, messages: [{role: "user", content: $prompt}]}' >"$tmp/request.json"
  status="$(curl -sS --max-time 120 -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' \
    -H @<(printf 'authorization: Bearer %s\n' "$2") \
    -H 'content-type: application/json' \
    --data-binary @"$tmp/request.json" \
    "$1/v1/chat/completions" 2>"$tmp/curl.err")" || status=000
}

answer() { jq -r '.choices[0].message.content' "$tmp/body"; }
error_field() { jq -r ".error.$1 // empty" "$tmp/body" 2>/dev/null || true; }
curl_reason() { sed -e 's/^curl: ([0-9]*) //' "$tmp/curl.err" | head -n 1; }
fail() { echo "error: $*" >&2; exit 1; }

chat "$backend" "${BYOK_TOKEN:-}" "cerebras/$model"
case "$status" in
  2??)
    source="$(tr -d '\r' <"$tmp/headers" | awk -F': ' 'tolower($1) == "x-byok-key-source" { print $2 }')"
    printf 'answer: %s\nkey source: %s (byok-proxy at %s)\n' "$(answer)" "${source:-unknown}" "$backend"
    exit 0
    ;;
  000)
    echo "byok-proxy at $backend is unreachable ($(curl_reason)); falling back to CEREBRAS_API_KEY at $cerebras_url" >&2
    ;;
  *)
    case "$(error_field code)" in
      provider_key_missing)
        echo "byok-proxy has no Cerebras key for this token (provider_key_missing); falling back to CEREBRAS_API_KEY at $cerebras_url" >&2
        ;;
      unauthorized)
        fail "byok-proxy did not accept BYOK_TOKEN: $(error_field message)
Set BYOK_TOKEN to a JWT (dev mode: npm run -s token -- --sub <you>) or a byok_ access token from the settings page."
        ;;
      *)
        message="$(error_field message)"
        fail "${message:-byok-proxy answered HTTP $status}"
        ;;
    esac
    ;;
esac

[ -n "${CEREBRAS_API_KEY:-}" ] ||
  fail "CEREBRAS_API_KEY is not set, so there is no key to fall back to. Add your Cerebras key on the settings page ($backend/) or set CEREBRAS_API_KEY."
chat "$cerebras_url" "$CEREBRAS_API_KEY" "$model"
case "$status" in
  2??) ;;
  000) fail "Cerebras at $cerebras_url is unreachable too ($(curl_reason))" ;;
  401 | 403) fail "Cerebras rejected CEREBRAS_API_KEY (HTTP $status): check the key. Cerebras said: $(error_field message)" ;;
  *) fail "Cerebras answered HTTP $status: $(error_field message)" ;;
esac
printf 'answer: %s\nkey source: CEREBRAS_API_KEY (direct to %s, not through byok-proxy)\n' "$(answer)" "$cerebras_url"
