import { Client } from 'pg';
import { ApiClient } from '../helpers/http';
import { POSTGRES_VAULT, STORE_MODES, testJwt } from '../helpers/modes';
import { startStack, type Stack } from '../helpers/start-stack';

interface AuditRow {
  at: string;
  action: string;
  actorSub: string | null;
  actorKind: string;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  requestId: string | null;
  detail: Record<string, unknown> | null;
}

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
 * An audit log that cannot be turned against the service: junk credentials are aggregated per
 * client address and reason (one row with a count, not one append-only row per request), and
 * every admin action leaves a row saying what it changed.
 */
describe.each(STORE_MODES)('audit trust boundaries: $name', (mode) => {
  let stack: Stack;
  let admin: ApiClient;
  let alice: ApiClient;

  const audit = async (query: string): Promise<AuditRow[]> => {
    const res = await admin.get(`/api/admin/audit?limit=200&${query}`);
    expect(res.status).toBe(200);
    return (res.json as { data: AuditRow[] }).data;
  };

  beforeAll(async () => {
    stack = await startStack({ mode, env: { CEREBRAS_API_KEY: 'csk-operator-audit-0001' } });
    alice = new ApiClient(stack.url, testJwt('trust-alice'));
    admin = alice.as(testJwt('trust-root', { byok_admin: 'true' }));
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('300 bad credentials from one client are one or two auth.failed rows counting 300', async () => {
    const junk = alice.as('not-a-jwt-at-all');
    const routes = [
      ['GET', '/api/user/api-keys'],
      ['POST', '/v1/chat/completions'],
      ['GET', '/api/user/usage'],
      ['POST', '/proxy/cerebras/v1/chat/completions'],
    ];
    await pool(300, 20, async (i) => {
      const [method, path] = routes[i % routes.length];
      const res = await junk.call(method, path, method === 'POST' ? {} : undefined);
      expect(res.status).toBe(401);
    });
    // Another reason from the same client is its own row.
    const token = alice.as('byok_not-a-real-access-token-000000000000');
    await pool(40, 10, async () => {
      expect((await token.get('/api/user/api-keys')).status).toBe(401);
    });

    const rows = await audit('action=auth.failed');
    const malformed = rows.filter((r) => /malformed/i.test(String(r.detail?.reason)));
    const unknown = rows.filter((r) => /not recognised/i.test(String(r.detail?.reason)));
    expect(malformed.length + unknown.length).toBe(rows.length);
    expect(malformed.length).toBeGreaterThanOrEqual(1);
    expect(malformed.length).toBeLessThanOrEqual(2);
    expect(malformed.reduce((n, r) => n + Number(r.detail?.count), 0)).toBe(300);
    expect(unknown.length).toBeLessThanOrEqual(2);
    expect(unknown.reduce((n, r) => n + Number(r.detail?.count), 0)).toBe(40);
    for (const r of rows) {
      expect(r).toMatchObject({ actorSub: null, actorKind: 'anonymous', ip: '127.0.0.1' });
      expect(r.requestId).toMatch(/\S/);
      expect(r.detail).toMatchObject({
        firstAt: expect.any(String),
        lastAt: expect.any(String),
        credential: expect.stringMatching(/^(jwt|access_token)$/),
        path: expect.stringMatching(/^\/(api|v1)\//),
      });
      expect(Date.parse(String(r.detail!.lastAt))).toBeGreaterThanOrEqual(
        Date.parse(String(r.detail!.firstAt)),
      );
    }
    // One log line per row, not per request.
    const lines = stack.app.logs.join('\n').match(/"msg":"audit auth\.failed"/g) ?? [];
    expect(lines.length).toBe(rows.length);
  });

  it('an admin changing limits leaves a row with the old and the new values', async () => {
    const put = (body: unknown) => admin.call('PUT', '/api/admin/users/trust-carol/limits', body);
    expect((await put({ requestsPerMinute: 60 })).status).toBe(200);
    const second = await put({ requestsPerMinute: 120, tokensPerDay: 5000 });
    expect(second.status).toBe(200);

    const rows = await audit('action=admin.limits.set');
    expect(rows).toHaveLength(2);
    const none = {
      requestsPerMinute: null,
      tokensPerMinute: null,
      tokensPerDay: null,
      monthlyBudgetUsd: null,
    };
    const flat = (prefix: string, v: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(v).map(([k, x]) => [`${prefix}.${k}`, x]));
    const common = {
      action: 'admin.limits.set',
      actorSub: 'trust-root',
      actorKind: 'jwt',
      targetType: 'user',
      targetId: 'trust-carol',
      ip: '127.0.0.1',
    };
    // Newest first.
    expect(rows[0]).toMatchObject({
      ...common,
      requestId: second.headers['x-request-id'],
      detail: {
        ...flat('old', { ...none, requestsPerMinute: 60 }),
        ...flat('new', { ...none, requestsPerMinute: 120, tokensPerDay: 5000 }),
      },
    });
    expect(rows[1]).toMatchObject({
      ...common,
      detail: { ...flat('old', none), ...flat('new', { ...none, requestsPerMinute: 60 }) },
    });
    // A refused change (bad value, or not an admin) changes nothing and leaves no row.
    expect((await put({ requestsPerMinute: -1 })).status).toBe(400);
    const member = await alice.call('PUT', '/api/admin/users/trust-carol/limits', {});
    expect(member.status).toBe(403);
    expect(await audit('action=admin.limits.set')).toHaveLength(2);
  });

  it('an admin deleting a key leaves a row naming the admin and the key', async () => {
    const bob = alice.as(testJwt('trust-bob'));
    const saved = await bob.post('/api/user/api-keys', {
      provider: 'groq',
      keyName: 'b',
      apiKey: 'gsk-trust-audit-000000000000abcd',
    });
    expect(saved.status).toBe(201);
    const id = (saved.json as { id: string }).id;
    const removed = await admin.delete(`/api/admin/api-keys/${id}`);
    expect(removed.status).toBe(204);
    const rows = await audit(`targetId=${id}`);
    expect(rows.map((r) => r.action)).toEqual(['admin.key.delete', 'key.create']);
    expect(rows[0]).toMatchObject({
      actorSub: 'trust-root',
      actorKind: 'jwt',
      targetType: 'key',
      requestId: removed.headers['x-request-id'],
    });
  });
});

describe('failed authentications still counted when the app stops', () => {
  it('writes the open window as one row on shutdown', async () => {
    const stack = await startStack({ mode: POSTGRES_VAULT });
    let closed = false;
    try {
      const junk = new ApiClient(stack.url, 'junk-credential-on-shutdown');
      await pool(25, 5, async () => {
        expect((await junk.get('/api/user/api-keys')).status).toBe(401);
      });
      await stack.close();
      closed = true;
      const db = new Client({ connectionString: stack.env.DATABASE_URL });
      await db.connect();
      try {
        const rows = await db.query<{ detail: { count: number } }>(
          `SELECT detail FROM audit_events WHERE action = 'auth.failed'`,
        );
        expect(rows.rows.map((r) => r.detail.count)).toEqual([25]);
      } finally {
        await db.end();
      }
    } finally {
      if (!closed) await stack.close();
    }
  });
});
