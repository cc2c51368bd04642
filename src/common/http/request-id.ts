import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const VALID = /^[\w.:@/+=-]{1,128}$/;

/**
 * Fastify's genReqId: the client's `x-request-id` when it is a sane token, else a new UUID.
 * Also stored on the raw request so pino-http logs the same id.
 */
export function requestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && VALID.test(given) ? given : randomUUID();
  (req as IncomingMessage & { id?: string }).id = id;
  return id;
}
