import type { FastifyReply, FastifyRequest, RequestPayload } from 'fastify';
import { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { AppError } from '../errors/app-error';

/** The content codings a request body may carry, each with the stream that undoes it. */
const DECODERS: Readonly<Record<string, () => Transform>> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate, // RFC 9110 §8.4.1.2: the zlib format
  br: createBrotliDecompress,
};

/** Sent as `accept-encoding` with a 415 (RFC 9110 §15.5.16). */
export const ACCEPTED_ENCODINGS = 'gzip, deflate, br';

/** More codings than any client applies; each one more is another full decode. */
const MAX_CODINGS = 2;

/** Methods whose bodies Fastify never reads. */
const BODYLESS = new Set(['GET', 'HEAD', 'TRACE']);

type Payload = RequestPayload & { receivedEncodedLength?: number };

const unsupported = (message: string): AppError =>
  new AppError('unsupported_media_type', message, {
    headers: { 'accept-encoding': ACCEPTED_ENCODINGS },
    details: { fields: ['content-encoding'] },
  });

/**
 * The codings of a `content-encoding` header in the order they were applied, `identity` left
 * out, or the 415 that refuses it. Only a token we decode is ever named back to the client.
 */
export function parseContentEncoding(header: string | string[] | undefined): string[] | AppError {
  const tokens = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t && t !== 'identity');
  const unknown = tokens.find((t) => !(t in DECODERS));
  if (unknown !== undefined)
    return unsupported(
      /^[\w.+-]{1,32}$/.test(unknown)
        ? `content-encoding "${unknown}" is not supported: send the body uncompressed or as ${ACCEPTED_ENCODINGS}`
        : `content-encoding is not a supported coding: send the body uncompressed or as ${ACCEPTED_ENCODINGS}`,
    );
  if (tokens.length > MAX_CODINGS)
    return unsupported(
      `content-encoding applies ${tokens.length} codings; at most ${MAX_CODINGS} are decoded`,
    );
  return tokens;
}

const tooLarge = (limit: number): AppError =>
  new AppError(
    'payload_too_large',
    `Request body is too large: decoded, it is over ${limit} bytes (the limit applies after content-encoding is undone)`,
  );

/** Passes bytes through while they stay within `limit`; fails with a 413 the moment they do not. */
function sizeCap(limit: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > limit) cb(tooLarge(limit));
      else cb(null, chunk);
    },
  });
}

/** zlib's own reasons are fixed phrases ("incorrect header check"); anything else is not repeated. */
function undecodable(coding: string, e: Error): AppError {
  const reason = /^[A-Za-z][\w ,.'-]{0,79}$/.test(e.message) ? ` (${e.message})` : '';
  return new AppError(
    'validation_failed',
    `The request body could not be decoded as ${coding}, as content-encoding says it is${reason}`,
    { details: { fields: ['body'] } },
  );
}

/**
 * Undoes `codings` (in the order they were applied) on `payload` as it streams in: every stage's
 * output is capped at `limit` bytes, so a small compressed body that inflates past the limit is
 * refused with 413 after at most `limit` bytes were produced, and a body is never held whole
 * before it is known to fit. The request stream itself is never destroyed (the reply still goes
 * out on its socket).
 */
export function decodeBody(payload: Payload, codings: string[], limit: number): Payload {
  const stages: Transform[] = [];
  for (const coding of [...codings].reverse()) {
    const decoder = DECODERS[coding]();
    decoder.on('error', (e: Error) => fail(e instanceof AppError ? e : undecodable(coding, e)));
    const cap = sizeCap(limit);
    cap.on('error', (e: Error) => fail(e));
    stages.push(decoder, cap);
  }
  const out = stages[stages.length - 1] as Transform & Payload;
  out.receivedEncodedLength = 0;
  let failed = false;
  function fail(err: Error): void {
    if (failed) return;
    failed = true;
    // Unpiping pauses the request: resumed, the rest is read and dropped (counted above) until
    // the reply closes the connection, so the socket is not closed on unread input (a reset).
    payload.unpipe(stages[0]);
    payload.resume();
    for (const s of stages) if (s !== out) s.destroy();
    if (!out.destroyed) out.destroy(err);
  }
  payload.on('data', (chunk: Buffer) => {
    out.receivedEncodedLength = (out.receivedEncodedLength ?? 0) + chunk.length;
    if (out.receivedEncodedLength > limit)
      fail(new AppError('payload_too_large', 'Request body is too large'));
  });
  payload.on('error', (e: Error) => fail(e));
  for (let i = 0; i < stages.length - 1; i++) stages[i].pipe(stages[i + 1]);
  payload.pipe(stages[0]);
  return out;
}

const hasBody = (req: FastifyRequest): boolean => {
  if (BODYLESS.has(req.method)) return false;
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (!!length && length !== '0');
};

/**
 * Fastify `preParsing` hook: a request body with `content-encoding` gzip, deflate or br (or a
 * chain of two) is decoded as it streams in, and the body parser (and with it the route's body
 * limit) sees the decoded bytes; any other coding is a 415 naming it. Added on the root
 * instance, it covers /api and the proxy's encapsulated context alike.
 */
export function requestDecoding(defaultLimit: number) {
  return (
    req: FastifyRequest,
    reply: FastifyReply,
    payload: RequestPayload,
    done: (err: Error | null, payload?: RequestPayload) => void,
  ): void => {
    if (req.headers['content-encoding'] === undefined || !hasBody(req)) {
      done(null, payload);
      return;
    }
    const codings = parseContentEncoding(req.headers['content-encoding']);
    if (codings instanceof AppError) {
      // The body is left unread: the connection cannot serve another request.
      void reply.header('connection', 'close');
      done(codings);
      return;
    }
    if (!codings.length) {
      done(null, payload);
      return;
    }
    done(null, decodeBody(payload, codings, req.routeOptions.bodyLimit ?? defaultLimit));
  };
}
