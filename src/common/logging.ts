import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import type { AppConfig } from '../config/app-config';

/** Paths that can never be printed, whatever a caller logs by mistake. */
export const REDACT_PATHS = [
  'apiKey',
  '*.apiKey',
  '*.*.apiKey',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  '*.headers.authorization',
  '*.headers["x-api-key"]',
  '*.headers["api-key"]',
  '*.headers.cookie',
];

type Req = IncomingMessage & { id?: unknown };

/**
 * nestjs-pino options: one JSON line per request with an allow-list of fields (never headers,
 * never bodies, never the query string, which can carry keys for some providers).
 */
export function loggerParams(config: AppConfig, destination?: DestinationStream): Params {
  const options = {
    level: config.logLevel,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    genReqId: (req: Req) => (typeof req.id === 'string' ? req.id : ''),
    customProps: () => ({}),
    serializers: {
      req: (req: Req & { method?: string; url?: string }) => ({
        id: req.id,
        method: req.method,
        path: (req.url ?? '').split('?')[0],
      }),
      res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
    },
    customSuccessMessage: (req: Req & { method?: string }, res: ServerResponse) =>
      `${req.method} ${res.statusCode}`,
    customErrorMessage: (req: Req & { method?: string }, res: ServerResponse) =>
      `${req.method} ${res.statusCode}`,
  };
  return {
    pinoHttp: destination ? [options, destination] : options,
    // The proxy routes hijack their reply and write their own access line (UsageRecorder); the
    // HTTP-logging middleware there only cost time on the hot path.
    exclude: [
      { path: 'v1', method: RequestMethod.ALL },
      { path: 'v1/*path', method: RequestMethod.ALL },
      { path: 'proxy/*path', method: RequestMethod.ALL },
    ],
  };
}
