import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../common/errors/app-error';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ADMIN_ONLY } from './admin-only.decorator';
import { Authenticator } from './authenticator';
import { IS_PUBLIC } from './public.decorator';
import type {} from './request-caller';

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
 * The global guard for Nest routes (registered as APP_GUARD): authenticates through
 * Authenticator, keeps access tokens to what they may call, enforces @AdminOnly, and sets
 * `request.caller`. A token's provider scope is the proxy's to enforce.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: Authenticator,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC, targets)) return true;

    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const caller = await this.authenticator.authenticate(request.headers, request);
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
    // A copy per request (the authenticated caller is cached and shared): the audit rows this
    // request causes name its address and id.
    request.caller = { ...caller, origin: { ip: request.ip, id: String(request.id) } };
    return true;
  }
}

/** The matched route's pattern; the raw path only if Fastify did not record one. */
function routePath(request: FastifyRequest): string {
  return request.routeOptions?.url ?? request.url.split('?')[0];
}
