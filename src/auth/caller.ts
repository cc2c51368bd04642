import type { RequestOrigin } from '../audit/audit.types';

/** Who is calling, as every guard, service and the proxy see it. */
export interface Caller {
  /** How the caller proved itself: a JWT may write; an access token may only proxy and read. */
  kind: 'jwt' | 'token';
  /** The user id (`sub` of the JWT, or the token owner's). */
  sub: string;
  /** The organisation from AUTH_ORG_CLAIM, when any. */
  orgId?: string;
  orgAdmin: boolean;
  admin: boolean;
  /** Set for `byok_` access tokens. */
  tokenId?: string;
  /** Provider scope of an access token; undefined means every provider. */
  providers?: string[];
  /** Where an /api request came from (set by AuthGuard), for the audit rows it causes. */
  origin?: RequestOrigin;
}
