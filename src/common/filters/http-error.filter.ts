import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors/app-error';
import { ERROR_TITLE, OPENAI_ERROR_TYPE } from '../errors/error-codes';
import { toAppError } from '../errors/to-app-error';
import { isProxySurface } from '../http/surface';
import type { RouteMethods } from '../routes/route-methods';

/** The OpenAI error envelope, which every OpenAI SDK turns into a readable exception. */
export function openAiErrorBody(err: AppError): string {
  return JSON.stringify({
    error: { message: err.message, type: OPENAI_ERROR_TYPE[err.code], code: err.code },
  });
}

/**
 * RFC 9457 problem details with our stable `code` as an extension member. `instance` is left out
 * only when the request's path is unknown (an HTTP parser error).
 */
export function problemBody(
  err: AppError,
  instance: string | undefined,
  requestId: string,
): string {
  return JSON.stringify({
    type: 'about:blank',
    title: ERROR_TITLE[err.code],
    status: err.status,
    detail: err.message,
    code: err.code,
    instance,
    requestId,
    ...err.details,
  });
}

/**
 * The one global filter: OpenAI envelope on /v1 and /proxy, problem details on /api and the
 * rest. Unknown exceptions become a bare 500 carrying the request id; their details go to the
 * log only, never to the client.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpError');

  /** `routes`: the /api routes' methods, so a known path with an unrouted method is a 405. */
  constructor(private readonly routes?: RouteMethods) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<FastifyRequest>();
    const reply = ctx.getResponse<FastifyReply>();
    const err = this.methodNotAllowed(req) ?? toAppError(exception);
    if (err.status >= 500 && err.code !== 'upstream_unavailable') {
      const e = exception instanceof Error ? exception : new Error(String(exception));
      this.logger.error({
        reqId: req.id,
        err: { type: e.name, message: e.message, stack: e.stack },
      });
    }
    if (reply.sent || reply.raw.headersSent) {
      reply.raw.destroy();
      return;
    }
    const path = req.url.split('?')[0];
    const proxy = isProxySurface(path);
    void reply
      .status(err.status)
      .headers(err.headers)
      .header('content-type', proxy ? 'application/json' : 'application/problem+json')
      .send(proxy ? openAiErrorBody(err) : problemBody(err, path, String(req.id)));
  }

  /** No route took the request (Fastify's 404 handler), but the path has routes: 405 + Allow. */
  private methodNotAllowed(req: FastifyRequest): AppError | undefined {
    if (!this.routes || !req.is404) return undefined;
    const path = req.url.split('?')[0];
    const allow = this.routes.allowed(path).join(', ');
    if (!allow) return undefined;
    return new AppError(
      'method_not_allowed',
      `${req.method} is not allowed on ${path}: use ${allow}`,
      { headers: { allow } },
    );
  }
}
