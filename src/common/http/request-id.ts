import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const VALID = /^[\w.:@/+=-]{1,128}$/;

/**
 * The request's id: the client's `x-request-id` when it is a sane token, else a new UUID. Stored
 * on the raw request on first use, so the access log, Fastify (its genReqId) and the proxy all
 * see the same id.
 */
export function requestId(req: IncomingMessage): string {
  const known = (req as IncomingMessage & { id?: unknown }).id;
  if (typeof known === 'string') return known;
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && VALID.test(given) ? given : randomUUID();
  (req as IncomingMessage & { id?: string }).id = id;
  return id;
}
