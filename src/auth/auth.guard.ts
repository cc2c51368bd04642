import {
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  Optional,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { AuditService } from '../audit/audit.service';
import type { RequestOrigin } from '../audit/audit.types';
import { AppError } from '../common/errors/app-error';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { TokensService } from '../tokens/tokens.service';
import { ADMIN_ONLY } from './admin-only.decorator';
import type { Caller } from './caller';
import {
  ACCESS_TOKEN_PREFIX,
  MISSING_CREDENTIAL,
  readCredential,
  type RequestHeaders,
} from './credential';
import { JwtStrategy } from './jwt.strategy';
import { IS_PUBLIC } from './public.decorator';
import type {} from './request-caller';
import { BoundedTtlCache } from './ttl-cache';

/** Distinct JWTs remembered per replica; beyond that the oldest are verified again. */
const JWT_CACHE_ENTRIES = 10_000;

const under = (path: string, prefix: string): boolean =>
  path === prefix || path.startsWith(`${prefix}/`);

/**
 * What an access token may call: the proxy, and reads of /api. Decided on the route that
 * matched (`/api/user/tokens/:id`, `/v1/*`), not the raw URL, so no spelling of the URL can
 * reach a handler under another rule.
 */
export function checkTokenAccess(method: string, path: string): void {
  if (under(path, '/v1') || under(path, '/proxy')) return;
  if (under(path, '/api')) {
    if (method === 'GET' || method === 'HEAD') return;
    throw new AppError(
      'forbidden',
      'Access tokens are read-only on /api: use a JWT to create, change or delete keys and tokens',
    );
  }
  throw new AppError(
    'forbidden',
    'Access tokens may call /v1, /proxy and read /api only: use a JWT',
  );
}

/**
 * The global guard (registered as APP_GUARD). Reads `Authorization: Bearer` or `x-api-key`;
 * `byok_` credentials are access tokens, anything else a JWT verified by JwtStrategy
 * (passport-jwt). Sets `request.caller`. Provider scope of a token is the proxy's to enforce.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  /**
   * Verified JWTs by their raw string. A signature check costs tens of microseconds (RSA/ECDSA
   * more) on every proxied request; the cache makes a repeat a Map lookup. An entry lives until
   * min(exp, now + KEY_CACHE_TTL_MS), so an expired JWT is never served from it.
   */
  private readonly jwtCache = new BoundedTtlCache<string, Caller>(JWT_CACHE_ENTRIES);

  constructor(
    private readonly reflector: Reflector,
    private readonly jwt: JwtStrategy,
    private readonly tokens: TokensService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    // Optional only so that unit tests can build the guard without an audit log.
    @Optional() private readonly audit?: AuditService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC, targets)) return true;

    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const caller = await this.authenticate(request.headers, request);
    if (caller.kind === 'token') checkTokenAccess(request.method, routePath(request));
    if (
      this.reflector.getAllAndOverride<boolean | undefined>(ADMIN_ONLY, targets) &&
      !caller.admin
    ) {
      throw new AppError(
        'forbidden',
        `Administrators only: needs a JWT whose "${this.config.auth.adminClaim}" claim is "${this.config.auth.adminValue}"`,
      );
    }
    request.caller = caller;
    return true;
  }

  /**
   * The Caller for a request's credential; throws 401 when there is none or it is not valid.
   * A refused credential is audited (`origin` gives the IP and request id; pass the request).
   */
  async authenticate(headers: RequestHeaders, origin?: RequestOrigin): Promise<Caller> {
    try {
      return await this.identify(headers);
    } catch (e) {
      this.audit?.authFailed(e, headers, origin);
      throw e;
    }
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
    const until = Math.min(Date.now() + this.config.keyCacheTtlMs, expiresAt ?? Infinity);
    this.jwtCache.set(raw, shared, until);
    return shared;
  }
}

/** The matched route's pattern; the raw path only if Fastify did not record one. */
function routePath(request: FastifyRequest): string {
  return request.routeOptions?.url ?? request.url.split('?')[0];
}
