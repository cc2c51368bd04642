import Anthropic from '@anthropic-ai/sdk';
import Cerebras from '@cerebras/cerebras_cloud_sdk';
import OpenAI from 'openai';
import type { ServerResponse } from 'node:http';
import { DataSource } from 'typeorm';
import { UsageRecorder } from '../../src/usage/usage.recorder';
import { eventually } from '../helpers/eventually';
import { ApiClient } from '../helpers/http';
import { STORE_MODES, testJwt } from '../helpers/modes';
import type { RunningApp } from '../helpers/start-app';
import { startStack, type Stack } from '../helpers/start-stack';
import { chatChunks, respond, type UpstreamDouble } from '../helpers/upstream-double';

const jwt = testJwt;

const KEYS = {
  cerebras: 'csk-alice-cerebras-key-0001',
  mistralA: 'mistral-alice-first-key-0002',
  mistralB: 'mistral-alice-second-key-0003',
  groqOrg: 'gsk-acme-org-key-0004',
  anthropic: 'sk-ant-alice-key-0005',
  openaiEnv: 'sk-operator-env-key-0006',
  anthropicEnv: 'sk-ant-operator-env-0007',
  togetherA: 'together-alice-a-0008',
  togetherB: 'together-alice-b-0009',
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(STORE_MODES)('proxy end to end: $name', (mode) => {
  let stack: Stack | undefined;
  let app: RunningApp;
  let double: UpstreamDouble;
  let api: ApiClient;
  const aliceJwt = jwt('alice', { org_id: 'acme', org_role: 'member' });
  let openai: OpenAI;

  beforeAll(async () => {
    stack = await startStack({
      mode,
      env: { OPENAI_API_KEY: KEYS.openaiEnv, ANTHROPIC_API_KEY: KEYS.anthropicEnv },
    });
    ({ app, double } = stack);
    api = new ApiClient(app.url, aliceJwt);
    const save = async (provider: string, keyName: string, apiKey: string, client = api) =>
      expect(
        (
          await client.post(`/api/${client === api ? 'user' : 'org'}/api-keys`, {
            provider,
            keyName,
            apiKey,
          })
        ).status,
      ).toBe(201);
    await save('cerebras', 'personal', KEYS.cerebras);
    await save('mistral', 'first', KEYS.mistralA);
    await save('mistral', 'second', KEYS.mistralB);
    await save('anthropic', 'personal', KEYS.anthropic);
    await save('together', 'a', KEYS.togetherA);
    await save('together', 'b', KEYS.togetherB);
    await save(
      'groq',
      'team',
      KEYS.groqOrg,
      api.as(jwt('dave', { org_id: 'acme', org_role: 'admin' })),
    );
    openai = new OpenAI({ apiKey: aliceJwt, baseURL: `${app.url}/v1`, maxRetries: 0 });
  });

  beforeEach(() => double.reset());

  afterAll(async () => {
    await stack?.close();
  });

  const last = () => double.requests.at(-1)!;

  it('OpenAI SDK chat: the user key goes upstream, the prefix is stripped, the JWT never leaves', async () => {
    const { data, response } = await openai.chat.completions
      .create({ model: 'cerebras/llama-3.3-70b', messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    expect(data.choices[0].message.content).toBe('Hello from the upstream double');
    expect(response.headers.get('x-byok-provider')).toBe('cerebras');
    expect(response.headers.get('x-byok-key-source')).toBe('user');
    expect(response.headers.get('x-request-id')).toMatch(/.+/);
    const seen = last();
    expect(seen.path).toBe('/v1/chat/completions');
    expect(seen.key).toBe(KEYS.cerebras);
    expect(seen.json?.model).toBe('llama-3.3-70b');
    expect(JSON.stringify(seen.headers)).not.toContain(aliceJwt);
    expect(seen.headers['accept-encoding']).toBe('identity');
  });

  it('streams chat chunk by chunk with the SDK and records the streamed usage', async () => {
    const stream = await openai.chat.completions.create({
      model: 'cerebras/llama-3.3-70b',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe('Hello from the upstream double');
  });

  it('first streamed chunk reaches the client before the upstream has finished', async () => {
    double.options.chunkDelayMs = 150;
    const started = Date.now();
    const res = await fetch(`${app.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${aliceJwt}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'cerebras/x', stream: true, messages: [] }),
    });
    const reader = res.body!.getReader();
    const first = await reader.read();
    const firstAt = Date.now() - started;
    while (!(await reader.read()).done);
    const doneAt = Date.now() - started;
    expect(new TextDecoder().decode(first.value)).toContain('data:');
    // Six chunks 150 ms apart: the first must arrive well before the last.
    expect(doneAt - firstAt).toBeGreaterThan(500);
  });

  it('embeddings and the merged model list', async () => {
    const emb = await openai.embeddings.create({ model: 'cerebras/embed', input: ['a', 'b'] });
    expect(emb.data).toHaveLength(2);
    const models = await openai.models.list();
    const ids = models.data.map((m) => m.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        'cerebras/double-small',
        'mistral/double-large',
        'groq/double-small',
        'openai/double-small',
      ]),
    );
    expect(ids).not.toContain('xai/double-small'); // no key, no fallback
  });

  it('uses the org key, then the env key, per the resolution order', async () => {
    const org = await openai.chat.completions
      .create({ model: 'groq/llama', messages: [] })
      .withResponse();
    expect(org.response.headers.get('x-byok-key-source')).toBe('org');
    expect(last().key).toBe(KEYS.groqOrg);
    expect(last().path).toBe('/openai/v1/chat/completions');

    const env = await openai.chat.completions
      .create({ model: 'openai/gpt-4o', messages: [] })
      .withResponse();
    expect(env.response.headers.get('x-byok-key-source')).toBe('env');
    expect(last().key).toBe(KEYS.openaiEnv);

    const bob = new OpenAI({ apiKey: jwt('bob'), baseURL: `${app.url}/v1`, maxRetries: 0 });
    await expect(
      bob.chat.completions.create({ model: 'cerebras/x', messages: [] }),
    ).rejects.toMatchObject({
      status: 400,
      code: 'provider_key_missing',
    });
  });

  it('never falls back to an env key the provider does not allow (anthropic)', async () => {
    const bob = new ApiClient(app.url, jwt('bob'));
    const res = await bob.post('/proxy/anthropic/v1/messages', {
      model: 'claude',
      max_tokens: 5,
      messages: [],
    });
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: { code: 'provider_key_missing' } });
    expect((res.json as { error: { message: string } }).error.message).toContain(
      'POST /api/user/api-keys',
    );
    expect(double.requests).toHaveLength(0);
  });

  it('Anthropic SDK through /proxy/anthropic, plain and streaming', async () => {
    const anthropic = new Anthropic({
      apiKey: aliceJwt,
      baseURL: `${app.url}/proxy/anthropic`,
      maxRetries: 0,
    });
    const msg = await anthropic.messages.create({
      model: 'claude-x',
      max_tokens: 16,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(msg.content[0]).toMatchObject({ type: 'text', text: 'Hello from the upstream double' });
    expect(last().headers['x-api-key']).toBe(KEYS.anthropic);
    expect(last().headers.authorization).toBeUndefined();
    expect(last().headers['anthropic-version']).toBeDefined();

    const stream = anthropic.messages.stream({
      model: 'claude-x',
      max_tokens: 16,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const final = await stream.finalMessage();
    expect(final.content[0]).toMatchObject({ text: 'Hello from the upstream double' });
  });

  it('Cerebras SDK with baseURL <proxy>/proxy/cerebras', async () => {
    const cerebras = new Cerebras({
      apiKey: aliceJwt,
      baseURL: `${app.url}/proxy/cerebras`,
      maxRetries: 0,
      warmTCPConnection: false,
    });
    const res = (await cerebras.chat.completions.create({
      model: 'llama-3.3-70b',
      messages: [{ role: 'user', content: 'hi' }],
    })) as { choices: { message: { content: string } }[] };
    expect(res.choices[0].message.content).toBe('Hello from the upstream double');
    expect(last().key).toBe(KEYS.cerebras);
  });

  it('fails over from a rejected key to the next within one request and marks it invalid', async () => {
    double.rejectKey(KEYS.mistralA);
    const r = await openai.chat.completions
      .create({ model: 'mistral/small', messages: [] })
      .withResponse();
    expect(r.response.headers.get('x-byok-key-source')).toBe('user');
    const chats = double.requests.filter((q) => q.path.endsWith('/chat/completions'));
    expect(chats.map((q) => q.key)).toEqual([KEYS.mistralA, KEYS.mistralB]);
    // Marked invalid once the provider's verify request confirms the key itself is refused.
    await eventually(async () => {
      const keys = await api.get('/api/user/api-keys');
      const first = (
        keys.json as { data: { keyName: string; provider: string; status: string }[] }
      ).data.find((k) => k.provider === 'mistral' && k.keyName === 'first');
      expect(first?.status).toBe('invalid');
    });
    double.reset();
    await openai.chat.completions.create({ model: 'mistral/small', messages: [] });
    expect(double.requests.map((q) => q.key)).toEqual([KEYS.mistralB]); // skipped until verified
  });

  it('fails over on 429; when every key is limited the provider 429 and retry-after come back', async () => {
    double.rateLimitKey(KEYS.togetherA, 7);
    await openai.chat.completions.create({ model: 'together/m', messages: [] });
    expect(double.requests.map((q) => q.key)).toEqual([KEYS.togetherA, KEYS.togetherB]);
    double.rateLimitKey(KEYS.togetherB, 9);
    const res = await api.post('/v1/chat/completions', { model: 'together/m', messages: [] });
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe('9');
    expect(res.headers['x-byok-key-source']).toBe('user');
    // Two moves to the next key: A's 429 on each request (B's last 429 was passed on).
    const metrics = await fetch(`${app.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/^byok_key_failovers_total\{provider="together",status="429"\} 2$/m);
  });

  it('a key rejected with no other candidate gives provider_key_rejected naming it', async () => {
    double.rejectKey(KEYS.anthropic);
    const res = await api.post(
      '/proxy/anthropic/v1/messages',
      { model: 'c', max_tokens: 5, messages: [] },
      { 'anthropic-version': '2023-06-01' },
    );
    expect(res.status).toBe(401);
    const err = (res.json as { error: { code: string; message: string } }).error;
    expect(err.code).toBe('provider_key_rejected');
    expect(err.message).toContain('"personal"');
    expect(err.message).toContain('…0005');
    expect(err.message).toMatch(/rotate/);
    expect(res.text).not.toContain(KEYS.anthropic);
    // The provider's verify request confirms it (and the key is marked invalid) off the request.
    await eventually(() => expect(double.requests.at(-1)?.path).toMatch(/\/models$/));
  });

  it('a client that disconnects aborts the upstream request at once', async () => {
    let closedAt = 0;
    let chunks = 0;
    double.nextResponse(async (_req, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.on('close', () => (closedAt = Date.now()));
      const events = chatChunks(
        'm',
        Array.from({ length: 50 }, (_, i) => `w${i}`),
      );
      for (const e of events) {
        if (res.destroyed) return;
        res.write(e);
        chunks++;
        await sleep(100);
      }
      res.end();
    });
    const controller = new AbortController();
    const res = await fetch(`${app.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${aliceJwt}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'cerebras/x', stream: true }),
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    const abortedAt = Date.now();
    controller.abort();
    for (let i = 0; i < 40 && !closedAt; i++) await sleep(25);
    expect(closedAt).toBeGreaterThan(0);
    expect(closedAt - abortedAt).toBeLessThan(1000);
    expect(chunks).toBeLessThan(20);
  });

  it('an upstream that drops mid-stream reaches the SDK as an error, not a clean finish', async () => {
    double.nextResponse(respond.dropMidStream(2));
    const stream = await openai.chat.completions.create({
      model: 'cerebras/x',
      messages: [],
      stream: true,
    });
    const consume = async () => {
      for await (const _ of stream) void _;
    };
    await expect(consume()).rejects.toThrow();
  });

  it('records usage rows with the tokens the upstream reported, streamed or not', async () => {
    const recorder = app.app.get(UsageRecorder);
    await recorder.flush();
    const db = app.app.get(DataSource);
    await db.query('DELETE FROM usage_events');
    await openai.chat.completions.create({
      model: 'cerebras/plain',
      messages: [{ role: 'user', content: 'count me' }],
    });
    const s = await openai.chat.completions.create({
      model: 'cerebras/streamed',
      messages: [],
      stream: true,
    });
    for await (const _ of s) void _;
    await recorder.flush();
    const rows = await db.query<
      {
        model: string;
        prompt_tokens: number;
        completion_tokens: number;
        owner_type: string;
        key_id: string | null;
        operation: string;
      }[]
    >(
      'SELECT model, status, prompt_tokens, completion_tokens, owner_type, key_id, provider, operation FROM usage_events ORDER BY id',
    );
    expect(rows).toHaveLength(2);
    expect(rows.map((r) => r.model)).toEqual(['plain', 'streamed']);
    for (const r of rows) {
      expect(r).toMatchObject({
        owner_type: 'user',
        provider: 'cerebras',
        operation: 'chat',
        completion_tokens: 5,
      });
      expect(r.prompt_tokens).toBeGreaterThan(0);
      expect(r.key_id).toEqual(expect.any(String));
    }
    const metrics = await fetch(`${app.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(
      /gen_ai_client_token_usage_count\{[^}]*gen_ai_provider_name="cerebras"[^}]*gen_ai_token_type="output"\} \d+/,
    );
    expect(metrics).toMatch(
      /byok_proxy_requests_total\{provider="cerebras",status="200",key_source="user"\} \d+/,
    );
    const keys = await api.get('/api/user/api-keys/cerebras');
    expect(
      (keys.json as { data: { lastUsedAt: string | null }[] }).data[0].lastUsedAt,
    ).not.toBeNull();
  });

  it('an access token can proxy within its provider scope only', async () => {
    const created = await api.post('/api/user/tokens', { name: 'cli', providers: ['cerebras'] });
    const token = (created.json as { token: string }).token;
    const viaToken = new OpenAI({ apiKey: token, baseURL: `${app.url}/v1`, maxRetries: 0 });
    await viaToken.chat.completions.create({ model: 'cerebras/x', messages: [] });
    expect(JSON.stringify(last().headers)).not.toContain(token);
    await expect(
      viaToken.chat.completions.create({ model: 'mistral/x', messages: [] }),
    ).rejects.toMatchObject({
      status: 403,
      code: 'forbidden',
    });
    const xApiKey = await fetch(`${app.url}/proxy/cerebras/v1/chat/completions`, {
      method: 'POST',
      headers: { 'x-api-key': token, 'content-type': 'application/json' },
      body: '{"model":"x"}',
    });
    expect(xApiKey.status).toBe(200);
  });

  it('writes one access line per request through the logger: who, where, which key, bytes', async () => {
    const accessLines = (reqId: string) =>
      app.logs
        .flatMap((chunk) => chunk.split('\n'))
        .filter((l) => l.includes(`"reqId":"${reqId}"`) && l.includes('"msg":"request"'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    const reqId = `access-${mode.name.replace(/\W+/g, '-')}`;
    const res = await fetch(`${app.url}/v1/chat/completions?note=not-logged`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${aliceJwt}`,
        'content-type': 'application/json',
        'x-request-id': reqId,
      },
      body: JSON.stringify({ model: 'cerebras/llama-3.3-70b', messages: [] }),
    });
    const text = await res.text();
    expect(res.status).toBe(200);
    const [line, ...more] = await eventually(() => {
      const found = accessLines(reqId);
      expect(found.length).toBeGreaterThan(0);
      return found;
    });
    expect(more).toHaveLength(0);
    expect(line).toMatchObject({
      level: 30,
      method: 'POST',
      path: '/v1/chat/completions',
      status: 200,
      caller: 'alice',
      provider: 'cerebras',
      model: 'llama-3.3-70b',
      keySource: 'user',
      keyHint: `…${KEYS.cerebras.slice(-4)}`,
      bytesOut: Buffer.byteLength(text),
    });
    expect(line.bytesIn).toBeGreaterThan(0);
    expect(typeof line.ms).toBe('number');
    expect(JSON.stringify(line)).not.toContain('not-logged');

    // Every other route gets its line from the same logger.
    const apiId = `${reqId}-api`;
    const listed = await fetch(`${app.url}/api/providers`, {
      headers: { authorization: `Bearer ${aliceJwt}`, 'x-request-id': apiId },
    });
    expect(listed.status).toBe(200);
    const [apiLine] = await eventually(() => {
      const found = accessLines(apiId);
      expect(found).toHaveLength(1);
      return found;
    });
    expect(apiLine).toMatchObject({ method: 'GET', path: '/api/providers', status: 200 });
    expect(apiLine.provider).toBeUndefined();
  });

  it('no raw key reached a client or the log', () => {
    const all = Object.values(KEYS);
    for (const ex of api.seen) for (const k of all) expect(ex.text).not.toContain(k);
    const logs = app.logs.join('\n');
    for (const k of all) expect(logs).not.toContain(k);
  });
});
