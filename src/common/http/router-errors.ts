import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors/app-error';
import { openAiErrorBody, problemBody } from '../filters/http-error.filter';
import { isProxySurface } from './surface';

/**
 * Longest path parameter the router accepts (Fastify's default is 100). Above every id we
 * store (255), so an over-long `:id`, `:provider` or `:sub` reaches PathParamPipe and gets a 400
 * naming it; beyond this the router refuses the URL itself (routerErrors).
 */
export const MAX_PARAM_LENGTH = 2048;

export const paramTooLong = (): AppError =>
  new AppError(
    'validation_failed',
    `A path parameter is longer than ${MAX_PARAM_LENGTH} characters`,
    { details: { fields: ['path'] } },
  );

export const badUrl = (): AppError =>
  new AppError('validation_failed', 'The URL path is not valid percent-encoding', {
    details: { fields: ['path'] },
  });

/**
 * Fastify's `frameworkErrors`: URLs the router refuses before any route runs (malformed
 * percent-encoding, a path parameter over MAX_PARAM_LENGTH), answered as every other client
 * mistake is (problem details, or the OpenAI envelope on /v1 and /proxy) instead of Fastify's
 * own body with an FST_ code.
 */
export function routerErrors(error: Error, req: FastifyRequest, reply: FastifyReply): void {
  const code = (error as { code?: string }).code;
  const err =
    code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? paramTooLong()
      : code === 'FST_ERR_BAD_URL'
        ? badUrl()
        : new AppError('internal_error', 'Internal server error');
  const path = req.url.split('?')[0];
  const proxy = isProxySurface(path);
  void reply
    .status(err.status)
    .header('content-type', proxy ? 'application/json' : 'application/problem+json')
    .header('x-request-id', req.id)
    .send(proxy ? openAiErrorBody(err) : problemBody(err, path, String(req.id)));
}
