import { HttpException } from '@nestjs/common';
import { AppError } from './app-error';
import { DatabaseUnavailableError, isDatabaseUnavailable } from './database-unavailable';
import { DependencyError } from './dependency-error';
import type { ErrorCode } from './error-codes';

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  message?: string;
}

const FASTIFY_CODES: Record<string, { code: ErrorCode; message: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'invalid_json', message: 'Body is not valid JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    code: 'invalid_json',
    message: 'Body is empty but content-type is application/json: send a JSON object',
  },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'payload_too_large', message: 'Request body is too large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: 'unsupported_media_type',
    message: 'Unsupported content-type: send application/json',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    code: 'validation_failed',
    message: 'content-length does not match the body',
  },
};

const STATUS_CODES: Partial<Record<number, ErrorCode>> = {
  400: 'validation_failed',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

function messageOf(response: unknown, fallback: string): string {
  if (typeof response === 'string') return response;
  if (response && typeof response === 'object' && 'message' in response) {
    const m = response.message;
    if (Array.isArray(m)) return m.map(String).join('; ');
    if (typeof m === 'string') return m;
  }
  return fallback;
}

/**
 * Maps anything thrown into an AppError. Client mistakes that reach us as Nest or Fastify errors
 * (validation pipe, body parser, unknown route) keep their 4xx and say what to fix; anything else
 * is an internal error whose details stay in the log.
 */
export function toAppError(exception: unknown): AppError {
  if (exception instanceof AppError) return exception;
  const dependency =
    exception instanceof DependencyError
      ? exception
      : isDatabaseUnavailable(exception)
        ? new DatabaseUnavailableError(String(exception))
        : undefined;
  if (dependency) return new AppError(dependency.errorCode, dependency.clientMessage);
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const code = STATUS_CODES[status];
    const message = messageOf(exception.getResponse(), exception.message);
    // Nest re-wraps Fastify's body-parser errors as HttpException(message, status), dropping
    // their code: the JSON ones are recognised by Fastify's messages.
    if (status === 400 && /valid JSON|Body cannot be empty/.test(message))
      return new AppError('invalid_json', `${message}: send a JSON object`);
    if (code) return new AppError(code, message, { status });
    if (status < 500) return new AppError('validation_failed', message, { status });
    return new AppError('internal_error', 'Internal server error');
  }
  const fe = exception as FastifyLikeError | undefined;
  if (fe && typeof fe === 'object') {
    const known = fe.code ? FASTIFY_CODES[fe.code] : undefined;
    if (known) return new AppError(known.code, known.message);
    // A SyntaxError's message quotes the body it failed on: never repeated.
    if (exception instanceof SyntaxError && fe.statusCode === 400)
      return new AppError('invalid_json', 'Body is not valid JSON: send a JSON object');
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      const code = STATUS_CODES[fe.statusCode] ?? 'validation_failed';
      return new AppError(code, fe.message ?? 'Bad request', { status: fe.statusCode });
    }
  }
  return new AppError('internal_error', 'Internal server error');
}
