import { sign, type SignOptions } from 'jsonwebtoken';

export type Claims = Record<string, unknown>;

/**
 * One hour unless the claims set `exp` themselves (jsonwebtoken refuses both). `exp: undefined`
 * asks for a token without any expiry (which the proxy must refuse); see payloadOf.
 */
export const defaultExpiry = (claims: Claims): SignOptions =>
  'exp' in claims ? {} : { expiresIn: '1h' };

/** The claims to sign: `exp: undefined` (no expiry wanted) is left out, as jsonwebtoken insists. */
export const payloadOf = (claims: Claims): Claims =>
  Object.fromEntries(Object.entries(claims).filter(([k, v]) => k !== 'exp' || v !== undefined));

/** An HS256 JWT as a dev-mode client would send it. */
export function mintHs256(secret: string, claims: Claims, opts: SignOptions = {}): string {
  return sign(payloadOf(claims), secret, {
    algorithm: 'HS256',
    ...defaultExpiry(claims),
    ...opts,
  });
}

/** An unsigned `alg: none` JWT, built by hand: jsonwebtoken rightly refuses to make one. */
export function mintAlgNone(claims: Claims): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ iat: now, exp: now + 3600, ...claims })}.`;
}

/** Swaps the signature for another token's: a forged token with a well-formed signature. */
export function forgeSignature(token: string, signatureFrom: string): string {
  const [header, payload] = token.split('.');
  return `${header}.${payload}.${signatureFrom.split('.')[2]}`;
}
