import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Writable } from 'node:stream';
import type { Params } from 'nestjs-pino';
import { destination as pinoDestination, type DestinationStream, pino } from 'pino';
import { pinoHttp } from 'pino-http';
import pinoPretty from 'pino-pretty';
import type { AppConfig } from '../config/app-config';
import { requestId } from './http/request-id';

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
 * stdout, written asynchronously: a log line never waits for the write (pino flushes what is
 * buffered when the process exits). For a person at a terminal (LOG_PRETTY, or unset: stdout is
 * a TTY outside production) lines are formatted by pino-pretty; JSON otherwise. `stdout` is
 * another stream only in tests.
 */
export function stdoutDestination(
  config: AppConfig,
  stdout: Writable & { isTTY?: boolean } = process.stdout,
): DestinationStream {
  const tty = stdout.isTTY === true;
  const pretty = config.logPretty ?? (!config.production && tty);
  const fd = stdout === process.stdout ? 1 : undefined;
  if (!pretty) return fd ? pinoDestination({ dest: fd, sync: false }) : stdout;
  return pinoPretty({
    destination: fd ?? stdout,
    sync: false,
    colorize: tty,
    translateTime: 'SYS:HH:MM:ss.l',
    messageFormat: '{if context}[{context}] {end}{msg}',
    ignore: 'pid,hostname,context',
  });
}

/**
 * nestjs-pino options: the application's logger (Nest's Logger writes through it). Its request
 * middleware is applied to no route: request lines come from accessLog, error lines name their
 * request id themselves, and the middleware's only other work, binding a child logger to each
 * request through an AsyncLocalStorage, would turn on Node 20's promise hooks for the whole
 * process at the first /api request (a third of the proxy's CPU per request; free on Node 24).
 */
export function loggerParams(
  config: AppConfig,
  destination: DestinationStream,
  mixin?: () => Record<string, string>,
): Params {
  const options = {
    level: config.logLevel,
    mixin,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    genReqId: (req: Req) => (typeof req.id === 'string' ? req.id : ''),
    autoLogging: false,
    customProps: () => ({}),
    serializers: {
      req: (req: Req & { method?: string; url?: string }) => ({
        id: req.id,
        method: req.method,
        path: (req.url ?? '').split('?')[0],
      }),
    },
  };
  return { pinoHttp: [options, destination], forRoutes: [] };
}

/** What the proxy adds to a request's access line; filled in as the exchange goes. */
export interface AccessDetails {
  caller?: string;
  provider?: string;
  model?: string;
  keySource?: string;
  keyHint?: string;
  bytesIn?: number;
  bytesOut?: number;
  /** The request's trace and span, when tracing is on. */
  traceId?: string;
  spanId?: string;
}

const DETAILS = Symbol('accessDetails');
type WithDetails = ServerResponse & { [DETAILS]?: AccessDetails };

/** The access details of a response, created on first use. */
export function accessDetails(res: ServerResponse): AccessDetails {
  return ((res as WithDetails)[DETAILS] ??= {});
}

/**
 * One JSON line per request (every route: /v1, /proxy, /api, health, pages), written by pino-http
 * when the response finishes or the connection closes: request id, method, path (never the query
 * string), status, duration, bytes in and out, and for proxied requests the caller, provider,
 * model and which key answered (source and hint, never the key), and the trace and span ids when
 * tracing is on. Fields are an allow-list, so the line needs no redaction pass. Successful proxied
 * requests are sampled (LOG_SAMPLE_SUCCESS); errors, aborted requests and every other route are
 * always written. Undefined when info is not logged: nothing runs per request then.
 */
export function accessLog(
  config: AppConfig,
  destination: DestinationStream,
): ((req: IncomingMessage, res: ServerResponse) => void) | undefined {
  const logger = pino({ level: config.logLevel }, destination);
  if (!logger.isLevelEnabled('info')) return undefined;
  const line = (req: Req, res: ServerResponse, ms: number) => {
    const d = (res as WithDetails)[DETAILS];
    const length = res.getHeader('content-length');
    return {
      reqId: req.id,
      method: req.method,
      path: (req.url ?? '').split('?', 1)[0],
      status: res.statusCode,
      ms,
      caller: d?.caller,
      provider: d?.provider,
      model: d?.model,
      keySource: d?.keySource,
      keyHint: d?.keyHint,
      bytesIn: d?.bytesIn ?? (Number(req.headers['content-length']) || 0),
      bytesOut: d?.bytesOut ?? (length === undefined ? undefined : Number(length)),
      aborted: res.writableFinished ? undefined : true,
      trace_id: d?.traceId,
      span_id: d?.spanId,
    };
  };
  const sample = config.logSampleSuccess;
  const dropped = (req: Req, res: ServerResponse) =>
    sample < 1 &&
    res.statusCode < 400 &&
    res.writableFinished &&
    isProxyPath(req.url ?? '') &&
    Math.random() >= sample;
  return pinoHttp({
    logger,
    genReqId: requestId,
    wrapSerializers: false,
    // pino-http binds the request to a child logger; nothing of it is printed.
    serializers: { req: () => undefined },
    customLogLevel: (req, res, err) =>
      err || res.statusCode >= 500 ? 'error' : dropped(req, res) ? 'silent' : 'info',
    customSuccessObject: (req, res, val: { responseTime: number }) =>
      line(req, res, val.responseTime),
    customErrorObject: (req, res, _err, val: { responseTime: number }) =>
      line(req, res, val.responseTime),
    customSuccessMessage: () => 'request',
    customErrorMessage: () => 'request',
  });
}

const PROXY_PATH = /^\/(v1|proxy)([/?#]|$)/;
const isProxyPath = (url: string): boolean => PROXY_PATH.test(url);
