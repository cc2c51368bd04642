#!/bin/sh
# Configures a Vault/OpenBao server for byok-proxy the way an operator would for the chart:
# a KV v2 mount, a least-privilege policy and an AppRole with a known role_id and secret_id.
# compose.yaml runs it at every `docker compose up` against its persistent OpenBao; it is
# idempotent. test/deploy/openbao-init.spec.ts runs it against the test OpenBao, and against a
# fresh server with docker/openbao.hcl's storage and seal, across a restart.
#
# Environment: BAO_ADDR; BAO_TOKEN (a token allowed to manage auth methods and policies) or
# BAO_TOKEN_FILE (a server that is not initialized yet is initialized, and its root token kept
# in that file: a dev stack only); BYOK_ROLE_ID, BYOK_SECRET_ID, and optionally KV_MOUNT
# (secret), PREFIX (byok), APPROLE_MOUNT (approle), ROLE_NAME (byok-proxy), BAO (the CLI,
# default `bao`).
set -eu

: "${BAO_ADDR:?}" "${BYOK_ROLE_ID:?}" "${BYOK_SECRET_ID:?}"
export BAO_ADDR
BAO="${BAO:-bao}"
KV_MOUNT="${KV_MOUNT:-secret}"
PREFIX="${PREFIX:-byok}"
APPROLE_MOUNT="${APPROLE_MOUNT:-approle}"
ROLE_NAME="${ROLE_NAME:-byok-proxy}"

# `bao status` exits 0 when unsealed, 2 when sealed or not initialized, 1 when unreachable.
status() { "$BAO" status -format=json 2>/dev/null && return 0 || return $?; }
tries=0
while :; do
  rc=0
  out="$(status)" || rc=$?
  [ "$rc" -eq 1 ] || break
  tries=$((tries + 1))
  [ "$tries" -lt 60 ] || { echo "openbao-init: $BAO_ADDR did not answer" >&2; exit 1; }
  sleep 1
done

if [ -z "${BAO_TOKEN:-}" ]; then
  : "${BAO_TOKEN_FILE:?set BAO_TOKEN or BAO_TOKEN_FILE}"
  if printf '%s' "$out" | grep -q '"initialized": *false'; then
    # Auto-unsealed (a static or KMS seal): init returns recovery keys and the root token.
    "$BAO" operator init -format=json |
      sed -n 's/^ *"root_token": *"\([^"]*\)".*/\1/p' >"$BAO_TOKEN_FILE.new"
    chmod 600 "$BAO_TOKEN_FILE.new"
    mv "$BAO_TOKEN_FILE.new" "$BAO_TOKEN_FILE"
    echo "openbao-init: initialized $BAO_ADDR; root token in $BAO_TOKEN_FILE"
  fi
  BAO_TOKEN="$(cat "$BAO_TOKEN_FILE")"
fi
export BAO_TOKEN
# Unsealing takes a moment after init or a restart.
tries=0
until status >/dev/null; do
  tries=$((tries + 1))
  [ "$tries" -lt 60 ] || { echo "openbao-init: $BAO_ADDR stayed sealed" >&2; exit 1; }
  sleep 1
done

# A dev server mounts KV v2 at secret/ already; a real one may not.
if ! "$BAO" secrets list -format=json | grep -q "\"$KV_MOUNT/\""; then
  "$BAO" secrets enable -path="$KV_MOUNT" -version=2 kv
fi
if ! "$BAO" auth list -format=json | grep -q "\"$APPROLE_MOUNT/\""; then
  "$BAO" auth enable -path="$APPROLE_MOUNT" approle
fi

"$BAO" policy write "$ROLE_NAME" - <<POLICY
path "$KV_MOUNT/data/$PREFIX/*"     { capabilities = ["create", "update", "read"] }
path "$KV_MOUNT/metadata/$PREFIX/*" { capabilities = ["read", "delete"] }
path "$KV_MOUNT/destroy/$PREFIX/*"  { capabilities = ["update"] }
POLICY

"$BAO" write "auth/$APPROLE_MOUNT/role/$ROLE_NAME" \
  token_policies="$ROLE_NAME" token_ttl=1h token_max_ttl=4h secret_id_ttl=0 >/dev/null
"$BAO" write "auth/$APPROLE_MOUNT/role/$ROLE_NAME/role-id" role_id="$BYOK_ROLE_ID" >/dev/null
# A lookup of an unknown secret_id succeeds with no data, hence the grep.
if ! "$BAO" write -format=json "auth/$APPROLE_MOUNT/role/$ROLE_NAME/secret-id/lookup" \
  secret_id="$BYOK_SECRET_ID" 2>/dev/null | grep -q secret_id_accessor; then
  "$BAO" write "auth/$APPROLE_MOUNT/role/$ROLE_NAME/custom-secret-id" \
    secret_id="$BYOK_SECRET_ID" >/dev/null
fi
echo "openbao-init: AppRole $APPROLE_MOUNT/role/$ROLE_NAME ready (policy $ROLE_NAME on $KV_MOUNT/$PREFIX)"
