import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { AppError } from '../common/errors/app-error';
import { toAppError } from '../common/errors/to-app-error';
import { decodeBody, parseContentEncoding } from '../common/http/request-encoding';

/** Methods whose bodies are never read (as Fastify does for GET and HEAD). */
const BODYLESS = new Set(['GET', 'HEAD']);

const tooLarge = (): AppError => toAppError({ code: 'FST_ERR_CTP_BODY_TOO_LARGE' });

/**
 * The raw bytes of a proxied request's body, read as Fastify's raw-body parser read them when it
 * served these routes, with the same answers: nothing for GET and HEAD or an empty body; 413
 * past `limit` (a declared length at once, decoded bytes as they come); a gzip, deflate or br
 * body decoded as it streams in, any other coding a 415; 400 when the bytes do not match
 * `content-length`. Resolves undefined when there is no body. On any refusal `res` is told to
 * close the connection: the client may still be sending a body nobody reads.
 */
export async function readProxyBody(
  req: IncomingMessage,
  res: ServerResponse,
  limit: number,
): Promise<Buffer | undefined> {
  try {
    return await read(req, limit);
  } catch (e) {
    res.setHeader('connection', 'close');
    throw e;
  }
}

async function read(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const headers = req.headers;
  if (BODYLESS.has(req.method ?? '')) return undefined;
  const declared = headers['content-length'];
  if (headers['transfer-encoding'] === undefined && (declared === undefined || declared === '0'))
    return undefined;
  const length = Number(declared);
  if (length > limit) throw tooLarge();

  let payload: Readable & { receivedEncodedLength?: number } = req;
  if (headers['content-encoding'] !== undefined) {
    const codings = parseContentEncoding(headers['content-encoding']);
    if (codings instanceof AppError) throw codings;
    if (codings.length) payload = decodeBody(req, codings, limit);
  }

  const chunks: Buffer[] = [];
  let received = 0;
  await new Promise<void>((resolve, reject) => {
    const done = (err?: Error): void => {
      payload.off('data', onData);
      payload.off('end', done);
      payload.off('error', done);
      // A client that hung up mid-body (or a broken stream) is a client mistake, not ours.
      if (err) reject(err instanceof AppError ? err : Object.assign(err, { statusCode: 400 }));
      else resolve();
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > limit || (payload.receivedEncodedLength ?? 0) > limit) done(tooLarge());
      else chunks.push(chunk);
    };
    payload.on('data', onData);
    payload.on('end', done);
    payload.on('error', done);
  });
  if (!Number.isNaN(length) && (payload.receivedEncodedLength || received) !== length)
    throw toAppError({ code: 'FST_ERR_CTP_INVALID_CONTENT_LENGTH' });
  return received ? Buffer.concat(chunks, received) : undefined;
}
