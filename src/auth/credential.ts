import { AppError } from '../common/errors/app-error';

/** Prefix of proxy access tokens; anything else presented as a credential is treated as a JWT. */
export const ACCESS_TOKEN_PREFIX = 'byok_';

export const MISSING_CREDENTIAL =
  'Missing credential: send Authorization: Bearer <JWT or byok_ access token>';

export type RequestHeaders = Record<string, string | string[] | undefined>;

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/**
 * The caller's credential from `Authorization: Bearer <x>`, or `x-api-key: <x>` as Anthropic-style
 * SDKs send it. Authorization wins when both are present, since it is the documented header.
 * Returns undefined when neither is sent; throws 401 for an Authorization header we cannot read,
 * so a client using Basic or a bare token learns what to send instead of "missing".
 */
export function readCredential(headers: RequestHeaders): string | undefined {
  const authorization = single(headers.authorization);
  // An AWS SDK pointed at /proxy/bedrock signs with whatever credentials it has: that signature
  // is for AWS, not us (the proxy re-signs), so its caller credential comes in x-api-key.
  if (authorization !== undefined && SIGV4.test(authorization)) return xApiKey(headers);
  if (authorization !== undefined && authorization.trim() !== '') {
    const match = BEARER.exec(authorization.trim());
    if (!match) {
      throw new AppError(
        'unauthorized',
        'Unsupported Authorization header: send Authorization: Bearer <JWT or byok_ access token>',
      );
    }
    return match[1];
  }
  return xApiKey(headers);
}

const SIGV4 = /^\s*AWS4-HMAC-SHA256\s/;

function xApiKey(headers: RequestHeaders): string | undefined {
  const apiKey = single(headers['x-api-key'])?.trim();
  return apiKey ? apiKey : undefined;
}

function single(value: string | string[] | undefined): string | undefined {
  if (Array.isArray(value)) {
    // Two credentials in one request are ambiguous; refuse rather than pick one.
    if (value.length > 1) {
      throw new AppError('unauthorized', 'Send exactly one credential header, not several');
    }
    return value[0];
  }
  return value;
}
