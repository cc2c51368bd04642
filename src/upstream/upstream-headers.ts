import type { ProviderRecord } from '../providers/provider.schema';

export type HeaderMap = Record<string, string | string[] | undefined>;

// RFC 9110 §7.6.1: meaningful for one connection only (undici also refuses several of them).
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * Request headers that never go upstream:
 * - the caller's credentials in every style (they are for us, not the provider) and cookies;
 * - where the client is (`forwarded`, `x-forwarded-*`, `x-real-ip`) and the browser `origin`
 *   (Anthropic, for one, treats a request with `origin` as a browser call and refuses it);
 * - `host` and `content-length`: undici derives both, and the body may have been rewritten
 *   (model prefix stripped), so a client's length could be wrong;
 * - `expect` (undici refuses it) and `accept-encoding` (replaced by identity, see below);
 * - `content-encoding`: a gzip, deflate or br body arrives decoded (common/http/request-encoding,
 *   which refuses every other coding), so the bytes sent upstream are never encoded;
 * - the caller's trace context (`traceparent`, `tracestate`), unless the operator lets the
 *   provider see it (`<ID>_PROPAGATE_TRACE`): a provider is a third party.
 */
const DROP_REQUEST = new Set([
  'host',
  'content-length',
  'authorization',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
  'cookie',
  'forwarded',
  'x-real-ip',
  'origin',
  'expect',
  'accept-encoding',
  'content-encoding',
]);
const DROP_REQUEST_PREFIXES = ['proxy-', 'x-forwarded-', 'x-byok-', ':'];

/**
 * Response headers that never reach the client: hop-by-hop ones, cookies and transport policy
 * the provider meant for its own origin (`set-cookie`, `alt-svc`, `strict-transport-security`),
 * and anything posing as ours (`x-byok-*`).
 */
const DROP_RESPONSE = new Set(['set-cookie', 'alt-svc', 'strict-transport-security']);
const DROP_RESPONSE_PREFIXES = ['proxy-', 'x-byok-', ':'];

const NONE: ReadonlySet<string> = new Set();

function connectionListed(headers: HeaderMap): ReadonlySet<string> {
  const value = headers.connection;
  if (value === undefined) return NONE; // the usual request (HTTP/1.1 keeps alive by default)
  const list = Array.isArray(value) ? value.join(',') : (value ?? '');
  return new Set(
    list
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  );
}

function filtered(
  headers: HeaderMap,
  drop: Set<string>,
  prefixes: readonly string[],
): [string, string | string[]][] {
  const listed = connectionListed(headers);
  const out: [string, string | string[]][] = [];
  for (const rawName in headers) {
    const value = headers[rawName];
    if (value === undefined) continue;
    const name = rawName.toLowerCase();
    if (HOP_BY_HOP.has(name) || listed.has(name) || drop.has(name)) continue;
    if (startsWithAny(name, prefixes)) continue;
    out.push([name, value]);
  }
  return out;
}

function startsWithAny(name: string, prefixes: readonly string[]): boolean {
  for (const p of prefixes) if (name.startsWith(p)) return true;
  return false;
}

/**
 * The headers of the upstream request: the client's, minus everything above, plus the
 * provider's fixed headers (a client's own value wins, e.g. its `anthropic-version`).
 * `accept-encoding: identity` keeps the response scrubbable: a key echoed inside a compressed
 * body could not be found. The provider's credential is not here: UpstreamClient applies it
 * last (applyProviderAuth), so no caller ever holds a header map with a raw key in it.
 */
export function buildUpstreamHeaders(
  clientHeaders: HeaderMap,
  provider: Pick<ProviderRecord, 'headers' | 'propagateTrace'>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of filtered(clientHeaders, DROP_REQUEST, DROP_REQUEST_PREFIXES))
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  if (!provider.propagateTrace) {
    delete out.traceparent;
    delete out.tracestate;
  }
  for (const [name, value] of Object.entries(provider.headers)) out[name] ??= value;
  out['accept-encoding'] = 'identity';
  return out;
}

/**
 * The upstream response headers the client may see. `content-length` is dropped by default
 * because the key scrubber may shorten the body (a key becomes its `…abcd` hint): the server
 * then frames the body itself (chunked). Pass `keepContentLength` only for bodies forwarded
 * byte for byte (a HEAD response, say). The upstream `x-request-id` becomes
 * `x-upstream-request-id`, so ours stays the one SDKs report and the provider's is kept.
 */
export function filterResponseHeaders(
  upstreamHeaders: HeaderMap,
  options: { keepContentLength?: boolean } = {},
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of filtered(upstreamHeaders, DROP_RESPONSE, DROP_RESPONSE_PREFIXES)) {
    if (name === 'content-length' && !options.keepContentLength) continue;
    out[name === 'x-request-id' ? 'x-upstream-request-id' : name] = value;
  }
  return out;
}
