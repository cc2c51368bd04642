import Anthropic from '@anthropic-ai/sdk';
import Cerebras from '@cerebras/cerebras_cloud_sdk';
import OpenAI from 'openai';
import { respond, startUpstreamDouble, type UpstreamDouble } from '../../helpers/upstream-double';

// The double is a test helper, but e2e tests and benchmarks trust it: check its shapes against
// the official SDKs and each scripted behaviour. It only listens on 127.0.0.1.
describe('upstream double', () => {
  let double: UpstreamDouble;
  const openai = (apiKey = 'sk-good-0001'): OpenAI =>
    new OpenAI({ apiKey, baseURL: `${double.url}/v1`, maxRetries: 0 });

  beforeAll(async () => {
    double = await startUpstreamDouble();
  });
  afterEach(() => double.reset());
  afterAll(() => double.close());

  it('answers the OpenAI SDK: chat, streamed chat with usage, embeddings, models', async () => {
    const client = openai();
    const chat = await client.chat.completions.create({
      model: 'llama',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(chat.choices[0].message.content).toBe('Hello from the upstream double');
    expect(chat.model).toBe('llama');
    expect(chat.usage?.completion_tokens).toBe(5);

    const stream = await client.chat.completions.create({
      model: 'llama',
      messages: [],
      stream: true,
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      usage ??= chunk.usage;
    }
    expect(text).toBe('Hello from the upstream double');
    expect(usage).toMatchObject({ completion_tokens: 5 });

    const emb = await client.embeddings.create({ model: 'e', input: ['a', 'b'] });
    expect(emb.data).toHaveLength(2);
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['double-small', 'double-large']);

    expect(double.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /v1/chat/completions',
      'POST /v1/chat/completions',
      'POST /v1/embeddings',
      'GET /v1/models',
    ]);
    expect(double.requests[0]).toMatchObject({ key: 'sk-good-0001', json: { model: 'llama' } });
    expect(double.keyOf(double.requests[0])).toBe('sk-good-0001');
  });

  it('answers the Anthropic SDK: message, streamed message, models', async () => {
    const client = new Anthropic({ apiKey: 'sk-ant-0001', baseURL: double.url, maxRetries: 0 });
    const msg = await client.messages.create({
      model: 'claude',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(msg.content).toEqual([{ type: 'text', text: 'Hello from the upstream double' }]);
    const final = await client.messages
      .stream({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
      .finalMessage();
    expect(final.content).toEqual([{ type: 'text', text: 'Hello from the upstream double' }]);
    expect(final.usage.output_tokens).toBe(5);
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(['double-small', 'double-large']);
    // @anthropic-ai/sdk 1.x sends apiKey as a bearer token; keyOf reads either style.
    expect(double.requests[0].key).toBe('sk-ant-0001');
    await fetch(`${double.url}/v1/models`, { headers: { 'x-api-key': 'sk-ant-0002' } });
    expect(double.requests.at(-1)?.key).toBe('sk-ant-0002');
  });

  it('answers the Cerebras SDK', async () => {
    const client = new Cerebras({
      apiKey: 'csk-0001',
      baseURL: double.url,
      maxRetries: 0,
      warmTCPConnection: false,
    });
    const chat = (await client.chat.completions.create({
      model: 'llama',
      messages: [{ role: 'user', content: 'hi' }],
    })) as { choices: { message: { content: string } }[] };
    expect(chat.choices[0].message.content).toBe('Hello from the upstream double');
  });

  it('rejects and rate-limits keys in any auth style', async () => {
    double.rejectKey('sk-bad');
    double.rateLimitKey('sk-busy', 7);
    await expect(openai('sk-bad').models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    const limited = await openai('sk-busy')
      .models.list()
      .catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect((limited as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after')).toBe(
      '7',
    );
    const anthropic = new Anthropic({ apiKey: 'sk-bad', baseURL: double.url, maxRetries: 0 });
    await expect(
      anthropic.messages.create({ model: 'c', max_tokens: 1, messages: [] }),
    ).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
    const azure = await fetch(`${double.url}/v1/models`, { headers: { 'api-key': 'sk-bad' } });
    expect(azure.status).toBe(401);
    expect(await azure.json()).toMatchObject({ error: { code: 'invalid_api_key' } });
    await expect(openai('sk-fine').models.list()).resolves.toBeDefined();
  });

  it('scripts the next response once, and routes by path until reset', async () => {
    double.nextResponse(respond.status(500));
    await expect(openai().models.list()).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    await expect(openai().models.list()).resolves.toBeDefined();
    double.on('/chat/completions', respond.echoKey());
    const err = await openai('sk-echo-me-1234')
      .chat.completions.create({ model: 'm', messages: [] })
      .catch((e: unknown) => e);
    expect((err as Error).message).toContain('sk-echo-me-1234');
    double.reset();
    await expect(
      openai().chat.completions.create({ model: 'm', messages: [] }),
    ).resolves.toBeDefined();
    double.on(/^\/custom\/\d+$/, respond.status(418, 'teapot'));
    expect((await fetch(`${double.url}/custom/42`)).status).toBe(418);
    expect((await fetch(`${double.url}/nowhere`)).status).toBe(404);
  });

  it('streams the key split across two socket writes when asked to', async () => {
    double.nextResponse(respond.echoKeyInStream());
    const res = await fetch(`${double.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-split-key-5678' },
    });
    const reader = res.body!.getReader();
    const parts: string[] = [];
    for (let r = await reader.read(); !r.done; r = await reader.read())
      parts.push(Buffer.from(r.value).toString());
    expect(parts[0]).toMatch(/Your key is sk-split$/);
    expect(parts[1]).toMatch(/^-key-5678"/);
    expect(parts.join('')).toContain('"content":"Your key is sk-split-key-5678"');
  });

  it('delays stream chunks by chunkDelayMs', async () => {
    double.options.chunkDelayMs = 30;
    const t0 = Date.now();
    const res = await fetch(`${double.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ stream: true }),
    });
    await res.text();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(7 * 30 - 10); // 8 events, 7 gaps
  });

  it('stalls before headers, stalls or drops mid-stream, and redirects', async () => {
    double.nextResponse(respond.stallHeaders());
    await expect(
      fetch(`${double.url}/v1/models`, { signal: AbortSignal.timeout(100) }),
    ).rejects.toThrow();

    double.nextResponse(respond.stallMidStream(1));
    const stalled = await fetch(`${double.url}/v1/chat/completions`, {
      method: 'POST',
      signal: AbortSignal.timeout(300),
    });
    expect(stalled.headers.get('content-type')).toBe('text/event-stream');
    await expect(stalled.text()).rejects.toThrow();

    double.nextResponse(respond.dropMidStream(2));
    const dropped = await fetch(`${double.url}/v1/chat/completions`, { method: 'POST' });
    expect(dropped.status).toBe(200);
    await expect(dropped.text()).rejects.toThrow();

    double.nextResponse(respond.redirect('http://evil.example/steal'));
    const redirected = await fetch(`${double.url}/v1/models`, { redirect: 'manual' });
    expect(redirected.status).toBe(302);
    expect(redirected.headers.get('location')).toBe('http://evil.example/steal');
  });

  it('closes even with a stalled connection open', async () => {
    const other = await startUpstreamDouble();
    other.nextResponse(respond.stallHeaders());
    const pending = fetch(`${other.url}/v1/models`).catch((e: unknown) => e);
    while (other.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    await other.close();
    expect(String(await pending)).toMatch(/fetch failed/); // its TypeError is from another realm
  });
});
