import { maxHeaderSize } from 'node:http';
import {
  type ClientError,
  clientErrorOf,
  clientErrorResponse,
  requestPathOf,
} from '../../../src/common/http/client-errors';

const parserError = (code: string, raw?: string): ClientError =>
  Object.assign(new Error('Parse Error'), {
    code,
    rawPacket: raw === undefined ? undefined : Buffer.from(raw, 'latin1'),
  });

describe('clientErrorOf', () => {
  it.each([
    ['HPE_HEADER_OVERFLOW', 431, 'request_header_too_large'],
    ['HPE_CHUNK_EXTENSIONS_OVERFLOW', 413, 'payload_too_large'],
    ['ERR_HTTP_REQUEST_TIMEOUT', 408, 'request_timeout'],
    ['HPE_INVALID_METHOD', 400, 'validation_failed'],
    ['HPE_SOMETHING_NEW', 400, 'validation_failed'],
  ])('%s is %i %s', (code, status, errorCode) => {
    const err = clientErrorOf(parserError(code));
    expect(err.status).toBe(status);
    expect(err.code).toBe(errorCode);
  });

  it('names the header limit', () => {
    expect(clientErrorOf(parserError('HPE_HEADER_OVERFLOW')).message).toContain(
      String(maxHeaderSize),
    );
  });
});

describe('requestPathOf', () => {
  it('reads the path of the request line the packet starts with', () => {
    expect(requestPathOf(Buffer.from('GET /v1/models?x=1 HTTP/1.1\r\n'))).toBe('/v1/models');
    expect(requestPathOf(Buffer.from('\r\nPOST /proxy/openai/v1/x HTTP/1.1\r\n'))).toBe(
      '/proxy/openai/v1/x',
    );
    expect(requestPathOf(Buffer.from('GET /v1/mo dels HTTP/1.1\r\n'))).toBe('/v1/mo');
  });

  it('is undefined when the packet does not start with a request line', () => {
    expect(requestPathOf(undefined)).toBeUndefined();
    expect(requestPathOf(Buffer.from('xxxxxxxx: yyyy\r\n'))).toBeUndefined();
    expect(requestPathOf(Buffer.from('GET http://evil/ HTTP/1.1\r\n'))).toBeUndefined();
  });
});

describe('clientErrorResponse', () => {
  const parse = (text: string) => {
    const [head, body] = text.split('\r\n\r\n');
    const [statusLine, ...lines] = head.split('\r\n');
    const headers = Object.fromEntries(lines.map((l) => l.split(': ')));
    return { statusLine, headers, body, json: JSON.parse(body) as Record<string, unknown> };
  };

  it('answers /v1 and /proxy in the OpenAI envelope', () => {
    const res = parse(
      clientErrorResponse(parserError('HPE_HEADER_OVERFLOW', 'GET /v1/models HTTP/1.1\r\n')),
    );
    expect(res.statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers.connection).toBe('close');
    expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.body));
    expect(res.json).toEqual({
      error: {
        message: expect.any(String),
        type: 'invalid_request_error',
        code: 'request_header_too_large',
      },
    });
  });

  it('answers anything else in problem details, with the path only when it is plain', () => {
    const api = parse(clientErrorResponse(parserError('HPE_INVALID_URL', 'GET /api/x HTTP/1.1')));
    expect(api.headers['content-type']).toBe('application/problem+json');
    expect(api.json).toMatchObject({ status: 400, code: 'validation_failed', instance: '/api/x' });
    expect(api.json.requestId).toBe(api.headers['x-request-id']);
    const unknown = parse(clientErrorResponse(parserError('HPE_INVALID_METHOD', '\u0000\u0001')));
    expect(unknown.headers['content-type']).toBe('application/problem+json');
    expect(unknown.json).not.toHaveProperty('instance');
    const odd = parse(clientErrorResponse(parserError('HPE_INVALID_URL', 'GET /a\u00ff HTTP/1.1')));
    expect(odd.json).not.toHaveProperty('instance');
  });
});
