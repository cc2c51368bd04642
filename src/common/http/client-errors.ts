import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { AppError } from '../errors/app-error';
import { openAiErrorBody, problemBody } from '../filters/http-error.filter';
import { isProxySurface } from './surface';

/** What Node's HTTP parser hands to `clientError`. */
export interface ClientError extends Error {
  code?: string;
  /** The bytes the parser was reading when it failed (prepareError in node:_http_common). */
  rawPacket?: unknown;
}

/** How long the socket stays open, reading and discarding, after the answer (see clientErrors). */
const LINGER_MS = 2000;

/** llhttp's codes for a request that is not HTTP/1.1 as we accept it, in our words. */
const WHAT_IS_WRONG: Readonly<Record<string, string>> = {
  HPE_INVALID_METHOD: 'the method is not a valid token',
  HPE_INVALID_URL: 'the request target is not a valid path',
  HPE_INVALID_VERSION: 'the HTTP version is not valid',
  HPE_INVALID_HEADER_TOKEN: 'a header field holds a character HTTP does not allow',
  HPE_INVALID_CONTENT_LENGTH: 'content-length is not a valid length',
  HPE_UNEXPECTED_CONTENT_LENGTH:
    'content-length is sent more than once, or together with transfer-encoding',
  HPE_INVALID_TRANSFER_ENCODING: 'transfer-encoding is not valid',
  HPE_INVALID_CHUNK_SIZE: 'a chunk size of the chunked body is not valid',
  HPE_INVALID_EOF_STATE: 'the connection ended in the middle of the request',
};

/** The error to answer a parser failure with: our code, our words, never the request's bytes. */
export function clientErrorOf(err: ClientError): AppError {
  if (err.code === 'HPE_HEADER_OVERFLOW')
    return new AppError(
      'request_header_too_large',
      `The request line and header fields are too large: together they may be at most ${maxHeaderSize} bytes`,
    );
  if (err.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW')
    return new AppError(
      'payload_too_large',
      'Request body is too large: its chunk extensions are over the limit',
    );
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT')
    return new AppError('request_timeout', 'The request was not received in time');
  const what = (err.code && WHAT_IS_WRONG[err.code]) ?? 'it could not be parsed';
  return new AppError('validation_failed', `The request is not valid HTTP/1.1: ${what}`, {
    details: { fields: ['request'] },
  });
}

/**
 * The path of the request line at the start of `raw` (empty lines before it allowed, RFC 9112
 * §2.2), when it is there and looks like one; else undefined. The parser hands over only the
 * chunk it failed on, which holds the request line unless the request came in several reads.
 */
export function requestPathOf(raw: unknown): string | undefined {
  if (!Buffer.isBuffer(raw)) return undefined;
  const line = /^(?:\r?\n)*[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32} (\/[^\s?#]{0,2047})/;
  return line.exec(raw.subarray(0, 4096).toString('latin1'))?.[1];
}

/** The whole HTTP/1.1 response for a parser failure, in the surface's own error shape. */
export function clientErrorResponse(err: ClientError): string {
  const error = clientErrorOf(err);
  const path = requestPathOf(err.rawPacket);
  const proxy = path !== undefined && isProxySurface(path);
  const id = randomUUID();
  // The path goes back as `instance` only when it is plain visible ASCII.
  const instance = path && /^[\x21-\x7e]+$/.test(path) ? path : undefined;
  const body = proxy ? openAiErrorBody(error) : problemBody(error, instance, id);
  return [
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}`,
    `content-type: ${proxy ? 'application/json' : 'application/problem+json'}`,
    `content-length: ${Buffer.byteLength(body)}`,
    `x-request-id: ${id}`,
    'connection: close',
    '',
    body,
  ].join('\r\n');
}

const answered = new WeakSet<Socket>();
const logger = new Logger('Http');

/**
 * Fastify's `clientErrorHandler` (Node's `clientError`): a request the HTTP parser refuses
 * before any route sees it — header fields over the limit (431), a malformed request line or
 * header (400), an oversized chunk extension (413), a request not received in time (408) — is
 * answered like every other error: the OpenAI envelope when the request line names /v1 or
 * /proxy, problem details otherwise. The response is written on the socket by hand; then the
 * socket is half-closed and what the client is still sending is read and dropped for a moment
 * (the parser keeps reading and keeps failing, which lands here again and is ignored), because
 * closing a socket with unread input resets the connection and the client may lose the answer.
 */
export function clientErrors(err: ClientError, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed || answered.has(socket)) return;
  answered.add(socket);
  logger.debug({ msg: 'client error', code: err.code });
  // An answer to an earlier request on this connection already started: a second one would
  // corrupt it.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  socket.end(clientErrorResponse(err));
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}
