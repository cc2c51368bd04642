import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import OpenAI from 'openai';
import { freePort } from '../helpers/free-port';
import { eventually } from '../helpers/eventually';
import { ApiClient } from '../helpers/http';
import { STORE_MODES, testJwt } from '../helpers/modes';
import type { RunningApp } from '../helpers/start-app';
import { startStack, type Stack } from '../helpers/start-stack';
import { respond, type UpstreamDouble } from '../helpers/upstream-double';

const KEY = 'sk-safety-secret-key-ABCD1234wxyz';
const jwt = (sub: string) => testJwt(sub);

/** A host that must never see a request: any hit is a leak. */
async function startEvil(): Promise<{ server: Server; url: string; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url} ${JSON.stringify(req.headers)}`);
    res.end('stolen');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

/** A raw request, so paths reach the proxy exactly as written (fetch would normalise them). */
function raw(
  base: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; text: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: u.hostname, port: u.port, method: body ? 'POST' : 'GET', path, headers },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe.each(STORE_MODES)('proxy safety: $name', (mode) => {
  let stack: Stack | undefined;
  let app: RunningApp;
  let double: UpstreamDouble;
  let evil: Awaited<ReturnType<typeof startEvil>>;
  let api: ApiClient;
  const token = jwt('alice');
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

  beforeAll(async () => {
    evil = await startEvil();
    stack = await startStack({
      mode,
      env: {
        DEEPSEEK_BASE_URL: `http://127.0.0.1:${await freePort()}`, // nothing listens there
        // Short, so the stall tests end soon; long enough that a 2 MiB body on a busy machine
        // (CI builds a cluster beside the tests) is never taken for a stall.
        UPSTREAM_TIMEOUT_MS: '3000',
      },
    });
    ({ app, double } = stack);
    api = new ApiClient(app.url, token);
  });

  // Saving again clears `invalid`, which a test that makes the provider reject the key sets.
  beforeEach(async () => {
    double.reset();
    for (const provider of ['cerebras', 'openai', 'deepseek']) {
      const saved = await api.post('/api/user/api-keys', { provider, keyName: 'k', apiKey: KEY });
      expect(saved.status).toBeLessThan(300);
    }
  });

  afterAll(async () => {
    await stack?.close();
    const server = evil?.server;
    if (server) {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('refuses every path that could carry the key to another host (invariant 5)', async () => {
    const host = new URL(evil.url).host;
    const paths = [
      `/proxy/openai//${host}/v1/models`,
      `/proxy/openai/..%2f..%2f${host}/x`,
      `/proxy/openai/%2e%2e/%2e%2e/x`,
      `/proxy/openai/%252e%252e/x`,
      `/proxy/openai/v1/..%5c..%5cx`,
      `/proxy/openai/${evil.url}/v1/models`,
      `/proxy/openai/http:%2f%2f${host}/x`,
      `/v1//${host}/models`,
      `/v1/..%2f..%2fx`,
    ];
    for (const path of paths) {
      const res = await raw(app.url, path, auth, '{"model":"gpt"}');
      expect({ path, status: res.status }).toEqual({ path, status: 400 });
      expect(JSON.parse(res.text)).toMatchObject({ error: { code: 'validation_failed' } });
    }
    // `@host` and a forged Host / x-forwarded-host stay plain text on the provider's own host.
    await raw(app.url, `/proxy/openai/@${host}/v1/models`, auth);
    await raw(app.url, '/v1/models', {
      ...auth,
      host,
      'x-forwarded-host': host,
      forwarded: `host=${host}`,
    });
    await raw(app.url, '/v1/chat/completions', { ...auth, host }, `{"model":"${evil.url}/v1"}`);
    expect(evil.hits).toEqual([]);
    for (const r of double.requests) {
      expect(r.headers.host).toBe(new URL(double.url).host);
      expect(r.headers['x-forwarded-host']).toBeUndefined();
      expect(r.headers.forwarded).toBeUndefined();
    }
  });

  it('never follows an upstream redirect', async () => {
    double.nextResponse(respond.redirect(`${evil.url}/steal`));
    const res = await raw(app.url, '/v1/chat/completions', auth, '{"model":"openai/x"}');
    expect(res.status).toBe(302);
    expect(evil.hits).toEqual([]);
  });

  it('replaces a key the provider echoes with its hint, in error bodies and in streams', async () => {
    double.nextResponse(respond.echoKey(400));
    const res = await api.post('/v1/chat/completions', { model: 'openai/x' });
    expect(res.status).toBe(400);
    expect(res.text).not.toContain(KEY);
    expect(res.text).toContain('…wxyz');

    double.nextResponse(respond.echoKey(401));
    const rejected = await api.post('/v1/chat/completions', { model: 'openai/x' });
    expect(rejected.json).toMatchObject({ error: { code: 'provider_key_rejected' } });
    expect(rejected.text).not.toContain(KEY);
    // The 401 makes the proxy check the key with the provider's verify request: let that land
    // before queueing the next scripted answer, or the check would take it.
    await eventually(() => expect(double.requests.at(-1)?.path).toMatch(/\/models$/));

    double.nextResponse((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-debug-key': `got ${req.key}` });
      res.end('{}');
    });
    const header = await api.post('/v1/chat/completions', { model: 'cerebras/x' });
    expect(header.headers['x-debug-key']).toBe('got ...wxyz');

    double.nextResponse(respond.echoKeyInStream());
    const streamed = await api.post('/v1/chat/completions', { model: 'cerebras/x', stream: true });
    expect(streamed.text).toContain('…wxyz');
    expect(streamed.text).not.toContain(KEY);
    expect(app.logs.join('\n')).not.toContain(KEY);
  });

  it('decodes a compressed answer so an echoed key is still replaced', async () => {
    double.nextResponse((req, res) => {
      res.writeHead(400, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(gzipSync(JSON.stringify({ error: { message: `bad key ${req.key}` } })));
    });
    const res = await api.post('/v1/chat/completions', { model: 'openai/x' });
    expect(res.status).toBe(400);
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.json).toEqual({ error: { message: 'bad key …wxyz' } });
  });

  it('a stalled upstream gives 504 upstream_unavailable; a stall mid-stream ends with an error event', async () => {
    double.nextResponse(respond.stallHeaders());
    const res = await api.post('/v1/chat/completions', { model: 'openai/x' });
    expect(res.status).toBe(504);
    expect(res.json).toMatchObject({ error: { code: 'upstream_unavailable' } });
    expect(res.headers['x-byok-provider']).toBe('openai');

    double.nextResponse(respond.stallMidStream(2));
    const openai = new OpenAI({ apiKey: token, baseURL: `${app.url}/v1`, maxRetries: 0 });
    const stream = await openai.chat.completions.create({
      model: 'openai/x',
      messages: [],
      stream: true,
    });
    const consume = async () => {
      for await (const _ of stream) void _;
    };
    await expect(consume()).rejects.toMatchObject({ code: 'upstream_unavailable' });
  });

  it('an unreachable provider gives 502 upstream_unavailable', async () => {
    const res = await api.post('/v1/chat/completions', { model: 'deepseek/chat' });
    expect(res.status).toBe(502);
    expect(res.json).toMatchObject({ error: { code: 'upstream_unavailable', type: 'api_error' } });
    expect((res.json as { error: { message: string } }).error.message).toMatch(
      /could not be reached/,
    );
  });

  it('answers client mistakes in the OpenAI envelope with the stable codes', async () => {
    const cases: [string, Record<string, string>, string | undefined, number, string][] = [
      ['/v1/chat/completions', { 'content-type': 'application/json' }, '{}', 401, 'unauthorized'],
      [
        '/v1/chat/completions',
        { ...auth, authorization: 'Bearer nope' },
        '{}',
        401,
        'unauthorized',
      ],
      [
        '/v1/chat/completions',
        { ...auth, 'x-byok-provider': 'nope' },
        '{"model":"m"}',
        400,
        'provider_unknown',
      ],
      ['/proxy/nope/v1/models', auth, undefined, 400, 'provider_unknown'],
      ['/v1/chat/completions', auth, '{"model": "openai/x",', 400, 'invalid_json'],
      ['/v1/chat/completions', auth, '{"model":"xai/grok"}', 400, 'provider_key_missing'],
    ];
    for (const [path, headers, body, status, code] of cases) {
      const res = await raw(app.url, path, headers, body);
      expect({ path, code, status: res.status }).toEqual({ path, code, status });
      const err = (
        JSON.parse(res.text) as { error: { code: string; message: string; type: string } }
      ).error;
      expect(err.code).toBe(code);
      expect(err.message.length).toBeGreaterThan(15);
    }
    const unknown = await raw(app.url, '/proxy/nope/x', auth);
    expect(unknown.text).toContain('cerebras');
  });

  it('passes a large body through and refuses one over PROXY_BODY_LIMIT with 413', async () => {
    const big = JSON.stringify({ model: 'openai/x', input: 'y'.repeat(2 * 1024 * 1024) });
    const ok = await api.post('/v1/embeddings', big);
    expect(ok.status).toBe(200);
    expect(double.requests.at(-1)!.body.length).toBe(big.length - 'openai/'.length);
    const tooBig = await api.post('/v1/embeddings', 'x'.repeat(21 * 1024 * 1024));
    expect(tooBig.status).toBe(413);
    expect(tooBig.json).toMatchObject({ error: { code: 'payload_too_large' } });
  });

  it('multipart bodies use the header or the default provider and pass through byte for byte', async () => {
    const form = new FormData();
    form.append('model', 'whisper-1');
    form.append('file', new Blob([Buffer.from('RIFF-audio-bytes')]), 'a.wav');
    const res = await fetch(`${app.url}/v1/audio/transcriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'x-byok-provider': 'openai' },
      body: form,
    });
    expect(res.headers.get('x-byok-provider')).toBe('openai');
    const seen = double.requests.at(-1)!;
    expect(seen.path).toBe('/v1/audio/transcriptions');
    expect(seen.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(seen.body.toString()).toContain('RIFF-audio-bytes');
    expect(seen.key).toBe(KEY);
  });
});
