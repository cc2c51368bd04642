const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

/**
 * A provider's fixed headers (`headers`, `realtime.headers`): a map of header name to a
 * single-line string, names lower-cased. A name `reserved` says is the proxy's own to set is
 * refused (a fixed value would clash with the injected key or the framing). Problems go to
 * `fail(field, message)`; the headers that passed are returned.
 */
export function readHeaders(
  raw: unknown,
  field: string,
  reserved: (name: string) => boolean,
  fail: (field: string, message: string) => void,
): Record<string, string> {
  const headers: Record<string, string> = {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    fail(field, 'must be a map of header name to string value');
    return headers;
  }
  for (const [k, v] of Object.entries(raw)) {
    const h = k.toLowerCase();
    if (!HEADER_NAME.test(h)) fail(`${field}.${k}`, 'is not a valid header name');
    else if (reserved(h)) fail(`${field}.${k}`, 'is set by the proxy and cannot be fixed');
    else if (typeof v !== 'string' || /[\r\n\0]/.test(v))
      fail(`${field}.${k}`, 'must be a single-line string (quote it in YAML)');
    else headers[h] = v;
  }
  return headers;
}
