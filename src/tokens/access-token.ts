import { createHash, randomBytes } from 'node:crypto';
import { ACCESS_TOKEN_PREFIX } from '../auth/credential';

/** `byok_` + 32 random bytes, base64url: 256 bits, so a plain SHA-256 is a safe way to store it. */
export function generateAccessToken(): string {
  return ACCESS_TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/**
 * Hex SHA-256 of the whole token. No salt or slow hash: the token is random, not a password, so
 * there is nothing to brute-force, and a deterministic hash is what makes lookup by hash work.
 */
export function hashAccessToken(raw: string): string {
  return createHash('sha256').update(raw, 'utf8').digest('hex');
}

/** True for strings shaped like a token we issued; anything else is refused without a lookup. */
export function looksLikeAccessToken(raw: string): boolean {
  return /^byok_[A-Za-z0-9_-]{43}$/.test(raw);
}
