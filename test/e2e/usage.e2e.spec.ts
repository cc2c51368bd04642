import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { DataSource } from 'typeorm';
import { UsageRollup } from '../../src/usage/usage-rollup';
import { ApiClient } from '../helpers/http';
import { STORE_MODES, testJwt } from '../helpers/modes';
import type { RunningApp } from '../helpers/start-app';
import { startStack, type Stack } from '../helpers/start-stack';
import { respond, type UpstreamDouble } from '../helpers/upstream-double';

const jwt = testJwt;

interface Row {
  group: string;
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  cost: number | null;
  currency: string;
}
interface Report {
  data: Row[];
  from: string;
  to: string;
  groupBy: string;
}
interface Tokens {
  prompt: number;
  completion: number;
}

// USD per 1M tokens: llama-3.3-70b from the built-in table, gpt-4o-mini overridden by PRICES_FILE.
const LLAMA = { input: 0.85, output: 1.2 };
const MINI = { input: 1000, output: 2000 };
const cost = (t: Tokens, p: { input: number; output: number }) =>
  (t.prompt * p.input + t.completion * p.output) / 1e6;
const add = (a: Tokens, b: Tokens): Tokens => ({
  prompt: a.prompt + b.prompt,
  completion: a.completion + b.completion,
});

describe.each(STORE_MODES)('usage API end to end: $name', (mode) => {
  let stack: Stack | undefined;
  let app: RunningApp;
  let double: UpstreamDouble;
  let alice: ApiClient;
  let keyId: string;
  const priceDir = mkdtempSync(join(tmpdir(), 'byok-prices-'));
  const tokens: Record<string, Tokens> = {};

  /** Sends one chat request through the proxy with the OpenAI SDK; returns the reported usage. */
  async function chat(client: OpenAI, model: string, stream: boolean): Promise<Tokens> {
    const messages = [{ role: 'user' as const, content: `count me (${model}, ${stream})` }];
    if (!stream) {
      const r = await client.chat.completions.create({ model, messages });
      return { prompt: r.usage!.prompt_tokens, completion: r.usage!.completion_tokens };
    }
    let usage: Tokens | undefined;
    // A client that wants the usage chunk asks for it (the proxy asks on everyone's behalf and
    // hides it from those who did not).
    const options = { include_usage: true };
    for await (const chunk of await client.chat.completions.create({
      model,
      messages,
      stream,
      stream_options: options,
    }))
      if (chunk.usage)
        usage = { prompt: chunk.usage.prompt_tokens, completion: chunk.usage.completion_tokens };
    return usage!;
  }

  beforeAll(async () => {
    const pricesFile = join(priceDir, 'prices.yaml');
    writeFileSync(
      pricesFile,
      'openai:\n  - { model: gpt-4o-mini, match: prefix, input: 1000, output: 2000 }\n',
    );
    stack = await startStack({
      mode,
      env: { OPENAI_API_KEY: 'sk-operator-env-key-usage', PRICES_FILE: pricesFile },
    });
    ({ app, double } = stack);
    const aliceJwt = jwt('alice', { org_id: 'acme', org_role: 'member' });
    alice = new ApiClient(app.url, aliceJwt);
    const saved = await alice.post('/api/user/api-keys', {
      ...{ provider: 'cerebras', keyName: 'personal', apiKey: 'csk-alice-usage-key-0001' },
    });
    keyId = (saved.json as { id: string }).id;
    const daveJwt = jwt('dave', { org_id: 'acme', org_role: 'admin' });
    await alice
      .as(daveJwt)
      .post('/api/org/api-keys', { provider: 'groq', keyName: 'team', apiKey: 'gsk-org-0002' });

    const sdk = (token: string) =>
      new OpenAI({ apiKey: token, baseURL: `${app.url}/v1`, maxRetries: 0 });
    const a = sdk(aliceJwt);
    tokens.llama = add(
      await chat(a, 'cerebras/llama-3.3-70b', false),
      await chat(a, 'cerebras/llama-3.3-70b', true),
    );
    tokens.mystery = await chat(a, 'cerebras/mystery-model', false);
    tokens.mini = add(
      await chat(a, 'openai/gpt-4o-mini-2024-07-18', false),
      await chat(a, 'openai/gpt-4o-mini-2024-07-18', true),
    );
    tokens.org = await chat(a, 'groq/llama-3.3-70b-versatile', true);
    tokens.bob = await chat(sdk(jwt('bob')), 'openai/gpt-4o-mini', false);
    double.nextResponse(respond.status(500));
    const failed = await alice.post('/v1/chat/completions', {
      model: 'cerebras/llama-3.3-70b',
      messages: [],
    });
    expect(failed.status).toBe(500);
  });

  afterAll(async () => {
    await stack?.close();
    rmSync(priceDir, { recursive: true, force: true });
  });

  const report = async (query: string, client = alice): Promise<Report> => {
    const res = await client.get(`/api/user/usage${query}`);
    expect(res.status).toBe(200);
    return res.json as Report;
  };

  it('per model: the tokens the upstream reported, streamed or not, priced from the table', async () => {
    expect(tokens.llama.prompt).toBeGreaterThan(0);
    expect(tokens.llama.completion).toBe(10); // five words, twice
    const { data, groupBy } = await report('?groupBy=model');
    expect(groupBy).toBe('model');
    const byGroup = Object.fromEntries(data.map((r) => [r.group, r]));
    expect(Object.keys(byGroup).sort()).toEqual([
      'cerebras/llama-3.3-70b',
      'cerebras/mystery-model',
      'openai/gpt-4o-mini-2024-07-18',
    ]);
    expect(byGroup['cerebras/llama-3.3-70b']).toMatchObject({
      requests: 3,
      errors: 1,
      promptTokens: tokens.llama.prompt,
      completionTokens: tokens.llama.completion,
      currency: 'USD',
    });
    expect(byGroup['cerebras/llama-3.3-70b'].cost).toBeCloseTo(cost(tokens.llama, LLAMA), 9);
    expect(byGroup['openai/gpt-4o-mini-2024-07-18']).toMatchObject({
      requests: 2,
      errors: 0,
      promptTokens: tokens.mini.prompt,
      completionTokens: tokens.mini.completion,
    });
    expect(byGroup['openai/gpt-4o-mini-2024-07-18'].cost).toBeCloseTo(cost(tokens.mini, MINI), 9);
    expect(byGroup['cerebras/mystery-model']).toMatchObject({
      requests: 1,
      promptTokens: tokens.mystery.prompt,
      cost: null,
    });
  });

  it('per key, provider and day the same totals; an unpriced model makes its group null', async () => {
    const total = (r: Report) =>
      r.data.reduce(
        (t, row) => ({
          requests: t.requests + row.requests,
          tokens: t.tokens + row.promptTokens + row.completionTokens,
        }),
        { requests: 0, tokens: 0 },
      );
    const byModel = await report('?groupBy=model');
    const byKey = await report('?groupBy=key');
    expect(byKey.data.map((r) => r.group).sort()).toEqual(['env:openai', keyId].sort());
    expect(byKey.data.find((r) => r.group === 'env:openai')?.cost).toBeCloseTo(
      cost(tokens.mini, MINI),
      9,
    );
    const byProvider = await report('?groupBy=provider');
    expect(byProvider.data.find((r) => r.group === 'cerebras')?.cost).toBeNull();
    const byDay = await report('');
    expect(byDay.groupBy).toBe('day');
    expect(byDay.data.map((r) => r.group)).toEqual([new Date().toISOString().slice(0, 10)]);
    for (const r of [byKey, byProvider, byDay]) expect(total(r)).toEqual(total(byModel));
    expect(new Date(byDay.to).getTime() - new Date(byDay.from).getTime()).toBe(30 * 86_400_000);
  });

  it("org admins read the org keys' usage; members get 403; admins read anyone's", async () => {
    const dave = alice.as(jwt('dave', { org_id: 'acme', org_role: 'admin' }));
    const org = await report('?scope=org&groupBy=provider', dave);
    expect(org.data).toEqual([
      expect.objectContaining({
        group: 'groq',
        requests: 1,
        promptTokens: tokens.org.prompt,
        completionTokens: tokens.org.completion,
      }),
    ]);
    const member = await alice.get('/api/user/usage?scope=org');
    expect(member.status).toBe(403);
    expect(member.headers['content-type']).toContain('application/problem+json');
    expect((await alice.get('/api/user/usage?ownerType=user&ownerId=bob')).status).toBe(403);

    const admin = alice.as(jwt('root', { byok_admin: true }));
    const asAdmin = await report('?groupBy=model&ownerType=user&ownerId=alice', admin);
    expect(asAdmin.data).toEqual((await report('?groupBy=model')).data);
    const env = await report('?groupBy=provider&ownerType=env', admin);
    expect(env.data).toEqual([
      expect.objectContaining({
        group: 'openai',
        requests: 3,
        promptTokens: tokens.mini.prompt + tokens.bob.prompt,
      }),
    ]);
    expect((await admin.get('/api/user/usage?ownerType=org')).status).toBe(400);
  });

  it('an access token may read it', async () => {
    const created = await alice.post('/api/user/tokens', { name: 'reader' });
    const token = (created.json as { token: string }).token;
    expect((await report('?groupBy=model', alice.as(token))).data).toEqual(
      (await report('?groupBy=model')).data,
    );
  });

  it('bad queries get 400 validation_failed naming the field', async () => {
    const cases: [string, RegExp][] = [
      ['?groupBy=week', /groupBy must be one of key, provider, model, day/],
      ['?from=2026-02-30', /from must be an ISO 8601 date/],
      ['?to=yesterday', /to must be an ISO 8601 date/],
      ['?from=2026-11-02T10:00', /from must be an ISO 8601 date/],
      ['?from=2026-11-10&to=2026-11-01', /from .* must be before to/],
      ['?scope=team', /scope must be user or org/],
      ['?colour=red', /property colour should not exist/],
    ];
    for (const [query, message] of cases) {
      const res = await alice.get(`/api/user/usage${query}`);
      expect(res.status).toBe(400);
      expect(res.json).toMatchObject({
        code: 'validation_failed',
        detail: expect.stringMatching(message) as unknown,
      });
    }
  });

  it('rows compacted into daily rollups still count', async () => {
    const db = app.app.get(DataSource);
    const old = new Date(Date.now() - 100 * 86_400_000);
    await db.query(
      `INSERT INTO usage_events (created_at, caller_sub, owner_type, owner_id, key_id, provider, model, operation, status, latency_ms, prompt_tokens, completion_tokens, request_id, event_id)
       VALUES ($1, 'alice', 'user', 'alice', $2, 'cerebras', 'llama-3.3-70b', 'chat', 200, 5, 1000, 2000, 'old', gen_random_uuid())`,
      [old, keyId],
    );
    const day = old.toISOString().slice(0, 10);
    const query = `?groupBy=day&from=${day}&to=${new Date().toISOString().slice(0, 10)}`;
    const before = await report(query);
    expect(before.data[0]).toMatchObject({
      group: day,
      promptTokens: 1000,
      completionTokens: 2000,
    });
    expect(await app.app.get(UsageRollup).run()).toMatchObject({ locked: true, events: 1 });
    expect((await db.query('SELECT count(*)::int AS n FROM usage_daily')) as unknown).toEqual([
      { n: 1 },
    ]);
    expect(await report(query)).toEqual(before);
  });
});
