import { readFileSync } from 'node:fs';
import { type AppConfig, ConfigError } from '../config/app-config';
import { builtinDataPath, readOverrideFile } from '../config/data-file';
import { parseConfigYaml } from '../config/yaml';
import { SecretValue } from '../common/secret-value';
import { KIND_PARAMS, paramNamesOf } from './key-params';
import type { ProviderAuth, ProviderRecord } from './provider.schema';
import { readHeaders } from './headers-field';
import { readRealtime } from './realtime-field';
import { placeholdersOf, standInOf } from './url-template';

const ID = /^[a-z0-9][a-z0-9_-]*$/;
// loadConfig only collects `*_API_KEY` variables for the registry, so any other name would never be seen.
const ENV_KEY = /^[A-Z][A-Z0-9_]*_API_KEY$/;
const PATH_PREFIX = /^(\/[A-Za-z0-9._~!$&'()*+,;=:@-]+)*\/?$/;
const VERIFY_PATH = /^\/(?!\/)[^\s\0\\#]*$/;
const DOT_SEGMENT = /\/\.\.?(\/|\?|$)/;
const FIELDS = new Set(
  'id name baseUrl openaiPrefix auth headers envKey envFallback verify signingService tokenUrl keyBaseUrl encodedSlashes realtime'.split(
    ' ',
  ),
);
const AUTH_STYLES = Object.keys(KIND_PARAMS) as ProviderAuth[];
const SIGNING_SERVICE = /^[a-z0-9-]{1,64}$/;
// The proxy sets these itself; a fixed value would clash with the injected key or the framing.
const RESERVED_HEADERS = new Set(
  'host content-length transfer-encoding connection authorization x-api-key api-key cookie x-amz-date x-amz-security-token x-amz-content-sha256'.split(
    ' ',
  ),
);

type Raw = Record<string, unknown>;
const isObject = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `dir` lets tests resolve the path as it would be from dist/providers. */
export function builtinProvidersPath(dir = __dirname): string {
  return builtinDataPath(dir, 'providers', 'builtin-providers.yaml');
}

/** Env variable prefix of a provider: `my-llm` → `MY_LLM` (`MY_LLM_BASE_URL`, `MY_LLM_API_KEY`). */
export function envPrefix(id: string): string {
  return id.toUpperCase().replace(/-/g, '_');
}

/** An absolute http(s) API root without credentials, query or fragment, and no trailing slash. */
export function normalizeBaseUrl(value: unknown): string {
  const text = typeof value === 'string' ? value.trim() : '';
  const url = URL.canParse(text) ? new URL(text) : undefined;
  if (!url) throw new Error(`must be an absolute http(s) URL, got ${JSON.stringify(value)}`);
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`must use http or https, got "${url.protocol}"`);
  if (url.username || url.password) throw new Error('must not contain credentials (user:pass@)');
  if (text.includes('?') || text.includes('#'))
    throw new Error('must not contain a query or fragment');
  if (/%2e|%2f|%5c|\\/i.test(text) || DOT_SEGMENT.test(text))
    throw new Error('must not contain dot segments or encoded slashes');
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

function normalizePrefix(value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/')) throw new Error('must start with "/"');
  if (!PATH_PREFIX.test(value) || DOT_SEGMENT.test(value))
    throw new Error('must be a plain path (no query, "..", "//" or special characters)');
  return value.replace(/\/+$/, '');
}

/** A PROVIDERS_FILE holds a YAML list of records or a map keyed by id. */
export function parseProviderYaml(text: string, source: string): Raw[] {
  const doc = parseConfigYaml(text, source);
  if (doc === null || doc === undefined) return [];
  if (Array.isArray(doc)) {
    const bad = doc.findIndex((r) => !isObject(r));
    if (bad >= 0) throw new ConfigError(`${source}: entry ${bad} must be a mapping`);
    return doc as Raw[];
  }
  if (!isObject(doc))
    throw new ConfigError(`${source}: must be a list of providers or a map by id`);
  return Object.entries(doc).map(([id, r]) => {
    if (!isObject(r)) throw new ConfigError(`${source}: provider "${id}" must be a mapping`);
    if (r.id !== undefined && r.id !== id)
      throw new ConfigError(
        `${source}: provider "${id}" has a different id ${JSON.stringify(r.id)}`,
      );
    return { ...r, id };
  });
}

/** Fills defaults and validates one (merged) record; each problem names the provider and field. */
function toRecord(raw: Raw, problems: string[], source: string): ProviderRecord | undefined {
  const id = raw.id;
  if (typeof id !== 'string' || !ID.test(id)) {
    problems.push(`${source}: provider id ${JSON.stringify(id)} must match ${ID.source}`);
    return undefined;
  }
  const before = problems.length;
  const fail = (field: string, message: string): void => {
    problems.push(`${source}: provider "${id}": ${field} ${message}`);
  };
  const check = <T>(field: string, fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      fail(field, (err as Error).message);
      return undefined;
    }
  };
  for (const key of Object.keys(raw))
    if (!FIELDS.has(key)) fail(key, `is not a known field (known: ${[...FIELDS].join(', ')})`);

  const name = raw.name ?? id;
  if (typeof name !== 'string' || !name.trim()) fail('name', 'must be a non-empty string');
  const auth = raw.auth ?? 'bearer';
  const knownAuth = AUTH_STYLES.includes(auth as ProviderAuth);
  if (!knownAuth)
    fail('auth', `must be one of ${AUTH_STYLES.join(' | ')}, got ${JSON.stringify(auth)}`);
  const keyBaseUrl = raw.keyBaseUrl ?? false;
  if (typeof keyBaseUrl !== 'boolean') fail('keyBaseUrl', 'must be true or false');
  const kind = { auth: (knownAuth ? auth : 'bearer') as ProviderAuth, keyBaseUrl: !!keyBaseUrl };
  const encodedSlashes = raw.encodedSlashes ?? false;
  if (typeof encodedSlashes !== 'boolean') fail('encodedSlashes', 'must be true or false');
  /** A template may name only its kind's parameters; `{baseUrl}` stands alone, for keyBaseUrl. */
  const template = (field: string, value: string): string => {
    const allowed = paramNamesOf(kind).filter((n) => n !== 'baseUrl');
    for (const p of placeholdersOf(value))
      if (p === 'baseUrl' ? value !== '{baseUrl}' || !kind.keyBaseUrl : !allowed.includes(p))
        fail(
          field,
          `names {${p}}, which ${kind.auth} keys do not carry (they carry: ${allowed.join(', ') || 'nothing'})`,
        );
    return value;
  };
  const rawBase = raw.baseUrl ?? (kind.keyBaseUrl ? '{baseUrl}' : undefined);
  if (kind.keyBaseUrl && rawBase !== '{baseUrl}')
    fail('baseUrl', 'must be "{baseUrl}" (or left out) when keyBaseUrl is true');
  const baseUrl =
    rawBase === undefined
      ? (fail('baseUrl', 'is required'), undefined)
      : check('baseUrl', () => {
          if (typeof rawBase !== 'string') return normalizeBaseUrl(rawBase);
          normalizeBaseUrl(standInOf(rawBase));
          return template('baseUrl', rawBase.trim().replace(/\/+$/, ''));
        });
  const openaiPrefix = check('openaiPrefix', () => {
    const value = raw.openaiPrefix ?? '/v1';
    normalizePrefix(typeof value === 'string' ? standInOf(value) : value);
    return template('openaiPrefix', (value as string).replace(/\/+$/, ''));
  });
  const signingService = raw.signingService;
  if (
    kind.auth === 'sigv4' &&
    (typeof signingService !== 'string' || !SIGNING_SERVICE.test(signingService))
  )
    fail('signingService', 'is required for sigv4: the AWS service name that signs (e.g. bedrock)');
  else if (kind.auth !== 'sigv4' && signingService !== undefined)
    fail('signingService', 'is only for auth: sigv4');
  const tokenUrl =
    kind.auth === 'gcp-service-account'
      ? raw.tokenUrl === undefined
        ? (fail('tokenUrl', 'is required for gcp-service-account (the OAuth token endpoint)'),
          undefined)
        : check('tokenUrl', () => normalizeBaseUrl(raw.tokenUrl))
      : raw.tokenUrl === undefined
        ? undefined
        : (fail('tokenUrl', 'is only for auth: gcp-service-account'), undefined);

  const headers = readHeaders(raw.headers ?? {}, 'headers', (h) => RESERVED_HEADERS.has(h), fail);

  const envKey = raw.envKey ?? `${envPrefix(id)}_API_KEY`;
  if (typeof envKey !== 'string' || !ENV_KEY.test(envKey))
    fail(
      'envKey',
      `must be an UPPER_SNAKE variable name ending in _API_KEY, got ${JSON.stringify(envKey)}`,
    );
  // An env variable holds one string: kinds whose keys carry parameters cannot fall back to it.
  const plainKey = paramNamesOf(kind).length === 0;
  const envFallback = raw.envFallback ?? plainKey;
  if (typeof envFallback !== 'boolean') fail('envFallback', 'must be true or false');
  else if (envFallback && !plainKey)
    fail('envFallback', `must be false: ${kind.auth} keys carry parameters an env key cannot`);

  const verifyRaw = raw.verify ?? { method: 'GET', path: `${openaiPrefix ?? ''}/models` };
  let verify: ProviderRecord['verify'] | undefined;
  if (!isObject(verifyRaw)) fail('verify', 'must be a mapping {method, path, body?}');
  else {
    const { method, path, body, baseUrl: verifyBase, ...rest } = verifyRaw;
    for (const key of Object.keys(rest))
      fail(`verify.${key}`, 'is not a known field (method, path, body, baseUrl)');
    if (verifyBase !== undefined && typeof verifyBase !== 'string')
      fail('verify.baseUrl', 'must be a URL (it may name key parameters)');
    else if (verifyBase !== undefined)
      check('verify.baseUrl', () =>
        normalizeBaseUrl(standInOf(template('verify.baseUrl', verifyBase))),
      );
    if (method !== 'GET' && method !== 'POST')
      fail('verify.method', `must be GET or POST, got ${JSON.stringify(method)}`);
    if (typeof path !== 'string' || !VERIFY_PATH.test(path) || DOT_SEGMENT.test(path))
      fail('verify.path', 'must be a path starting with "/" (relative to baseUrl)');
    verify = {
      method: method as 'GET' | 'POST',
      path: path as string,
      ...(body === undefined ? {} : { body }),
      ...(typeof verifyBase === 'string' ? { baseUrl: verifyBase.replace(/\/+$/, '') } : {}),
    };
  }
  const realtime = readRealtime(raw.realtime, fail);
  if (problems.length > before || !baseUrl || openaiPrefix === undefined || !verify)
    return undefined;
  return {
    id,
    name: (name as string).trim(),
    baseUrl,
    openaiPrefix,
    auth: kind.auth,
    headers,
    envKey: envKey as string,
    envFallback: envFallback as boolean,
    verify,
    keyBaseUrl: kind.keyBaseUrl,
    encodedSlashes: !!encodedSlashes,
    ...(kind.auth === 'sigv4' ? { signingService: signingService as string } : {}),
    ...(tokenUrl ? { tokenUrl } : {}),
    ...(realtime ? { realtime } : {}),
  };
}

/** A validated record and the operator's fallback key from its `envKey` variable, if set. */
export interface ProviderEntry {
  record: ProviderRecord;
  envKey?: SecretValue;
}

/** Built-ins, then PROVIDERS_FILE (adds or overrides by id), then `<ID>_*` env overrides. */
export function loadProviders(
  config: AppConfig,
  builtinPath = builtinProvidersPath(),
): Map<string, ProviderEntry> {
  const problems: string[] = [];
  const merged = new Map<string, { raw: Raw; source: string }>();
  for (const raw of parseProviderYaml(readFileSync(builtinPath, 'utf8'), 'builtin-providers.yaml'))
    merged.set(String(raw.id), { raw, source: 'builtin-providers.yaml' });

  const override = readOverrideFile('PROVIDERS_FILE', config.providersFile);
  if (override) {
    const { text, source } = override;
    const seen = new Set<string>();
    for (const raw of parseProviderYaml(text, source)) {
      const id = String(raw.id);
      if (seen.has(id)) problems.push(`${source}: provider "${id}" appears twice`);
      seen.add(id);
      merged.set(id, { raw: { ...merged.get(id)?.raw, ...raw }, source });
    }
  }

  const entries = new Map<string, ProviderEntry>();
  const prefixes = new Map<string, string>();
  const env = config.providerEnv;
  for (const { raw, source } of merged.values()) {
    const record = toRecord(raw, problems, source);
    if (!record) continue;
    const prefix = envPrefix(record.id);
    const clash = prefixes.get(prefix);
    if (clash)
      problems.push(`providers "${clash}" and "${record.id}" share the env prefix ${prefix}_`);
    prefixes.set(prefix, record.id);

    const baseUrl = env[`${prefix}_BASE_URL`];
    if (baseUrl !== undefined) {
      try {
        // Every call of the provider goes there, the verify request included. A provider whose
        // keys carried their own base URL becomes the operator's one server: keys carry none.
        record.baseUrl = normalizeBaseUrl(baseUrl);
        record.keyBaseUrl = false;
        delete record.verify.baseUrl;
      } catch (err) {
        problems.push(`${prefix}_BASE_URL ${(err as Error).message}`);
      }
    }
    const tokenUrl = env[`${prefix}_TOKEN_URL`];
    if (tokenUrl !== undefined && record.auth !== 'gcp-service-account')
      problems.push(`${prefix}_TOKEN_URL is only for gcp-service-account providers`);
    else if (tokenUrl !== undefined) {
      try {
        record.tokenUrl = normalizeBaseUrl(tokenUrl);
      } catch (err) {
        problems.push(`${prefix}_TOKEN_URL ${(err as Error).message}`);
      }
    }
    const fallback = env[`${prefix}_ENV_FALLBACK`];
    if (fallback !== undefined) {
      if (fallback === 'true' || fallback === 'false') record.envFallback = fallback === 'true';
      else problems.push(`${prefix}_ENV_FALLBACK must be "true" or "false", got "${fallback}"`);
    }
    const propagate = env[`${prefix}_PROPAGATE_TRACE`];
    if (propagate !== undefined) {
      if (propagate === 'true' || propagate === 'false')
        record.propagateTrace = propagate === 'true';
      else problems.push(`${prefix}_PROPAGATE_TRACE must be "true" or "false", got "${propagate}"`);
    }
    const key = env[record.envKey];
    Object.freeze(record.headers);
    Object.freeze(record.verify);
    entries.set(record.id, {
      record: Object.freeze(record),
      envKey: key ? new SecretValue(key) : undefined,
    });
  }
  if (!problems.length && !entries.has(config.defaultProvider))
    problems.push(
      `DEFAULT_PROVIDER "${config.defaultProvider}" is not a known provider (known: ${[...entries.keys()].join(', ')})`,
    );
  if (problems.length)
    throw new ConfigError(`Invalid provider configuration:\n  - ${problems.join('\n  - ')}`);
  return entries;
}
