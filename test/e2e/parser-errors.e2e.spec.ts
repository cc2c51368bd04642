import { connect } from 'node:net';
import { testJwt } from '../helpers/modes';
import { startStack, type Stack } from '../helpers/start-stack';

/**
 * Requests Node's HTTP parser refuses before any route runs (header fields over the limit, a
 * malformed request line or header, an oversized chunk extension) and bodies over the limit are
 * answered in the service's own error shape: the OpenAI envelope on /v1 and /proxy, problem
 * details elsewhere, as a complete response on a connection that then closes.
 */
interface RawResponse {
  statusLine: string;
  status: number;
  headers: Record<string, string>;
  body: string;
  json: unknown;
}

/** Writes `request` on a fresh connection and reads until the server closes it. */
function rawRequest(url: string, request: string): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('the server did not close the connection within 5 s'));
    }, 5000);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => undefined); // a reset after the answer is read is fine
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      if (split < 0) return reject(new Error(`no HTTP response, got ${JSON.stringify(text)}`));
      const [statusLine, ...lines] = text.slice(0, split).split('\r\n');
      const headers = Object.fromEntries(
        lines.map((l) => [
          l.slice(0, l.indexOf(':')).toLowerCase(),
          l.slice(l.indexOf(':') + 1).trim(),
        ]),
      );
      const body = text.slice(split + 4);
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      resolve({ statusLine, status: Number(statusLine.split(' ')[1]), headers, body, json });
    });
    socket.write(request);
  });
}

const BIG_HEADER = 'x'.repeat(20 * 1024);
const LIMIT = 64 * 1024;

let stack: Stack | undefined;
let url: string;
const token = testJwt('parser-alice');

beforeAll(async () => {
  stack = await startStack({
    env: { PROXY_BODY_LIMIT: String(LIMIT), OPENAI_API_KEY: 'sk-operator-parser-0001' },
  });
  url = stack.url;
});

afterAll(async () => {
  await stack?.close();
});

afterEach(async () => {
  // The server is still serving.
  const res = await fetch(`${url}/api/providers`, {
    headers: { authorization: `Bearer ${token}` },
  });
  expect(res.status).toBe(200);
});

const openAi = (code: string, message: RegExp | string = /./) => ({
  error: {
    message:
      typeof message === 'string'
        ? expect.stringContaining(message)
        : expect.stringMatching(message),
    type: 'invalid_request_error',
    code,
  },
});

function expectWellFormed(res: RawResponse, status: number, contentType: string): void {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(new RegExp(`^${contentType.replace('+', '\\+')}`));
  expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.body, 'latin1'));
  expect(res.headers['x-request-id']).toMatch(/^[\w-]{8,}$/);
  expect(res.json).toBeDefined();
}

describe('431: header fields over the limit', () => {
  it.each([
    ['/api/providers', 'problem'],
    ['/v1/models', 'openai'],
    ['/proxy/openai/v1/models', 'openai'],
  ])('a 20 KB header on %s is a 431 in the surface envelope (fetch)', async (path, shape) => {
    const res = await fetch(`${url}${path}`, {
      headers: { authorization: `Bearer ${token}`, 'x-padding': BIG_HEADER },
    });
    expect(res.status).toBe(431);
    expect(res.headers.get('connection')).toBe('close');
    const body: unknown = await res.json();
    if (shape === 'openai') {
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(body).toEqual(openAi('request_header_too_large', 'header fields are too large'));
    } else {
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(body).toEqual({
        type: 'about:blank',
        title: 'Request Header Fields Too Large',
        status: 431,
        detail: expect.stringContaining('header fields are too large'),
        code: 'request_header_too_large',
        instance: path,
        requestId: res.headers.get('x-request-id'),
      });
    }
    expect(JSON.stringify(body)).not.toContain('xxxxxxxx');
  });

  it('writes a complete HTTP/1.1 response and closes the connection', async () => {
    for (const [path, type] of [
      ['/api/providers', 'application/problem+json'],
      ['/v1/chat/completions', 'application/json'],
    ]) {
      const res = await rawRequest(
        url,
        `GET ${path} HTTP/1.1\r\nhost: localhost\r\nx-padding: ${BIG_HEADER}\r\n\r\n`,
      );
      expect(res.statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
      expectWellFormed(res, 431, type);
      expect(res.headers.connection).toBe('close');
      expect(res.json).toMatchObject(
        type === 'application/json'
          ? { error: { code: 'request_header_too_large' } }
          : { status: 431, code: 'request_header_too_large' },
      );
    }
  });
});

describe('400: a request the parser cannot read', () => {
  it('a malformed request line on /v1 and /proxy is the OpenAI envelope', async () => {
    for (const line of ['GET /v1/mo dels HTTP/1.1', 'POST /proxy/openai/v1/x y HTTP/1.1']) {
      const res = await rawRequest(url, `${line}\r\nhost: localhost\r\n\r\n`);
      expectWellFormed(res, 400, 'application/json');
      expect(res.json).toEqual(openAi('validation_failed', 'not valid HTTP/1.1'));
    }
  });

  it('a malformed request line or header elsewhere is problem details', async () => {
    for (const request of [
      'GET /api/pro viders HTTP/1.1\r\nhost: localhost\r\n\r\n',
      'NOT-HTTP-AT-ALL\r\n\r\n',
      'GET /api/providers HTTP/1.1\r\nhost: localhost\r\nx-bad: a\u0001b\r\n\r\n',
      'POST /api/user/api-keys HTTP/1.1\r\nhost: localhost\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n{}',
    ]) {
      const res = await rawRequest(url, request);
      expectWellFormed(res, 400, 'application/problem+json');
      expect(res.json).toMatchObject({
        type: 'about:blank',
        title: 'Validation Failed',
        status: 400,
        code: 'validation_failed',
        detail: expect.stringContaining('not valid HTTP/1.1'),
        requestId: res.headers['x-request-id'],
      });
    }
  });
});

describe('413: a body over the limit', () => {
  const chunkedWithHugeExtension = (path: string) =>
    `POST ${path} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n` +
    `transfer-encoding: chunked\r\n\r\n2;${'e'.repeat(20 * 1024)}\r\n{}\r\n0\r\n\r\n`;

  it('a chunk extension over the parser limit is a 413 in the surface envelope', async () => {
    const v1 = await rawRequest(url, chunkedWithHugeExtension('/v1/chat/completions'));
    expectWellFormed(v1, 413, 'application/json');
    expect(v1.json).toEqual(openAi('payload_too_large'));
    const api = await rawRequest(url, chunkedWithHugeExtension('/api/user/api-keys'));
    expectWellFormed(api, 413, 'application/problem+json');
    expect(api.json).toMatchObject({ status: 413, code: 'payload_too_large' });
  });

  it.each([
    ['/v1/chat/completions', 'openai'],
    ['/proxy/openai/v1/chat/completions', 'openai'],
    ['/api/user/api-keys', 'problem'],
  ])('a body over the limit on %s, sized or chunked, is a 413', async (path, shape) => {
    const big = `{"model":"${'m'.repeat(LIMIT)}"}`;
    for (const framing of ['sized', 'chunked'] as const) {
      const head =
        framing === 'sized'
          ? `content-length: ${big.length}\r\n\r\n${big}`
          : `transfer-encoding: chunked\r\n\r\n${big.length.toString(16)}\r\n${big}\r\n0\r\n\r\n`;
      const res = await rawRequest(
        url,
        `POST ${path} HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer ${token}\r\n` +
          `content-type: application/json\r\n${head}`,
      );
      if (shape === 'openai') {
        expectWellFormed(res, 413, 'application/json');
        expect(res.json).toEqual(openAi('payload_too_large'));
      } else {
        expectWellFormed(res, 413, 'application/problem+json');
        expect(res.json).toMatchObject({ status: 413, code: 'payload_too_large', instance: path });
      }
    }
  });
});
