import { ApiClient } from '../helpers/http';
import { POSTGRES_VAULT, STORE_MODES, testJwt } from '../helpers/modes';
import { startApp, type RunningApp } from '../helpers/start-app';
import { startRedis, type RedisServer } from '../helpers/start-redis';
import { startStack, type Stack } from '../helpers/start-stack';
import type { UpstreamDouble } from '../helpers/upstream-double';

const jwt = testJwt;
/** Limits use wall-clock minute windows: start a burst well inside one so it cannot straddle two. */
async function awayFromMinuteEdge(): Promise<void> {
  const intoMinute = Date.now() % 60_000;
  if (intoMinute > 55_000) await new Promise((r) => setTimeout(r, 60_500 - intoMinute));
}

const chat = { model: 'cerebras/llama', messages: [{ role: 'user', content: 'hi' }] };

describe.each(STORE_MODES)('limits: $name', (mode) => {
  let stack: Stack | undefined;
  let app: RunningApp;
  let double: UpstreamDouble;
  let admin: ApiClient;

  beforeAll(async () => {
    stack = await startStack({ mode });
    ({ app, double } = stack);
    admin = new ApiClient(app.url, jwt('root', { byok_admin: true }));
  });

  beforeEach(async () => {
    double.reset();
    await awayFromMinuteEdge();
  });

  afterAll(async () => {
    await stack?.close();
  });

  async function userWithKey(sub: string, keys: string[]): Promise<ApiClient> {
    const client = admin.as(jwt(sub));
    for (const [i, apiKey] of keys.entries())
      expect(
        (
          await client.post('/api/user/api-keys', {
            provider: 'cerebras',
            keyName: `k${i}`,
            apiKey,
          })
        ).status,
      ).toBe(201);
    return client;
  }

  it('a burst over the per-minute limit gets 429 with headers; the upstream sees exactly the allowed number', async () => {
    const put = await admin.call('PUT', '/api/admin/users/burst/limits', { requestsPerMinute: 3 });
    expect(put.status).toBe(200);
    expect((await admin.get('/api/admin/users/burst/limits')).json).toMatchObject({
      requestsPerMinute: 3,
      tokensPerDay: null,
    });
    const user = await userWithKey('burst', ['csk-burst-key-0001']);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await user.post('/v1/chat/completions', chat)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429, 429]);
    expect(double.requests).toHaveLength(3);
    const limited = await user.post('/v1/chat/completions', chat);
    expect(limited.json).toMatchObject({
      error: { code: 'rate_limited', type: 'rate_limit_error' },
    });
    expect(limited.headers['x-byok-ratelimit-scope']).toBe('user:requests-per-minute');
    expect(limited.headers['x-byok-ratelimit-limit']).toBe('3');
    expect(limited.headers['x-byok-ratelimit-remaining']).toBe('0');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['x-byok-ratelimit-reset'])).toBeLessThanOrEqual(60);
    const metrics = await fetch(`${app.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/byok_rate_limited_total\{scope="user",limit="rpm"\} 4/);
    expect(metrics).toMatch(
      /byok_usage_tokens_total\{provider="cerebras",key_source="user",token_type="output"\} \d+/,
    );
  });

  it('a key over its own limit is skipped for the next key; when all are spent, 429 scope key', async () => {
    const user = await userWithKey('keyed', ['csk-keyed-first-0001', 'csk-keyed-second-0002']);
    const list = (await user.get('/api/user/api-keys')).json as {
      data: { id: string; keyName: string }[];
    };
    const first = list.data.find((k) => k.keyName === 'k0')!;
    const second = list.data.find((k) => k.keyName === 'k1')!;
    const patched = await user.patch(`/api/user/api-keys/${first.id}`, {
      limits: { requestsPerMinute: 1 },
    });
    expect(patched.json).toMatchObject({ limits: { requestsPerMinute: 1, tokensPerMinute: null } });
    await user.patch(`/api/user/api-keys/${second.id}`, { limits: { requestsPerMinute: 1 } });
    for (let i = 0; i < 2; i++)
      expect((await user.post('/v1/chat/completions', chat)).status).toBe(200);
    expect(double.requests.map((r) => r.key)).toEqual([
      'csk-keyed-first-0001',
      'csk-keyed-second-0002',
    ]);
    const spent = await user.post('/v1/chat/completions', chat);
    expect(spent.status).toBe(429);
    expect(spent.headers['x-byok-ratelimit-scope']).toBe('key:requests-per-minute');
    expect(double.requests).toHaveLength(2);
    const bad = await user.patch(`/api/user/api-keys/${first.id}`, {
      limits: { requestsPerMinute: -1 },
    });
    expect(bad.status).toBe(400);
    expect(
      (await user.patch(`/api/user/api-keys/${first.id}`, { limits: null })).json,
    ).toMatchObject({ limits: null });
  });

  it('token limits count the tokens responses report, streamed ones too', async () => {
    await admin.call('PUT', '/api/admin/users/tokens/limits', { tokensPerMinute: 8 });
    const user = await userWithKey('tokens', ['csk-token-user-0001']);
    const s = await user.post('/v1/chat/completions', { ...chat, stream: true });
    expect(s.status).toBe(200); // the double reports 5 completion tokens + the prompt
    await new Promise((r) => setTimeout(r, 50));
    const res = await user.post('/v1/chat/completions', chat);
    expect(res.status).toBe(429);
    expect(res.headers['x-byok-ratelimit-scope']).toBe('user:tokens-per-minute');
  });

  it('only admins set user limits, and bad values are refused', async () => {
    const user = admin.as(jwt('plain'));
    expect(
      (await user.call('PUT', '/api/admin/users/plain/limits', { requestsPerMinute: 1 })).status,
    ).toBe(403);
    const bad = await admin.call('PUT', '/api/admin/users/x/limits', { requestsPerMinute: 'lots' });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ code: 'validation_failed' });
  });
});

describe('limits shared by two instances through Redis', () => {
  let redis: RedisServer;
  let stack: Stack | undefined;
  let second: RunningApp | undefined;
  let double: UpstreamDouble;
  let apps: RunningApp[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    // One PostgreSQL + OpenBao behind both: two replicas of one deployment.
    stack = await startStack({
      mode: POSTGRES_VAULT,
      env: {
        KEY_CACHE_TTL_MS: '600000',
        REDIS_URL: redis.url,
        LIMIT_USER_RPM: '4',
        CEREBRAS_API_KEY: 'csk-operator-env-0001',
      },
    });
    second = await startApp(stack.env);
    double = stack.double;
    apps = [stack.app, second];
  });

  afterAll(async () => {
    await second?.close();
    await stack?.close();
    await redis?.stop();
  });

  it('two instances together allow no more than the limit', async () => {
    await awayFromMinuteEdge();
    const clients = apps.map((a) => new ApiClient(a.url, jwt('shared')));
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      for (const c of clients) statuses.push((await c.post('/v1/chat/completions', chat)).status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(4);
    expect(statuses.filter((s) => s === 429)).toHaveLength(4);
    expect(double.requests).toHaveLength(4);
    const ready = await clients[0].get('/readyz');
    expect(ready.json).toMatchObject({ info: { limits: { status: 'up', mode: 'redis' } } });
  });

  it('a key rotated on one replica is used by the other at once (pub/sub invalidation)', async () => {
    const [a, b] = apps.map((x) => new ApiClient(x.url, jwt('rotator')));
    const saved = await a.post('/api/user/api-keys', {
      provider: 'cerebras',
      keyName: 'k',
      apiKey: 'csk-rotate-old-0001',
    });
    const id = (saved.json as { id: string }).id;
    double.reset();
    await b.post('/v1/chat/completions', chat); // b caches the old key (TTL 10 min)
    await a.post(`/api/user/api-keys/${id}/rotate`, { apiKey: 'csk-rotate-new-0002' });
    await new Promise((r) => setTimeout(r, 100));
    await b.post('/v1/chat/completions', chat);
    expect(double.requests.map((r) => r.key)).toEqual([
      'csk-rotate-old-0001',
      'csk-rotate-new-0002',
    ]);
  });

  it('with Redis down the proxy keeps serving with per-instance limits and says so in /readyz', async () => {
    await redis.stop();
    const client = new ApiClient(apps[0].url, jwt('after-redis'));
    const res = await client.post('/v1/chat/completions', chat);
    expect(res.status).toBe(200);
    const ready = await client.get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.json).toMatchObject({ info: { limits: { mode: 'memory-fallback' } } });
    expect(apps[0].logs.join('\n')).toMatch(/Redis unavailable/);
  });
});
