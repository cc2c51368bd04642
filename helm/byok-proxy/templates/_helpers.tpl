{{/* Chart name, truncated to the 63 characters a label allows. */}}
{{- define "byok-proxy.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name: the release name, or release-chart when they differ. */}}
{{- define "byok-proxy.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "byok-proxy.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "byok-proxy.selectorLabels" -}}
app.kubernetes.io/name: {{ include "byok-proxy.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "byok-proxy.labels" -}}
helm.sh/chart: {{ include "byok-proxy.chart" . }}
{{ include "byok-proxy.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: byok-proxy
{{- end }}

{{/* The server pods (the migration Job's pods carry component=migrations instead). */}}
{{- define "byok-proxy.serverSelectorLabels" -}}
{{ include "byok-proxy.selectorLabels" . }}
app.kubernetes.io/component: server
{{- end }}

{{- define "byok-proxy.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "byok-proxy.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "byok-proxy.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/* Seconds the pod gets after deletion: preStop sleep, then the app's own drain deadline. */}}
{{- define "byok-proxy.terminationGracePeriodSeconds" -}}
{{- $drain := div (add .Values.config.shutdownTimeoutMs 999) 1000 }}
{{- $minimum := add .Values.lifecycle.preStopSleepSeconds $drain 10 }}
{{- $set := int .Values.terminationGracePeriodSeconds }}
{{- if eq $set 0 }}
{{- $minimum }}
{{- else if lt $set (int $minimum) }}
{{- fail (printf "terminationGracePeriodSeconds=%d is too short: preStopSleepSeconds (%d) + shutdownTimeoutMs (%d s) + 10 s margin needs at least %d" $set (int .Values.lifecycle.preStopSleepSeconds) (int $drain) (int $minimum)) }}
{{- else }}
{{- $set }}
{{- end }}
{{- end }}

{{/* The metrics port (METRICS_PORT); it must not be the http port. */}}
{{- define "byok-proxy.metricsPort" -}}
{{- if eq (int .Values.metrics.port) (int .Values.containerPort) }}
{{- fail (printf "metrics.port=%d must differ from containerPort: /metrics is served on a port of its own" (int .Values.metrics.port)) }}
{{- end }}
{{- int .Values.metrics.port }}
{{- end }}

{{/* Where the projected service-account token for Vault's Kubernetes auth is mounted. */}}
{{- define "byok-proxy.vaultTokenDir" -}}
/var/run/secrets/byok-proxy/vault
{{- end }}

{{- define "byok-proxy.vaultCaDir" -}}
/etc/byok-proxy/vault-ca
{{- end }}

{{- define "byok-proxy.providersDir" -}}
/etc/byok-proxy/providers
{{- end }}

{{/*
Non-secret environment as a dict: the ConfigMap's data, and the migration Job's env (the Job
runs before the ConfigMap exists at pre-install, and validates the same configuration).
*/}}
{{- define "byok-proxy.configEnv" -}}
{{- $c := .Values.config }}
{{- $env := dict
  "NODE_ENV" "production"
  "PORT" (toString .Values.containerPort)
  "METRICS_PORT" (toString (include "byok-proxy.metricsPort" .))
  "HOST" "0.0.0.0"
  "DATA_DIR" "/data"
  "LOG_LEVEL" $c.logLevel
  "SHUTDOWN_TIMEOUT_MS" (toString (int $c.shutdownTimeoutMs))
  "MIGRATIONS_RUN" (ternary "false" "true" .Values.migrations.enabled)
  "SECRET_STORE" .Values.secretStore
  "DEFAULT_PROVIDER" $c.defaultProvider
  "KEY_CACHE_TTL_MS" (toString (int $c.keyCacheTtlMs))
  "UPSTREAM_CONNECT_TIMEOUT_MS" (toString (int $c.upstreamConnectTimeoutMs))
  "UPSTREAM_TIMEOUT_MS" (toString (int $c.upstreamTimeoutMs))
  "PROXY_BODY_LIMIT" (toString (int $c.proxyBodyLimit))
  "WS_IDLE_TIMEOUT_MS" (toString (int $c.wsIdleTimeoutMs))
  "WS_MAX_SESSION_MS" (toString (int $c.wsMaxSessionMs))
  "WS_MAX_BUFFERED_BYTES" (toString (int $c.wsMaxBufferedBytes))
  "AUTH_ORG_CLAIM" .Values.auth.orgClaim
  "AUTH_ORG_ROLE_CLAIM" .Values.auth.orgRoleClaim
  "AUTH_ORG_ADMIN_VALUE" .Values.auth.orgAdminValue
  "AUTH_ADMIN_CLAIM" .Values.auth.adminClaim
  "AUTH_ADMIN_VALUE" .Values.auth.adminValue
}}
{{- with $c.redisUrl }}{{ $_ := set $env "REDIS_URL" . }}{{ end }}
{{- with .Values.auth.jwksUri }}{{ $_ := set $env "AUTH_JWKS_URI" . }}{{ end }}
{{- with .Values.auth.issuer }}{{ $_ := set $env "AUTH_ISSUER" . }}{{ end }}
{{- with .Values.auth.audience }}{{ $_ := set $env "AUTH_AUDIENCE" . }}{{ end }}
{{- if eq .Values.secretStore "vault" }}
{{- $v := .Values.vault }}
{{- $_ := set $env "VAULT_ADDR" $v.addr }}
{{- with $v.namespace }}{{ $_ := set $env "VAULT_NAMESPACE" . }}{{ end }}
{{- $_ := set $env "VAULT_KV_MOUNT" $v.kvMount }}
{{- $_ := set $env "VAULT_PREFIX" $v.prefix }}
{{- $_ := set $env "VAULT_AUTH" $v.auth }}
{{- if eq $v.auth "approle" }}
{{- $_ := set $env "VAULT_APPROLE_MOUNT" $v.approle.mount }}
{{- else if eq $v.auth "kubernetes" }}
{{- $_ := set $env "VAULT_K8S_ROLE" $v.kubernetes.role }}
{{- $_ := set $env "VAULT_K8S_MOUNT" $v.kubernetes.mount }}
{{- $_ := set $env "VAULT_K8S_TOKEN_PATH" (printf "%s/token" (include "byok-proxy.vaultTokenDir" .)) }}
{{- end }}
{{- if or $v.caCert.configMap $v.caCert.secret }}
{{- $_ := set $env "NODE_EXTRA_CA_CERTS" (printf "%s/%s" (include "byok-proxy.vaultCaDir" .) $v.caCert.key) }}
{{- end }}
{{- end }}
{{- range $k, $val := $c.extraEnv }}{{ $_ := set $env $k (toString $val) }}{{ end }}
{{- toYaml $env }}
{{- end }}

{{/* Environment read from existing Secrets; the chart never holds their values. */}}
{{- define "byok-proxy.secretEnv" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.database.existingSecret }}
      key: {{ .Values.database.key }}
{{- if not .Values.auth.jwksUri }}
- name: AUTH_JWT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ .Values.auth.jwtSecret.existingSecret }}
      key: {{ .Values.auth.jwtSecret.key }}
{{- end }}
{{- if eq .Values.secretStore "vault" }}
{{- if eq .Values.vault.auth "token" }}
- name: VAULT_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ .Values.vault.token.existingSecret }}
      key: {{ .Values.vault.token.key }}
{{- else if eq .Values.vault.auth "approle" }}
- name: VAULT_ROLE_ID
  valueFrom:
    secretKeyRef:
      name: {{ .Values.vault.approle.existingSecret }}
      key: {{ .Values.vault.approle.roleIdKey }}
- name: VAULT_SECRET_ID
  valueFrom:
    secretKeyRef:
      name: {{ .Values.vault.approle.existingSecret }}
      key: {{ .Values.vault.approle.secretIdKey }}
{{- end }}
{{- else }}
- name: LOCAL_MASTER_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.local.existingSecret }}
      key: {{ .Values.local.key }}
{{- end }}
{{- end }}

{{/* The Vault CA bundle's mount and volume, when vault.caCert names one. */}}
{{- define "byok-proxy.vaultCaMount" -}}
{{- if and (eq .Values.secretStore "vault") (or .Values.vault.caCert.configMap .Values.vault.caCert.secret) }}
- name: vault-ca
  mountPath: {{ include "byok-proxy.vaultCaDir" . }}
  readOnly: true
{{- end }}
{{- end }}

{{- define "byok-proxy.vaultCaVolume" -}}
{{- $ca := .Values.vault.caCert }}
{{- if and (eq .Values.secretStore "vault") (or $ca.configMap $ca.secret) }}
- name: vault-ca
  {{- if $ca.configMap }}
  configMap:
    name: {{ $ca.configMap }}
    items:
      - key: {{ $ca.key }}
        path: {{ $ca.key }}
  {{- else }}
  secret:
    secretName: {{ $ca.secret }}
    items:
      - key: {{ $ca.key }}
        path: {{ $ca.key }}
  {{- end }}
{{- end }}
{{- end }}

{{/*
Checks that no schema can express (they compare values, or look into free-form maps); each
fails the render with the value to change. Included once, by the Deployment.
*/}}
{{- define "byok-proxy.validate" -}}
{{- $v := .Values }}
{{- /* Autoscaling bounds: the API server would refuse the HPA after the Deployment exists. */}}
{{- if and $v.autoscaling.enabled (gt (int $v.autoscaling.minReplicas) (int $v.autoscaling.maxReplicas)) }}
{{- fail (printf "autoscaling.minReplicas=%d is larger than autoscaling.maxReplicas=%d" (int $v.autoscaling.minReplicas) (int $v.autoscaling.maxReplicas)) }}
{{- end }}
{{- /* A PDB that can never allow a disruption blocks every node drain (eviction answers 429). */}}
{{- $pdb := $v.podDisruptionBudget }}
{{- if $pdb.enabled }}
{{- $replicas := ternary (int $v.autoscaling.minReplicas) (int $v.replicaCount) $v.autoscaling.enabled }}
{{- $from := ternary (printf "autoscaling.minReplicas=%d" $replicas) (printf "replicaCount=%d" $replicas) $v.autoscaling.enabled }}
{{- if not (kindIs "invalid" $pdb.minAvailable) }}
{{- $min := 0 }}
{{- if kindIs "string" $pdb.minAvailable }}
{{- $pct := int (trimSuffix "%" $pdb.minAvailable) }}
{{- $min = div (add (mul $replicas $pct) 99) 100 }}
{{- else }}
{{- $min = int $pdb.minAvailable }}
{{- end }}
{{- if ge $min $replicas }}
{{- fail (printf "podDisruptionBudget.minAvailable=%v leaves no pod to evict with %s: every node drain would be refused; lower it or raise the replicas" $pdb.minAvailable $from) }}
{{- end }}
{{- else if or (eq (toString $pdb.maxUnavailable) "0") (eq (toString $pdb.maxUnavailable) "0%") }}
{{- fail (printf "podDisruptionBudget.maxUnavailable=%v never allows a disruption: every node drain would be refused" $pdb.maxUnavailable) }}
{{- end }}
{{- end }}
{{- /* Secrets never go into plain values (they would land in a ConfigMap). */}}
{{- range $name, $value := $v.config.extraEnv }}
{{- if regexMatch "(_KEY|(^|_)(SECRET|SECRET_ID|TOKEN|CREDENTIALS?))$|PASSWORD|PASSWD" $name }}
{{- fail (printf "config.extraEnv.%s looks like a secret and would be stored in a ConfigMap: put it in a Secret and reference it with providerKeys.existingSecret (<ID>_API_KEY) or extraEnvFrom" $name) }}
{{- end }}
{{- end }}
{{- $urls := dict "config.redisUrl" $v.config.redisUrl "vault.addr" $v.vault.addr "auth.jwksUri" $v.auth.jwksUri }}
{{- range $name, $value := $v.config.extraEnv }}{{ $_ := set $urls (printf "config.extraEnv.%s" $name) (toString $value) }}{{ end }}
{{- range $name, $value := $urls }}
{{- if regexMatch "^[A-Za-z][A-Za-z0-9+.-]*://[^/?#@\\s]*@" (toString $value) }}
{{- fail (printf "%s holds credentials in its URL and would be stored in a ConfigMap: put the URL in a Secret and load it with extraEnvFrom (e.g. REDIS_URL)" $name) }}
{{- end }}
{{- end }}
{{- /* Root, or a writable root filesystem, undoes what the image and the chart are built for. */}}
{{- range $where, $ctx := dict "podSecurityContext" $v.podSecurityContext "securityContext" $v.securityContext }}
{{- if and (hasKey $ctx "runAsUser") (eq (toString $ctx.runAsUser) "0") }}
{{- fail (printf "%s.runAsUser=0 runs the proxy as root: it needs no privilege (the image's user is 1000)" $where) }}
{{- end }}
{{- if and (hasKey $ctx "runAsNonRoot") (not $ctx.runAsNonRoot) }}
{{- fail (printf "%s.runAsNonRoot=false lets the proxy run as root: keep it true" $where) }}
{{- end }}
{{- end }}
{{- if not $v.securityContext.readOnlyRootFilesystem }}
{{- fail "securityContext.readOnlyRootFilesystem must stay true: the proxy writes only to /tmp and DATA_DIR (emptyDirs, or extraVolumes)" }}
{{- end }}
{{- if and $v.vault.caCert.configMap $v.vault.caCert.secret }}
{{- fail "vault.caCert: set configMap or secret, not both" }}
{{- end }}
{{- end }}
