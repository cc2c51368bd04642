import { Transform } from 'class-transformer';
import {
  IsBase64,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  MinLength,
} from 'class-validator';

const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
const toNumber = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value;
const toBool = ({ value }: { value: unknown }): unknown =>
  value === 'true' ? true : value === 'false' ? false : value;
const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'];
const url = { require_tld: false, require_protocol: true, protocols: ['http', 'https'] };

/** Every environment variable of the contract, checked once at start-up. */
export class EnvSchema {
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(65535) PORT = 8080;
  @IsOptional() @IsString() HOST = '0.0.0.0';
  /** When set, /metrics is served on this port only (0: any free port), not on PORT. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) @Max(65535) METRICS_PORT?: number;
  @IsOptional() @IsString() DATA_DIR = './data';
  @IsOptional() @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) LOG_LEVEL =
    'info';
  @IsOptional() @IsString() NODE_ENV?: string;
  /** Share of successful (< 400) proxied requests whose access line is written; errors always are. */
  @IsOptional() @Transform(toNumber) @IsNumber() @Min(0) @Max(1) LOG_SAMPLE_SUCCESS = 1;
  /** Human-readable logs (pino-pretty); unset: when NODE_ENV is not production and stdout is a TTY. */
  @IsOptional() @Transform(toBool) @IsBoolean() LOG_PRETTY?: boolean;
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) SHUTDOWN_TIMEOUT_MS = 30000;

  @IsOptional()
  @Matches(/^postgres(ql)?:\/\//, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL?: string;
  @IsOptional() @Transform(toBool) @IsBoolean() MIGRATIONS_RUN = true;
  /** Longest a PostgreSQL statement may run; the client gives up one second later. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(100) DATABASE_STATEMENT_TIMEOUT_MS = 5000;

  @IsOptional() @IsIn(['vault', 'local']) SECRET_STORE?: 'vault' | 'local';
  @IsOptional() @IsUrl(url) VAULT_ADDR?: string;
  @IsOptional() @IsString() VAULT_NAMESPACE?: string;
  @IsOptional() @IsString() @MinLength(1) VAULT_KV_MOUNT = 'secret';
  @IsOptional() @IsString() @MinLength(1) VAULT_PREFIX = 'byok';
  @IsOptional() @IsIn(['token', 'approle', 'kubernetes']) VAULT_AUTH:
    'token' | 'approle' | 'kubernetes' = 'token';
  @IsOptional() @IsString() VAULT_TOKEN?: string;
  @IsOptional() @IsString() VAULT_ROLE_ID?: string;
  @IsOptional() @IsString() VAULT_SECRET_ID?: string;
  @IsOptional() @IsString() VAULT_APPROLE_MOUNT = 'approle';
  @IsOptional() @IsString() VAULT_K8S_ROLE?: string;
  @IsOptional() @IsString() VAULT_K8S_MOUNT = 'kubernetes';
  @IsOptional() @IsString() VAULT_K8S_TOKEN_PATH =
    '/var/run/secrets/kubernetes.io/serviceaccount/token';

  @IsOptional()
  @IsBase64(undefined, { message: 'LOCAL_MASTER_KEY must be base64 of 32 random bytes' })
  LOCAL_MASTER_KEY?: string;

  @IsOptional() @IsUrl(url) AUTH_JWKS_URI?: string;
  @IsOptional() @IsString() AUTH_ISSUER?: string;
  @IsOptional() @IsString() AUTH_AUDIENCE?: string;
  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'AUTH_JWT_SECRET must be at least 32 characters' })
  AUTH_JWT_SECRET?: string;
  @IsOptional() @IsString() AUTH_ORG_CLAIM = 'org_id';
  @IsOptional() @IsString() AUTH_ORG_ROLE_CLAIM = 'org_role';
  @IsOptional() @IsString() AUTH_ORG_ADMIN_VALUE = 'admin';
  @IsOptional() @IsString() AUTH_ADMIN_CLAIM = 'byok_admin';
  @IsOptional() @IsString() AUTH_ADMIN_VALUE = 'true';

  @IsOptional() @IsString() PROVIDERS_FILE?: string;
  @IsOptional()
  @Matches(/^[a-z0-9][a-z0-9_-]*$/, {
    message: 'DEFAULT_PROVIDER must be a lower-case provider id',
  })
  DEFAULT_PROVIDER = 'cerebras';

  @IsOptional() @IsString() PRICES_FILE?: string;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) USAGE_RETENTION_DAYS = 90;
  /** Usage and audit rows held in memory while the database is away; beyond, they spill. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) USAGE_BUFFER_MAX_ROWS = 10_000;
  /** The most the spill files under DATA_DIR may hold, per table; beyond, rows are dropped. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) USAGE_SPILL_MAX_MB = 256;

  @IsOptional()
  @Matches(/^rediss?:\/\//, { message: 'REDIS_URL must be a redis:// URL' })
  REDIS_URL?: string;

  /** Default per-user limits for users without their own (unset: no limit). */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) LIMIT_USER_RPM?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) LIMIT_USER_TPM?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) LIMIT_USER_TPD?: number;
  @IsOptional() @Transform(toNumber) @IsNumber() @Min(0) LIMIT_USER_MONTHLY_BUDGET_USD?: number;
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) KEY_CACHE_TTL_MS = 30000;
  /** How long known keys keep serving while the database or secret store cannot be reached. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(0) KEY_STALE_MAX_MS = 3_600_000;
  /** Output tokens reserved against token limits when a request names no maximum. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) LIMIT_RESERVE_OUTPUT_TOKENS = 4096;
  /** USD per 1M tokens for models without a price, where a budget applies (unset: refuse them). */
  @IsOptional() @Transform(toNumber) @IsNumber() @Min(0) PRICE_FALLBACK_USD_PER_MTOK?: number;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1) TOKEN_MAX_TTL_DAYS = 90;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) TOKEN_ORG_SEEN_DAYS = 7;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) MAX_KEYS_PER_PROVIDER = 20;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) @Max(20) PROXY_MAX_ATTEMPTS = 3;

  @IsOptional() @Transform(toInt) @IsInt() @Min(1) UPSTREAM_CONNECT_TIMEOUT_MS = 10000;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) UPSTREAM_TIMEOUT_MS = 300000;
  /** Host patterns (`vllm.internal`, `*.corp.example`) and CIDRs a key's own base URL may use. */
  @IsOptional() @IsString() CUSTOM_BASE_URL_ALLOWLIST?: string;
  @IsOptional() @Transform(toInt) @IsInt() @Min(1024) PROXY_BODY_LIMIT = 20 * 1024 * 1024;

  /** Realtime (WebSocket) sessions: closed after this long without a message either way. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1000) WS_IDLE_TIMEOUT_MS = 300_000;
  /** ... and after this long in all. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1000) WS_MAX_SESSION_MS = 3_600_000;
  /** Bytes a session may hold unsent per direction before it is closed (1013). */
  @IsOptional() @Transform(toInt) @IsInt() @Min(65536) WS_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
  /** OpenTelemetry traces (OTLP/HTTP); off while neither endpoint is set. */
  @IsOptional() @IsUrl(url) OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  @IsOptional() @IsUrl(url) OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string;
  @IsOptional() @IsString() OTEL_EXPORTER_OTLP_HEADERS?: string;
  @IsOptional() @IsString() OTEL_EXPORTER_OTLP_TRACES_HEADERS?: string;
  /** How spans are encoded: protobuf (OTLP's default) or JSON. gRPC is not offered. */
  @IsOptional() @IsIn(OTLP_PROTOCOLS) OTEL_EXPORTER_OTLP_PROTOCOL = 'http/protobuf';
  @IsOptional() @IsIn(OTLP_PROTOCOLS) OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?: string;
  @IsOptional() @Transform(toBool) @IsBoolean() OTEL_SDK_DISABLED = false;
  @IsOptional() @IsIn(['otlp', 'none']) OTEL_TRACES_EXPORTER = 'otlp';
  @IsOptional() @IsString() OTEL_SERVICE_NAME?: string;
  @IsOptional() @IsString() OTEL_RESOURCE_ATTRIBUTES?: string;
  @IsOptional()
  @IsIn([
    'always_on',
    'always_off',
    'traceidratio',
    'parentbased_always_on',
    'parentbased_always_off',
    'parentbased_traceidratio',
  ])
  OTEL_TRACES_SAMPLER = 'parentbased_always_on';
  @IsOptional() @Transform(toNumber) @IsNumber() @Min(0) @Max(1) OTEL_TRACES_SAMPLER_ARG = 1;
  /** Milliseconds between two span exports. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) OTEL_BSP_SCHEDULE_DELAY = 5000;
  /** Milliseconds one export may take, retries of an unreachable collector included. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) OTEL_EXPORTER_OTLP_TIMEOUT = 10000;
}
