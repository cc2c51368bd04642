import { GENAI_OPERATIONS } from '../../src/metrics/labels';
import { randomBytes } from 'node:crypto';
import { ApiClient } from '../helpers/http';
import { freePort } from '../helpers/free-port';
import { testJwt } from '../helpers/modes';
import { startStack, type Stack } from '../helpers/start-stack';

/** Runs `task(i)` for i < n, `width` at a time. */
async function pool(n: number, width: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

/**
 * /metrics cannot be grown by callers: whatever paths and models a signed-in caller (rate-limited
 * or not) sends, every label value comes from a fixed set, so the exposition stays small.
 */
describe('metrics labels are bounded, whatever callers send', () => {
  let stack: Stack;
  /** Made-up path segments and models: none of them may ever show up in /metrics. */
  const MARK = `zzjunk${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    stack = await startStack({
      env: { CEREBRAS_API_KEY: 'csk-operator-metrics-0001', OPENAI_API_KEY: 'sk-operator-metrics' },
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  const scrape = async (): Promise<string> => {
    const res = await fetch(`${stack.url}/metrics`);
    expect(res.status).toBe(200);
    return res.text();
  };

  it('a few hundred distinct made-up paths and models leave /metrics small and free of them', async () => {
    const alice = new ApiClient(stack.url, testJwt('metrics-alice'));
    const admin = alice.as(testJwt('metrics-root', { byok_admin: true }));
    // A caller that is rate-limited at once: refused requests are counted too.
    const limited = await admin.call('PUT', '/api/admin/users/metrics-mallory/limits', {
      requestsPerMinute: 1,
    });
    expect(limited.status).toBe(200);
    const mallory = alice.as(testJwt('metrics-mallory'));

    // Warm up the series that ordinary traffic creates.
    const chat = { model: 'cerebras/llama-3.3-70b', messages: [{ role: 'user', content: 'hi' }] };
    expect((await alice.post('/v1/chat/completions', chat)).status).toBe(200);
    expect((await alice.post('/proxy/openai/v1/chat/completions', chat)).status).toBe(200);
    expect((await alice.post('/v1/zz-unmapped', chat)).status).toBe(404);
    expect((await alice.post('/proxy/openai/zz-unmapped', chat)).status).toBe(404);
    const before = await scrape();

    const statuses = new Map<number, number>();
    await pool(400, 16, async (i) => {
      const who = i % 4 === 3 ? mallory : alice;
      const method = i % 2 ? 'GET' : 'POST';
      const path =
        i % 3 === 0
          ? `/proxy/openai/${MARK}-${i}/deeper/${MARK}x${i}`
          : `/v1/${MARK}-${i}/${MARK}y${i}`;
      // Model names are capped separately (MAX_MODELS); here only the path varies.
      const body = method === 'POST' ? chat : undefined;
      const res = await who.call(method, path, body);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    });
    // Overlong model names are not label values either.
    for (let i = 0; i < 5; i++)
      await alice.post('/v1/chat/completions', {
        model: `${MARK}-long-${i}-${'m'.repeat(2000)}`,
        messages: [],
      });

    // The double answered 404 to the made-up paths; mallory was refused with 429.
    expect(statuses.get(404)).toBeGreaterThan(200);
    expect(statuses.get(429)).toBeGreaterThan(50);

    const after = await scrape();
    expect(after).not.toContain(MARK);
    // Before bounding, each made-up path added a histogram series or more (~3 KB each): the
    // exposition grew by about a megabyte here. Now only a handful of new label sets can appear.
    expect(after.length - before.length).toBeLessThan(48 * 1024);
    const operations = new Set(
      [...after.matchAll(/gen_ai_operation_name="([^"]*)"/g)].map((m) => m[1]),
    );
    expect(
      [...operations].filter((o) => !(GENAI_OPERATIONS as readonly string[]).includes(o)),
    ).toEqual([]);
    expect(operations).toContain('other');
    expect(operations).toContain('chat');
    for (const m of after.matchAll(/error_type="([^"]*)"/g))
      expect(m[1]).toMatch(/^([a-z_]*|\d{3}|\dxx|other|[A-Z][A-Za-z0-9_]*)$/);
    for (const m of after.matchAll(/byok_proxy_requests_total\{[^}]*status="([^"]*)"/g))
      expect(m[1]).toMatch(/^(\d{3}|\dxx|other)$/);
  });
});

/** METRICS_PORT: /metrics on a listener of its own, bound to HOST, and no longer on PORT. */
describe('METRICS_PORT', () => {
  let stack: Stack;
  let metricsUrl: string;

  beforeAll(async () => {
    const port = await freePort();
    metricsUrl = `http://127.0.0.1:${port}`;
    stack = await startStack({
      env: { METRICS_PORT: String(port), HOST: '127.0.0.1', CEREBRAS_API_KEY: 'csk-operator-mp' },
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('serves /metrics there (200) and not on PORT (404)', async () => {
    const alice = new ApiClient(stack.url, testJwt('metrics-port-alice'));
    const chat = { model: 'cerebras/llama-3.3-70b', messages: [{ role: 'user', content: 'hi' }] };
    expect((await alice.post('/v1/chat/completions', chat)).status).toBe(200);

    const own = await fetch(`${metricsUrl}/metrics`);
    expect(own.status).toBe(200);
    expect(own.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await own.text();
    expect(text).toMatch(
      /gen_ai_client_operation_duration_seconds_count\{gen_ai_provider_name="cerebras",gen_ai_request_model="llama-3.3-70b",gen_ai_operation_name="chat",error_type=""\} 1/,
    );
    expect(text).toContain('process_cpu_user_seconds_total');

    const main = await fetch(`${stack.url}/metrics`);
    expect(main.status).toBe(404);
    expect(await main.text()).not.toContain('gen_ai_client');
    // The metrics listener serves nothing else.
    expect((await fetch(`${metricsUrl}/healthz`)).status).toBe(404);
    expect((await fetch(`${metricsUrl}/v1/models`)).status).toBe(404);
    expect((await fetch(`${metricsUrl}/metrics`, { method: 'POST' })).status).toBe(405);
    // The rest of the app is where it was.
    expect((await fetch(`${stack.url}/healthz`)).status).toBe(200);
  });

  it('closes with the app', async () => {
    const port = await freePort();
    const other = await startStack({ env: { METRICS_PORT: String(port), HOST: '127.0.0.1' } });
    const url = `http://127.0.0.1:${port}/metrics`;
    try {
      // A scraper's keep-alive connection must not hold the shutdown.
      expect((await fetch(url)).status).toBe(200);
    } finally {
      await other.close();
    }
    await expect(fetch(url)).rejects.toThrow();
  });
});
