import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { resolve } from 'node:path';
import { EnvSchema } from './env.schema';
import type { Limits } from '../limits/limits';
import { type TracingConfig, tracingConfig } from '../tracing/tracing-config';

export const APP_CONFIG = Symbol('APP_CONFIG');

export type VaultAuth = 'token' | 'approle' | 'kubernetes';

/** The typed, validated configuration. Built once from the environment; nothing else reads process.env. */
export interface AppConfig {
  port: number;
  host: string;
  /** /metrics on its own listener (on `host`) instead of `port`; undefined keeps it on `port`. */
  metricsPort?: number;
  dataDir: string;
  logLevel: string;
  /** LOG_SAMPLE_SUCCESS: share of successful proxied requests that get an access line. */
  logSampleSuccess: number;
  /** LOG_PRETTY, or (unset) whether stdout is a TTY outside production. */
  logPretty?: boolean;
  production: boolean;
  /** OpenTelemetry traces; undefined when off (no OTLP endpoint set). */
  tracing?: TracingConfig;
  shutdownTimeoutMs: number;
  database: { url?: string; migrationsRun: boolean; statementTimeoutMs: number };
  secretStore: 'vault' | 'local';
  vault: {
    addr: string;
    namespace?: string;
    kvMount: string;
    prefix: string;
    auth: VaultAuth;
    token?: string;
    roleId?: string;
    secretId?: string;
    approleMount: string;
    k8sRole?: string;
    k8sMount: string;
    k8sTokenPath: string;
  };
  localMasterKey?: string;
  auth: {
    jwksUri?: string;
    issuer?: string;
    audience?: string;
    jwtSecret?: string;
    orgClaim: string;
    orgRoleClaim: string;
    orgAdminValue: string;
    adminClaim: string;
    adminValue: string;
  };
  providersFile?: string;
  defaultProvider: string;
  /** `<ID>_BASE_URL`, `<ID>_API_KEY`, `<ID>_ENV_FALLBACK`, `<ID>_TOKEN_URL`, `<ID>_PROPAGATE_TRACE` for any provider id; the registry reads them. */
  providerEnv: Record<string, string>;
  /** YAML that adds or overrides entries of src/usage/prices.yaml. */
  pricesFile?: string;
  /** Raw usage rows older than this many days are compacted into daily rollups. */
  usageRetentionDays: number;
  /** Usage and audit rows: how many wait in memory, and how much may spill under DATA_DIR. */
  rowBuffer: { maxRows: number; spillMaxBytes: number };
  redisUrl?: string;
  /** Defaults for users without limits of their own (LIMIT_USER_*); null means no limit. */
  userLimits: Limits;
  keyCacheTtlMs: number;
  /** How long the last key set loaded keeps serving while reloads fail (KEY_STALE_MAX_MS). */
  keyStaleMaxMs: number;
  /** Output tokens a request without a maximum reserves against token limits. */
  reserveOutputTokens: number;
  /** USD per 1M tokens for unpriced models under a budget; undefined: such requests are refused. */
  priceFallbackUsdPerMTok?: number;
  tokens: {
    /** No access token lives longer than this many days (TOKEN_MAX_TTL_DAYS). */
    maxTtlDays: number;
    /** How long after its owner's JWTs last carried the organisation a token still reaches its keys. */
    orgSeenDays: number;
  };
  /** Keys one owner may store per provider. */
  maxKeysPerProvider: number;
  upstream: {
    connectTimeoutMs: number;
    timeoutMs: number;
    bodyLimit: number;
    /** Upstream attempts (keys tried) per proxied request. */
    maxAttempts: number;
    /** CUSTOM_BASE_URL_ALLOWLIST: host patterns and CIDRs a key's own base URL may use. */
    customBaseUrlAllowlist: string[];
  };
  /** Realtime WebSocket sessions (WS_*). */
  realtime: { idleTimeoutMs: number; maxSessionMs: number; maxBufferedBytes: number };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const PROVIDER_ENV = /^[A-Z0-9_]+_(BASE_URL|API_KEY|ENV_FALLBACK|TOKEN_URL|PROPAGATE_TRACE)$/;

/** Validates the environment; throws a ConfigError naming each bad variable. */
export function loadConfig(env: Record<string, string | undefined>): AppConfig {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ''),
  );
  const e = plainToInstance(EnvSchema, present);
  const problems = validateSync(e).flatMap((err) =>
    Object.values(err.constraints ?? {}).map((m) =>
      m.startsWith(err.property) ? m : `${err.property}: ${m}`,
    ),
  );
  const production = e.NODE_ENV === 'production';
  const secretStore = e.SECRET_STORE ?? (e.VAULT_ADDR ? 'vault' : 'local');

  if (secretStore === 'vault') {
    if (!e.VAULT_ADDR) problems.push('VAULT_ADDR is required when SECRET_STORE=vault');
    if (e.VAULT_AUTH === 'token' && !e.VAULT_TOKEN)
      problems.push('VAULT_TOKEN is required when VAULT_AUTH=token');
    if (e.VAULT_AUTH === 'approle' && (!e.VAULT_ROLE_ID || !e.VAULT_SECRET_ID))
      problems.push('VAULT_ROLE_ID and VAULT_SECRET_ID are required when VAULT_AUTH=approle');
    if (e.VAULT_AUTH === 'kubernetes' && !e.VAULT_K8S_ROLE)
      problems.push('VAULT_K8S_ROLE is required when VAULT_AUTH=kubernetes');
  }
  if (e.METRICS_PORT && e.METRICS_PORT === e.PORT)
    problems.push('METRICS_PORT must differ from PORT (unset it to serve /metrics on PORT)');
  if (e.LOCAL_MASTER_KEY && Buffer.from(e.LOCAL_MASTER_KEY, 'base64').length !== 32)
    problems.push('LOCAL_MASTER_KEY must be base64 of exactly 32 bytes (openssl rand -base64 32)');
  if (production && secretStore === 'local' && !e.LOCAL_MASTER_KEY)
    problems.push(
      'LOCAL_MASTER_KEY is required when NODE_ENV=production and SECRET_STORE=local (a generated master key is refused)',
    );
  if (e.AUTH_JWKS_URI) {
    // The IdP signs tokens for every application it serves with the same keys: only the
    // issuer and audience say a token was minted for this proxy.
    const missing = (['AUTH_ISSUER', 'AUTH_AUDIENCE'] as const).filter((k) => !e[k]);
    if (missing.length)
      problems.push(
        `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} required when AUTH_JWKS_URI is set: without them any token your identity provider signed for any other application would be accepted`,
      );
  }
  if (production && !e.AUTH_JWKS_URI && !e.AUTH_JWT_SECRET)
    problems.push(
      'AUTH_JWKS_URI (or an explicit AUTH_JWT_SECRET) is required when NODE_ENV=production (a generated dev secret is refused)',
    );
  const tracing = tracingConfig(e, problems);
  if (problems.length)
    throw new ConfigError(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);

  const providerEnv = Object.fromEntries(
    Object.entries(present).filter(([k]) => PROVIDER_ENV.test(k)),
  ) as Record<string, string>;

  return {
    port: e.PORT,
    host: e.HOST,
    metricsPort: e.METRICS_PORT,
    dataDir: resolve(e.DATA_DIR),
    logLevel: e.LOG_LEVEL,
    logSampleSuccess: e.LOG_SAMPLE_SUCCESS,
    logPretty: e.LOG_PRETTY,
    production,
    tracing,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    database: {
      url: e.DATABASE_URL,
      migrationsRun: e.MIGRATIONS_RUN,
      statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
    },
    secretStore,
    vault: {
      addr: e.VAULT_ADDR ?? '',
      namespace: e.VAULT_NAMESPACE,
      kvMount: e.VAULT_KV_MOUNT,
      prefix: e.VAULT_PREFIX,
      auth: e.VAULT_AUTH,
      token: e.VAULT_TOKEN,
      roleId: e.VAULT_ROLE_ID,
      secretId: e.VAULT_SECRET_ID,
      approleMount: e.VAULT_APPROLE_MOUNT,
      k8sRole: e.VAULT_K8S_ROLE,
      k8sMount: e.VAULT_K8S_MOUNT,
      k8sTokenPath: e.VAULT_K8S_TOKEN_PATH,
    },
    localMasterKey: e.LOCAL_MASTER_KEY,
    auth: {
      jwksUri: e.AUTH_JWKS_URI,
      issuer: e.AUTH_ISSUER,
      audience: e.AUTH_AUDIENCE,
      jwtSecret: e.AUTH_JWT_SECRET,
      orgClaim: e.AUTH_ORG_CLAIM,
      orgRoleClaim: e.AUTH_ORG_ROLE_CLAIM,
      orgAdminValue: e.AUTH_ORG_ADMIN_VALUE,
      adminClaim: e.AUTH_ADMIN_CLAIM,
      adminValue: e.AUTH_ADMIN_VALUE,
    },
    providersFile: e.PROVIDERS_FILE,
    defaultProvider: e.DEFAULT_PROVIDER,
    providerEnv,
    pricesFile: e.PRICES_FILE,
    usageRetentionDays: e.USAGE_RETENTION_DAYS,
    rowBuffer: {
      maxRows: e.USAGE_BUFFER_MAX_ROWS,
      spillMaxBytes: e.USAGE_SPILL_MAX_MB * 1024 * 1024,
    },
    redisUrl: e.REDIS_URL,
    userLimits: {
      requestsPerMinute: e.LIMIT_USER_RPM ?? null,
      tokensPerMinute: e.LIMIT_USER_TPM ?? null,
      tokensPerDay: e.LIMIT_USER_TPD ?? null,
      monthlyBudgetUsd: e.LIMIT_USER_MONTHLY_BUDGET_USD ?? null,
    },
    keyCacheTtlMs: e.KEY_CACHE_TTL_MS,
    keyStaleMaxMs: e.KEY_STALE_MAX_MS,
    reserveOutputTokens: e.LIMIT_RESERVE_OUTPUT_TOKENS,
    priceFallbackUsdPerMTok: e.PRICE_FALLBACK_USD_PER_MTOK,
    tokens: { maxTtlDays: e.TOKEN_MAX_TTL_DAYS, orgSeenDays: e.TOKEN_ORG_SEEN_DAYS },
    maxKeysPerProvider: e.MAX_KEYS_PER_PROVIDER,
    upstream: {
      connectTimeoutMs: e.UPSTREAM_CONNECT_TIMEOUT_MS,
      timeoutMs: e.UPSTREAM_TIMEOUT_MS,
      bodyLimit: e.PROXY_BODY_LIMIT,
      maxAttempts: e.PROXY_MAX_ATTEMPTS,
      customBaseUrlAllowlist: (e.CUSTOM_BASE_URL_ALLOWLIST ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    },
    realtime: {
      idleTimeoutMs: e.WS_IDLE_TIMEOUT_MS,
      maxSessionMs: e.WS_MAX_SESSION_MS,
      maxBufferedBytes: e.WS_MAX_BUFFERED_BYTES,
    },
  };
}
