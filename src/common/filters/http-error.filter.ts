import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppError } from '../errors/app-error';
import { ERROR_TITLE, OPENAI_ERROR_TYPE } from '../errors/error-codes';
import { toAppError } from '../errors/to-app-error';
import { isProxySurface } from '../http/surface';

/** The OpenAI error envelope, which every OpenAI SDK turns into a readable exception. */
export function openAiErrorBody(err: AppError): string {
  return JSON.stringify({
    error: { message: err.message, type: OPENAI_ERROR_TYPE[err.code], code: err.code },
  });
}

/** RFC 9457 problem details with our stable `code` as an extension member. */
export function problemBody(err: AppError, instance: string, requestId: string): string {
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

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<FastifyRequest>();
    const reply = ctx.getResponse<FastifyReply>();
    const err = toAppError(exception);
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
}
