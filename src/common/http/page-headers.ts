/**
 * Headers for the pages we serve (the settings page, /docs). They share an origin, and the
 * settings page keeps a credential in sessionStorage, so each runs no script but its own files,
 * talks only to this origin and cannot be framed. `inlineStyles` is for pages whose components
 * set styles at run time (Swagger UI); scripts are never inline.
 */
export function pageHeaders(
  opts: { inlineStyles?: boolean } = {},
): Readonly<Record<string, string>> {
  return Object.freeze({
    'content-security-policy': [
      "default-src 'none'",
      "script-src 'self'",
      opts.inlineStyles ? "style-src 'self' 'unsafe-inline'" : "style-src 'self'",
      "connect-src 'self'",
      "img-src 'self' data:",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
  });
}
