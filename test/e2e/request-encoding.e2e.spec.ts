import { brotliCompressSync, createGzip, deflateSync, gzipSync } from 'node:zlib';
import { ApiClient, type Exchange } from '../helpers/http';
import { STORE_MODES, testJwt } from '../helpers/modes';
import { startStack, type Stack } from '../helpers/start-stack';
import type { UpstreamDouble } from '../helpers/upstream-double';

/**
 * Request bodies with `content-encoding` on every surface, through the real HTTP server: gzip,
 * deflate and br are decoded (the proxy forwards the decoded body without the header), the body
 * limit counts decoded bytes and stops a compression bomb while it inflates, other codings are
 * 415, an undecodable body is 400, and no error ever quotes the body.
 */
const LIMIT = 128 * 1024;
const KEY = 'csk-encoding-user-key-0001';
/** Never to appear in any response: it only ever travels inside request bodies. */
const MARKER = 'LEAKME-9f3c2a7e-body-bytes';

const CODECS: Record<string, (b: Buffer) => Buffer> = {
  gzip: (b) => gzipSync(b),
  deflate: (b) => deflateSync(b),
  br: (b) => brotliCompressSync(b),
};

/** ~100 KB of gzip that inflates to 100 MiB of JSON, compressed as a stream (never held whole). */
async function gzipBomb(decodedBytes = 100 * 1024 * 1024): Promise<Buffer> {
  const gz = createGzip({ level: 9 });
  const out: Buffer[] = [];
  gz.on('data', (d: Buffer) => out.push(d));
  const ended = new Promise((resolve) => gz.on('end', resolve));
  gz.write('{"model":"cerebras/llama-3.3-70b","messages":[{"role":"user","content":"');
  const mib = Buffer.alloc(1024 * 1024, 0x61);
  for (let i = 0; i < decodedBytes / mib.length; i++)
    if (!gz.write(mib)) await new Promise((resolve) => gz.once('drain', resolve));
  gz.end('"}]}');
  await ended;
  return Buffer.concat(out);
}

/** The largest growth of this process' RSS (the app runs in it) while `fn` runs. */
async function rssGrowthDuring<T>(fn: () => Promise<T>): Promise<{ result: T; growth: number }> {
  const base = process.memoryUsage.rss();
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 2);
  try {
    const result = await fn();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { result, growth: peak - base };
  } finally {
    clearInterval(timer);
  }
}

const chat = (content = 'hi', model = 'cerebras/llama-3.3-70b') => ({
  model,
  messages: [{ role: 'user', content }],
});

let bomb: Buffer;
beforeAll(async () => {
  bomb = await gzipBomb();
  expect(bomb.length).toBeGreaterThan(90 * 1024);
  expect(bomb.length).toBeLessThan(LIMIT); // small enough to pass the limit undecoded
});

describe.each(STORE_MODES)('request content-encoding: $name', (mode) => {
  let stack: Stack | undefined;
  let double: UpstreamDouble;
  let api: ApiClient;
  const token = testJwt('enc-alice');

  /** POSTs `body`, bytes as given, with a content-encoding; recorded in `api.seen`. */
  const send = async (
    path: string,
    body: Buffer | string,
    encoding: string | undefined,
  ): Promise<Exchange> => {
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
    };
    if (encoding !== undefined) headers['content-encoding'] = encoding;
    const res = await fetch(stack!.url + path, { method: 'POST', headers, body });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const ex = { status: res.status, headers: Object.fromEntries(res.headers), text, json };
    api.seen.push(ex);
    return ex;
  };

  beforeAll(async () => {
    stack = await startStack({ mode, env: { PROXY_BODY_LIMIT: String(LIMIT) } });
    double = stack.double;
    api = new ApiClient(stack.url, token);
    const saved = await send(
      '/api/user/api-keys',
      JSON.stringify({ provider: 'cerebras', keyName: 'plain', apiKey: KEY }),
      undefined,
    );
    expect(saved.status).toBe(201);
  });

  beforeEach(() => double.reset());

  afterAll(async () => {
    // Whatever happened, no response quoted a request body.
    for (const ex of api?.seen ?? []) expect(ex.text).not.toContain(MARKER);
    await stack?.close();
  });

  it.each(Object.keys(CODECS))('/api decodes a %s body', async (encoding) => {
    const body = { provider: 'mistral', keyName: `k-${encoding}`, apiKey: `mk-${encoding}-0001` };
    const res = await send(
      '/api/user/api-keys',
      CODECS[encoding](Buffer.from(JSON.stringify(body))),
      encoding,
    );
    expect(res.status).toBe(201);
    expect(res.json).toMatchObject({ provider: 'mistral', keyName: `k-${encoding}` });
    const list = (await api.get('/api/user/api-keys')).json as { data: { keyName: string }[] };
    expect(list.data.map((k) => k.keyName)).toEqual(
      expect.arrayContaining(['plain', `k-${encoding}`]),
    );
  });

  it.each(Object.keys(CODECS))(
    '/v1 decodes a %s body, routes on its model and forwards it decoded, without content-encoding',
    async (encoding) => {
      const res = await send(
        '/v1/chat/completions',
        CODECS[encoding](Buffer.from(JSON.stringify(chat(`hello ${encoding}`)))),
        encoding,
      );
      expect(res.status).toBe(200);
      expect(res.headers['x-byok-provider']).toBe('cerebras');
      const up = double.requests.at(-1)!;
      expect(up.key).toBe(KEY);
      expect(up.headers['content-encoding']).toBeUndefined();
      expect(up.json).toMatchObject({
        model: 'llama-3.3-70b',
        messages: [{ role: 'user', content: `hello ${encoding}` }],
      });
      expect(up.headers['content-length']).toBe(String(up.body.length));
    },
  );

  it('/proxy forwards the decoded bytes as they were, without content-encoding', async () => {
    const plain = Buffer.from(JSON.stringify(chat('native call', 'llama-3.3-70b')));
    const res = await send('/proxy/cerebras/v1/chat/completions', brotliCompressSync(plain), 'br');
    expect(res.status).toBe(200);
    const up = double.requests.at(-1)!;
    expect(up.path).toBe('/v1/chat/completions');
    expect(up.headers['content-encoding']).toBeUndefined();
    expect(up.body.equals(plain)).toBe(true);
  });

  it('takes identity, and stacked codings in the order they were applied', async () => {
    const plain = Buffer.from(JSON.stringify(chat('stacked')));
    expect((await send('/v1/chat/completions', plain, 'identity')).status).toBe(200);
    const both = brotliCompressSync(gzipSync(plain));
    expect((await send('/v1/chat/completions', both, 'gzip, br')).status).toBe(200);
    expect(double.requests.at(-1)!.json).toMatchObject({ model: 'llama-3.3-70b' });
  });

  it('applies the body limit to decoded bytes: just under passes, just over is 413', async () => {
    const fits = JSON.stringify(chat('x'.repeat(LIMIT - 200), 'llama-3.3-70b'));
    expect(fits.length).toBeLessThanOrEqual(LIMIT);
    const ok = await send('/proxy/cerebras/v1/chat/completions', gzipSync(fits), 'gzip');
    expect(ok.status).toBe(200);
    expect(double.requests.at(-1)!.body.length).toBe(fits.length);

    double.reset();
    const over = JSON.stringify(chat('x'.repeat(LIMIT), 'llama-3.3-70b'));
    const tooBig = await send('/proxy/cerebras/v1/chat/completions', gzipSync(over), 'gzip');
    expect(tooBig.status).toBe(413);
    expect(tooBig.json).toMatchObject({ error: { code: 'payload_too_large' } });
    expect(double.requests).toHaveLength(0);
  });

  it.each([
    ['/v1/chat/completions', 'openai'],
    ['/proxy/cerebras/v1/chat/completions', 'openai'],
    ['/api/user/api-keys', 'problem'],
  ])(
    'refuses a gzip bomb on %s with 413 while inflating, without buffering it',
    async (path, shape) => {
      const { result: res, growth } = await rssGrowthDuring(() => send(path, bomb, 'gzip'));
      expect(res.status).toBe(413);
      expect(res.headers.connection).toBe('close');
      if (shape === 'openai') {
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        expect(res.json).toEqual({
          error: {
            message: expect.stringContaining(`${LIMIT} bytes`),
            type: 'invalid_request_error',
            code: 'payload_too_large',
          },
        });
      } else {
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.json).toMatchObject({ status: 413, code: 'payload_too_large', instance: path });
      }
      // Inflated whole, the body is 100 MiB; stopped at the limit, it is 128 KiB.
      expect(growth).toBeLessThan(48 * 1024 * 1024);
      expect(double.requests).toHaveLength(0);
    },
  );

  it.each(['zstd', 'compress', 'x-unknown-coding', 'gzip, zstd'])(
    'refuses content-encoding "%s" with 415 naming it, on every surface',
    async (encoding) => {
      const named = encoding.split(', ').at(-1)!;
      const body = Buffer.from(JSON.stringify(chat(MARKER)));
      for (const path of ['/v1/chat/completions', '/proxy/cerebras/v1/chat/completions']) {
        const res = await send(path, body, encoding);
        expect(res.status).toBe(415);
        expect(res.headers['accept-encoding']).toBe('gzip, deflate, br');
        expect(res.json).toEqual({
          error: {
            message: expect.stringContaining(`"${named}"`),
            type: 'invalid_request_error',
            code: 'unsupported_media_type',
          },
        });
      }
      const res = await send('/api/user/api-keys', body, encoding);
      expect(res.status).toBe(415);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json).toMatchObject({
        status: 415,
        code: 'unsupported_media_type',
        detail: expect.stringContaining(`"${named}"`),
      });
      expect(double.requests).toHaveLength(0);
    },
  );

  it('answers 400 "could not be decoded" for a body that is not what content-encoding says', async () => {
    const notGzip = Buffer.from(`${MARKER} plain text, not gzip`);
    const truncated = gzipSync(JSON.stringify(chat(MARKER))).subarray(0, 30);
    for (const body of [notGzip, truncated]) {
      for (const path of ['/v1/chat/completions', '/proxy/cerebras/v1/chat/completions']) {
        const res = await send(path, body, 'gzip');
        expect(res.status).toBe(400);
        expect(res.json).toEqual({
          error: {
            message: expect.stringMatching(/could not be decoded as gzip/),
            type: 'invalid_request_error',
            code: 'validation_failed',
          },
        });
      }
      const res = await send('/api/user/api-keys', body, 'gzip');
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({
        code: 'validation_failed',
        detail: expect.stringMatching(/could not be decoded as gzip/),
      });
    }
    expect(double.requests).toHaveLength(0);
  });

  it('says a /v1 body is not JSON without quoting it, encoded or not', async () => {
    const notJson = Buffer.from(`${MARKER} {"model": "cerebras/x"`);
    // A bad escape inside the model string (once a 500: the byte scan's parse threw).
    const badEscape = Buffer.from(`{"model":"cerebras/\\x","note":"${MARKER}"}`);
    for (const [body, encoding] of [
      [notJson, undefined],
      [gzipSync(notJson), 'gzip'],
      [badEscape, undefined],
    ] as const) {
      const res = await send('/v1/chat/completions', body, encoding);
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({ error: { code: 'invalid_json' } });
      expect(res.text).not.toContain(MARKER);
      expect(res.text).not.toContain('LEAKME');
    }
    expect(double.requests).toHaveLength(0);
  });
});
