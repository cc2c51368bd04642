import OpenAI from 'openai';
import { eventually } from '../helpers/eventually';
import { ApiClient } from '../helpers/http';
import { STORE_MODES, testJwt as jwt } from '../helpers/modes';
import { startStack, type Stack } from '../helpers/start-stack';
import { chatChunks, respond, sendJson } from '../helpers/upstream-double';

const OUTPUT = 100;

/** Token limits reserved at admission, streams always counted, budgets that price every model. */
describe.each(STORE_MODES)('limits that hold: $name', (mode) => {
  let stack: Stack;
  let admin: ApiClient;

  beforeAll(async () => {
    stack = await startStack({ mode });
    admin = new ApiClient(stack.url, jwt('root', { byok_admin: true }));
  });
  afterAll(async () => {
    await stack?.close();
  });
  beforeEach(() => stack.double.reset());

  async function user(sub: string, limits: Record<string, number>): Promise<ApiClient> {
    expect((await admin.call('PUT', `/api/admin/users/${sub}/limits`, limits)).status).toBe(200);
    const client = admin.as(jwt(sub));
    const saved = await client.post('/api/user/api-keys', {
      provider: 'cerebras',
      keyName: 'k',
      apiKey: `csk-${sub}-000000000000000000000000`,
    });
    expect(saved.status).toBe(201);
    return client;
  }

  const chat = (client: ApiClient, extra: Record<string, unknown> = {}) =>
    client.post('/v1/chat/completions', {
      model: 'cerebras/llama-3.3-70b',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: OUTPUT,
      ...extra,
    });

  it('reserves tokens at admission: a concurrent burst overshoots by at most one request', async () => {
    // Every answer reports the most the request could use: a token per 4 bytes of prompt (what
    // the proxy estimates), and all of max_tokens.
    let perRequest = 0;
    stack.double.on('/chat/completions', (req, res) => {
      const prompt = Math.ceil(req.body.length / 4);
      perRequest = prompt + OUTPUT;
      sendJson(res, 200, {
        id: 'x',
        object: 'chat.completion',
        model: 'llama-3.3-70b',
        choices: [
          { index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' },
        ],
        usage: { prompt_tokens: prompt, completion_tokens: OUTPUT, total_tokens: perRequest },
      });
    });
    const limit = 1500;
    const client = await user('burst-tokens', { tokensPerDay: limit });
    const statuses = await Promise.all(
      Array.from({ length: 30 }, () => chat(client).then((r) => r.status)),
    );
    const served = statuses.filter((s) => s === 200).length;
    expect(statuses.filter((s) => s !== 200).every((s) => s === 429)).toBe(true);
    // Without reservations all 30 pass: about 4,000 tokens against a limit of 1,500.
    expect(served).toBeGreaterThan(0);
    expect(served * perRequest).toBeLessThanOrEqual(limit + perRequest);
  });

  it('settles a reservation to nothing when the exchange fails or the client goes away', async () => {
    const client = await user('settles', { tokensPerDay: 1000 });
    // Each request reserves about 400 tokens; ten failures would spend the day three times over.
    stack.double.on('/chat/completions', respond.status(500, 'upstream broke'));
    for (let i = 0; i < 10; i++) expect((await chat(client, { max_tokens: 400 })).status).toBe(500);
    stack.double.reset();
    stack.double.options.chunkDelayMs = 200;
    for (let i = 0; i < 3; i++) {
      const controller = new AbortController();
      const res = await fetch(`${stack.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${jwt('settles')}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'cerebras/x', stream: true, max_tokens: 400, messages: [] }),
        signal: controller.signal,
      });
      await res.body!.getReader().read();
      controller.abort();
    }
    stack.double.reset();
    await eventually(async () =>
      expect((await chat(client, { max_tokens: 400 })).status).toBe(200),
    );
  });

  it('counts streams whose client did not ask for usage, without showing it the usage chunk', async () => {
    const client = await user('streams', { tokensPerDay: 1_000_000 });
    const openai = new OpenAI({
      baseURL: `${stack.url}/v1`,
      apiKey: jwt('streams'),
      maxRetries: 0,
    });
    // Like OpenAI: a usage chunk only when stream_options.include_usage is set.
    stack.double.on('/chat/completions', async (req, res) => {
      const asked = (req.json?.stream_options as { include_usage?: boolean } | undefined)
        ?.include_usage;
      const events = chatChunks('llama-3.3-70b', ['counted', 'stream'], 7);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const e of events) if (asked || !e.includes('"usage"')) res.write(e);
      res.end();
      await Promise.resolve();
    });
    const stream = await openai.chat.completions.create({
      model: 'cerebras/llama-3.3-70b',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    const seen: string[] = [];
    for await (const chunk of stream) seen.push(chunk.choices[0].delta.content ?? ''); // never empty choices
    expect(seen.join('')).toBe('counted stream');
    const sent = stack.double.requests.at(-1)!.json!;
    expect(sent.stream_options).toEqual({ include_usage: true });

    // A client that asked gets the usage chunk exactly as the provider sent it.
    const asked = await openai.chat.completions.create({
      model: 'cerebras/llama-3.3-70b',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const usage: unknown[] = [];
    for await (const chunk of asked) if (chunk.usage) usage.push(chunk.usage);
    expect(usage).toEqual([{ prompt_tokens: 7, completion_tokens: 2, total_tokens: 9 }]);

    // Both streams were counted: 9 tokens each.
    await eventually(async () => {
      const res = await client.get('/api/user/usage?groupBy=provider');
      const rows = (res.json as { data: { promptTokens: number; completionTokens: number }[] })
        .data;
      expect(rows[0]).toMatchObject({ promptTokens: 14, completionTokens: 4 });
    });
  });

  it('refuses an unpriced model under a budget, naming the model and the fix', async () => {
    const client = await user('budgeted', { monthlyBudgetUsd: 5 });
    const res = await client.post('/v1/chat/completions', {
      model: 'cerebras/some-unpriced-model',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(res.status).toBe(400);
    const err = (res.json as { error: { code: string; message: string } }).error;
    expect(err.code).toBe('model_unpriced');
    expect(err.message).toContain('some-unpriced-model');
    expect(err.message).toMatch(/PRICES_FILE|PRICE_FALLBACK_USD_PER_MTOK/);
    expect(stack.double.requests).toHaveLength(0);
    expect((await chat(client)).status).toBe(200); // a priced model is fine
  });
});

describe('PRICE_FALLBACK_USD_PER_MTOK', () => {
  it('charges unpriced models at the fallback price under a budget', async () => {
    const stack = await startStack({ env: { PRICE_FALLBACK_USD_PER_MTOK: '1000000' } });
    try {
      const admin = new ApiClient(stack.url, jwt('root', { byok_admin: true }));
      await admin.call('PUT', '/api/admin/users/fallback/limits', { monthlyBudgetUsd: 50 });
      const client = admin.as(jwt('fallback'));
      await client.post('/api/user/api-keys', {
        provider: 'cerebras',
        keyName: 'k',
        apiKey: 'csk-fallback-00000000000000000000000',
      });
      const ask = () =>
        client.post('/v1/chat/completions', {
          model: 'cerebras/some-unpriced-model',
          messages: [{ role: 'user', content: 'hi' }],
          max_tokens: 5,
        });
      // At US$1 a token, the budget of 50 covers a few requests of ~12 tokens, then is spent.
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) statuses.push((await ask()).status);
      expect(statuses[0]).toBe(200);
      expect(statuses).toContain(429);
    } finally {
      await stack.close();
    }
  });
});
