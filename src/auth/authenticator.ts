import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import type { RequestOrigin } from '../audit/audit.types';
import { AppError } from '../common/errors/app-error';
import { BoundedTtlCache } from '../common/ttl-cache';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { OrgSightings } from '../tokens/org-sightings';
import { TokensService } from '../tokens/tokens.service';
import type { Caller } from './caller';
import {
  ACCESS_TOKEN_PREFIX,
  MISSING_CREDENTIAL,
  readCredential,
  type RequestHeaders,
} from './credential';
import { JwtStrategy } from './jwt.strategy';

/** Distinct JWTs remembered per replica; beyond that the oldest are verified again. */
const JWT_CACHE_ENTRIES = 10_000;

/**
 * Turns a request's headers into a Caller. Reads `Authorization: Bearer` or `x-api-key`;
 * `byok_` credentials are access tokens, anything else a JWT verified by JwtStrategy
 * (passport-jwt). Used by the /api guard and, directly, by the proxy (which is outside Nest's
 * request pipeline). What a caller may do with the route it called is the caller's to check.
 */
@Injectable()
export class Authenticator {
  /**
   * Verified JWTs by their raw string. A signature check costs tens of microseconds (RSA/ECDSA
   * more) on every proxied request; the cache makes a repeat a Map lookup. An entry lives until
   * min(exp, now + KEY_CACHE_TTL_MS), so an expired JWT is never served from it.
   */
  private readonly jwtCache = new BoundedTtlCache<string, Caller>(JWT_CACHE_ENTRIES);

  constructor(
    private readonly jwt: JwtStrategy,
    private readonly tokens: TokensService,
    private readonly audit: AuditService,
    private readonly sightings: OrgSightings,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * The Caller for a request's credential; throws 401 when there is none or it is not valid.
   * A refused credential is audited (`origin` gives the IP and request id; pass the request).
   */
  async authenticate(headers: RequestHeaders, origin?: RequestOrigin): Promise<Caller> {
    let caller: Caller;
    try {
      caller = await this.identify(headers);
    } catch (e) {
      this.audit.authFailed(e, headers, origin);
      throw e;
    }
    // Which organisation the JWT carries decides what its owner's access tokens may reach.
    const changed = this.sightings.seen(caller);
    if (changed) await changed;
    return caller;
  }

  private async identify(headers: RequestHeaders): Promise<Caller> {
    const credential = readCredential(headers);
    if (!credential) throw new AppError('unauthorized', MISSING_CREDENTIAL);
    if (credential.startsWith(ACCESS_TOKEN_PREFIX)) {
      const caller = await this.tokens.validate(credential);
      if (!caller) {
        throw new AppError(
          'unauthorized',
          'Access token not recognised: it is invalid, expired or revoked',
        );
      }
      return caller;
    }
    return this.verifyJwt(credential);
  }

  private async verifyJwt(raw: string): Promise<Caller> {
    const cached = this.jwtCache.get(raw);
    if (cached) return cached;
    const { caller, expiresAt } = await this.jwt.verify(raw);
    const shared = Object.freeze(caller);
    const until = Math.min(Date.now() + this.config.keyCacheTtlMs, expiresAt);
    this.jwtCache.set(raw, shared, until);
    return shared;
  }
}
