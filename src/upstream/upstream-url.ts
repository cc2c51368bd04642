import { AppError } from '../common/errors/app-error';
import type { ProviderRecord } from '../providers/provider.schema';
import { standInOf } from '../providers/url-template';

/** `native`: `/proxy/{id}/{path}` → `{baseUrl}/{path}`; `openai`: `/v1/{path}` → `{baseUrl}{openaiPrefix}/{path}`. */
export type UpstreamSurface = 'native' | 'openai';

const MAX_DECODE_ROUNDS = 3;
const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

function refuse(message: string): never {
  throw new AppError('validation_failed', `Refused upstream path: ${message}`, {
    details: { field: 'path' },
  });
}

/** Percent-decodes valid `%XX` triplets only, byte by byte: enough to see what a server might. */
function decodeOnce(s: string): string {
  return s.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** `slashes`: `%2F` may stand in this layer (the raw path of an encodedSlashes provider). */
function checkLayer(layer: string, decoded: boolean, slashes: boolean): void {
  if (hasControl(layer)) refuse('control characters are not allowed');
  if (/\\|%5c/i.test(layer)) refuse('backslashes are not allowed');
  if (!slashes && /%2f/i.test(layer)) refuse('encoded slashes (%2F) are not allowed');
  if (SCHEME.test(layer)) refuse('an absolute URL is not a path');
  if (decoded && /[?#]/.test(layer)) refuse('encoded "?" or "#" is not allowed');
  const segments = layer.split('/');
  segments.forEach((segment, i) => {
    if (segment === '.' || segment === '..') refuse('"." and ".." segments are not allowed');
    if (segment === '' && i < segments.length - 1) refuse('empty segments ("//") are not allowed');
  });
}

/**
 * The upstream URL for a proxied request (invariant 5: a key goes only to its provider's host).
 *
 * `path` is the raw, still percent-encoded rest of the request path after `/proxy/{id}/` or
 * `/v1/`, without a leading slash: slice it from the raw request URL, not from a router param
 * (find-my-way decodes `%2F` there). `search` is the raw query (`''` or `?…`), kept as is.
 *
 * Rather than normalise, anything that could climb out of the base path or reach another host
 * is refused: `.`/`..` (also `%2e%2e`, double-encoded), encoded slashes, backslashes, `//`,
 * absolute URLs, control characters and NUL, at every decoding layer. The result is parsed and
 * its origin and path prefix checked once more, so `@host` and the like stay plain path text.
 * A provider with `encodedSlashes` takes `%2F` in the path as sent (not double-encoded); its
 * decoded layers, where those are real slashes, are checked like any path.
 */
export function buildUpstreamUrl(
  provider: Pick<ProviderRecord, 'baseUrl' | 'openaiPrefix'> & { encodedSlashes?: boolean },
  path: string,
  search: string,
  surface: UpstreamSurface = 'native',
): string {
  if (/[^\x21-\x7e]/.test(path)) refuse('only visible ASCII is allowed (percent-encode the rest)');
  if (/[?#]/.test(path)) refuse('"?" and "#" belong to the query, not the path');
  if (search && (!search.startsWith('?') || /[^\x21-\x7e]|#/.test(search)))
    refuse('the query string must be "?" followed by visible ASCII, without "#"');

  let layer = path;
  for (let round = 0; ; round++) {
    checkLayer(layer, round > 0, round === 0 && !!provider.encodedSlashes);
    const next = decodeOnce(layer);
    if (next === layer) break;
    if (round === MAX_DECODE_ROUNDS) refuse('too many layers of percent-encoding');
    layer = next;
  }

  // A base naming key parameters is built on its stand-in; UpstreamClient fills in the key's.
  const base = new URL(standInOf(provider.baseUrl));
  const basePath = base.pathname.replace(/\/+$/, '');
  const prefix = `${basePath}${surface === 'openai' ? standInOf(provider.openaiPrefix) : ''}/`;
  const url = new URL(`${base.origin}${prefix}${path}${search}`);
  // Defence in depth: whatever slipped through the checks above must still land here.
  if (
    url.origin !== base.origin ||
    url.username ||
    url.password ||
    !url.pathname.startsWith(prefix)
  )
    refuse('the path would leave the provider base URL');
  return url.href;
}
