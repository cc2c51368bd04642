import { JsonWebTokenError, NotBeforeError, TokenExpiredError } from 'jsonwebtoken';
import { AppError } from '../common/errors/app-error';

/** A token we refuse, with a message already fit for the client. */
export class JwtRejectedError extends Error {
  override name = 'JwtRejectedError';
}

/** The identity provider's keys could not be fetched: the token may be fine, we cannot tell. */
export class JwksUnavailableError extends Error {
  override name = 'JwksUnavailableError';
}

/** jsonwebtoken's terse messages, reworded to say what is wrong with the token. */
const REWORDED: Record<string, string> = {
  'invalid signature': 'JWT signature invalid',
  'jwt malformed': 'JWT malformed: expected three base64url parts, header.payload.signature',
  'invalid token': 'JWT malformed: its header or payload is not base64url JSON',
  'jwt signature is required': 'JWT has no signature: unsigned tokens are not accepted',
  'invalid exp value': 'JWT "exp" claim must be a number of seconds',
  'invalid nbf value': 'JWT "nbf" claim must be a number of seconds',
};

/** Turns whatever passport-jwt failed with into the 401 the client sees (JWKS trouble included). */
export function jwtFailure(reason: unknown): AppError {
  if (reason instanceof AppError) return reason;
  // 401, not 502: this credential cannot be accepted now, and SDKs show a 401 as what it is.
  if (reason instanceof JwksUnavailableError) return new AppError('unauthorized', reason.message);
  if (reason instanceof JwtRejectedError) return new AppError('unauthorized', reason.message);
  if (reason instanceof TokenExpiredError) {
    return new AppError('unauthorized', `JWT expired at ${reason.expiredAt.toISOString()}`);
  }
  if (reason instanceof NotBeforeError) {
    return new AppError('unauthorized', `JWT not valid before ${reason.date.toISOString()}`);
  }
  if (reason instanceof JsonWebTokenError) {
    const message = reason.message;
    const audience = /^jwt audience invalid\. expected: (.*)$/.exec(message);
    if (audience)
      return new AppError('unauthorized', `JWT audience invalid: expected ${audience[1]}`);
    const issuer = /^jwt issuer invalid\. expected: (.*)$/.exec(message);
    if (issuer) return new AppError('unauthorized', `JWT issuer invalid: expected ${issuer[1]}`);
    return new AppError('unauthorized', REWORDED[message] ?? `JWT invalid: ${message}`);
  }
  const message = reason instanceof Error ? reason.message : 'could not be verified';
  return new AppError('unauthorized', `JWT invalid: ${message}`);
}

/**
 * The `alg` of a compact JWT's header, or undefined when the header cannot be read. Checked
 * before any key lookup so that `none` or HS256-in-JWKS-mode get a message naming the algorithm
 * (jwks-rsa would otherwise hand passport-jwt no key and the client would read "secret or
 * public key must be provided").
 */
export function headerAlg(raw: string): string | undefined {
  const dot = raw.indexOf('.');
  if (dot <= 0) return undefined;
  try {
    const header: unknown = JSON.parse(
      Buffer.from(raw.slice(0, dot), 'base64url').toString('utf8'),
    );
    if (typeof header === 'object' && header !== null && 'alg' in header) {
      return typeof header.alg === 'string' ? header.alg : undefined;
    }
  } catch {
    // not JSON: reported as malformed by the caller
  }
  return undefined;
}
