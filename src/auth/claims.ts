import { CONTROL_CHARACTERS, MAX_ID_LENGTH } from '../common/dto/text.decorators';
import { AppError } from '../common/errors/app-error';
import type { AppConfig } from '../config/app-config';
import type { Caller } from './caller';

/** A verified JWT payload. */
export type JwtClaims = Record<string, unknown>;

/** The claim names and values that grant organisation and admin rights (AUTH_* variables). */
export type ClaimRules = Pick<
  AppConfig['auth'],
  'orgClaim' | 'orgRoleClaim' | 'orgAdminValue' | 'adminClaim' | 'adminValue'
>;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Reads a claim by name or dot path (`o.id` for Clerk's nested organisation claims). A literal
 * key wins over the path, because Auth0-style namespaced claims (`https://example.com/role`)
 * contain dots themselves.
 */
export function readClaim(claims: JwtClaims, path: string): unknown {
  if (Object.hasOwn(claims, path)) return claims[path];
  let current: unknown = claims;
  for (const part of path.split('.')) {
    if (!isRecord(current) || !Object.hasOwn(current, part)) return undefined;
    current = current[part];
  }
  return current;
}

/** A scalar claim as text; identity providers disagree on `true` vs `"true"` and ids vs numbers. */
function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** True when the claim equals `expected` as text, or is an array that contains it. */
export function claimMatches(value: unknown, expected: string): boolean {
  if (Array.isArray(value)) return value.some((v) => scalarText(v) === expected);
  return scalarText(value) === expected;
}

/**
 * An identity claim becomes an owner id in the database: refuse one PostgreSQL would reject
 * (NUL, too long) here with a 401 naming the claim, rather than as a 500 later.
 */
function checkIdClaim(value: string, claim: string): string {
  if (value.length > MAX_ID_LENGTH)
    throw new AppError(
      'unauthorized',
      `JWT "${claim}" claim is longer than ${MAX_ID_LENGTH} characters`,
    );
  if (CONTROL_CHARACTERS.test(value))
    throw new AppError(
      'unauthorized',
      `JWT "${claim}" claim contains control characters (NUL, newline, …)`,
    );
  return value;
}

/**
 * Maps verified claims to the Caller every guard and service sees. Throws 401 without `sub`,
 * and for a `sub` or organisation id that is too long or holds control characters.
 */
export function callerFromClaims(claims: JwtClaims, rules: ClaimRules): Caller {
  const sub = typeof claims.sub === 'string' ? claims.sub : '';
  if (!sub) {
    throw new AppError('unauthorized', 'JWT has no "sub" claim: the token must name its user');
  }
  checkIdClaim(sub, 'sub');
  const org = scalarText(readClaim(claims, rules.orgClaim)) || undefined;
  const orgId = org === undefined ? undefined : checkIdClaim(org, rules.orgClaim);
  return {
    kind: 'jwt',
    sub,
    orgId,
    // An org role without an org would grant rights over nothing; keep the flag honest.
    orgAdmin:
      orgId !== undefined &&
      claimMatches(readClaim(claims, rules.orgRoleClaim), rules.orgAdminValue),
    admin: claimMatches(readClaim(claims, rules.adminClaim), rules.adminValue),
  };
}

/** Sets a claim by dot path, creating nested objects: the mint script writes what readClaim reads. */
export function setClaim(claims: JwtClaims, path: string, value: unknown): void {
  const parts = path.split('.');
  const last = parts.pop() as string;
  let target = claims;
  for (const part of parts) {
    const next = target[part];
    if (!isRecord(next)) target[part] = {};
    target = target[part] as Record<string, unknown>;
  }
  target[last] = value;
}
