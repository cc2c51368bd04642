# compose's OpenBao: a real server (not dev mode) whose data survives restarts, so the AppRole
# that openbao-init.sh creates once is still there after `docker compose restart openbao`.
# Integrated storage (raft) in the openbao-data volume; unsealed at every start by a static key
# that compose's openbao-key service generated into the openbao-keys volume. Dev only: anyone
# with both volumes holds every secret; a production Vault/OpenBao unseals through a KMS or HSM.
storage "raft" {
  path    = "/openbao/file"
  node_id = "openbao"
}

listener "tcp" {
  address     = "0.0.0.0:8200"
  tls_disable = true
}

seal "static" {
  current_key_id = "compose-1"
  current_key    = "file:///openbao/keys/unseal.key"
}

api_addr     = "http://openbao:8200"
cluster_addr = "http://openbao:8201"
ui           = false
