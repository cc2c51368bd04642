import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ApiClient } from '../helpers/http';
import { STORE_MODES, testJwt } from '../helpers/modes';
import type { RunningApp } from '../helpers/start-app';
import { startStack, type Stack } from '../helpers/start-stack';

const jwt = testJwt;

/** A recognisable canary: no audit row, log line or response may ever contain it. */
const CANARY = `CANARY${randomBytes(6).toString('hex')}`;
const canaryKey = (n: string) => `sk-${CANARY}-${n}-tail${n}`;

interface AuditRow {
  id: string;
  at: string;
  action: string;
  actorSub: string | null;
  actorKind: string;
  targetType: string | null;
  targetId: string | null;
  keyHint: string | null;
  provider: string | null;
  ownerType: string | null;
  ownerId: string | null;
  ip: string | null;
  requestId: string | null;
  detail: Record<string, unknown> | null;
}
interface Page {
  data: AuditRow[];
  nextCursor: string | null;
}

describe.each(STORE_MODES)('audit log end to end: $name', (mode) => {
  let stack: Stack | undefined;
  let app: RunningApp;
  let alice: ApiClient;
  let admin: ApiClient;
  let keyId: string;
  let bobKeyId: string;
  let tokenId: string;
  /** request id → the one row it must have produced. */
  const expected = new Map<string, Partial<AuditRow>>();

  /** `METHOD /path` with a known request id; 2xx, or the given status. */
  const send = async (client: ApiClient, rid: string, route: string, body?: unknown) => {
    const [method, path] = route.split(' ');
    const res = await client.call(method, path, body, { 'x-request-id': rid });
    expect(`${route} → ${res.status}`).toMatch(/ → 2\d\d$/);
    return res.json as Record<string, string>;
  };
  const refused = async (client: ApiClient, rid: string, path: string) => {
    const res = await client.call('GET', path, undefined, { 'x-request-id': rid });
    expect(res.status).toBe(401);
  };
  const all = async (query = ''): Promise<AuditRow[]> => {
    const res = await admin.get(`/api/admin/audit?limit=200${query}`);
    expect(res.status).toBe(200);
    return (res.json as Page).data;
  };

  beforeAll(async () => {
    stack = await startStack({ mode });
    app = stack.app;
    alice = new ApiClient(app.url, jwt('alice'));
    admin = alice.as(jwt('root', { byok_admin: true }));
    const bob = alice.as(jwt('bob'));
    const key = { provider: 'cerebras', ownerType: 'user', ownerId: 'alice' };
    const asAlice = { actorSub: 'alice', actorKind: 'jwt', ip: '127.0.0.1' };

    const apiKey = (n: string) => ({
      provider: 'cerebras',
      keyName: 'personal',
      apiKey: canaryKey(n),
    });
    keyId = (await send(alice, 'rid-create', 'POST /api/user/api-keys', apiKey('1'))).id;
    const onKey = { ...asAlice, ...key, targetType: 'key', targetId: keyId };
    const k = `/api/user/api-keys/${keyId}`;
    expected.set('rid-create', { ...onKey, action: 'key.create', keyHint: '…ail1' });
    await send(alice, 'rid-save-again', 'POST /api/user/api-keys', apiKey('2'));
    expected.set('rid-save-again', { ...onKey, action: 'key.update', keyHint: '…ail2' });
    await send(alice, 'rid-toggle', `PATCH ${k}`, { isActive: false });
    expected.set('rid-toggle', { ...onKey, action: 'key.toggle', detail: { isActive: false } });
    await send(alice, 'rid-update', `PATCH ${k}`, { priority: 3 });
    expected.set('rid-update', { ...onKey, action: 'key.update', detail: { priority: 3 } });
    await send(alice, 'rid-rotate', `POST ${k}/rotate`, { apiKey: canaryKey('3') });
    expected.set('rid-rotate', { ...onKey, action: 'key.rotate', keyHint: '…ail3' });
    await send(alice, 'rid-verify', `POST ${k}/verify`);
    const verified = { valid: true, upstreamStatus: 200 };
    expected.set('rid-verify', {
      ...onKey,
      action: 'key.verify',
      keyHint: '…ail3',
      detail: verified,
    });
    tokenId = (await send(alice, 'rid-token', 'POST /api/user/tokens', { name: 'cli' })).id;
    const onToken = { ...asAlice, targetType: 'token', targetId: tokenId, keyHint: null };
    expected.set('rid-token', { ...onToken, action: 'token.create' });
    await send(alice, 'rid-revoke', `DELETE /api/user/tokens/${tokenId}`);
    expected.set('rid-revoke', { ...onToken, action: 'token.revoke' });
    await send(alice, 'rid-delete', `DELETE ${k}`);
    expected.set('rid-delete', { ...onKey, action: 'key.delete', keyHint: '…ail3' });

    const bobs = { provider: 'groq', keyName: 'b', apiKey: canaryKey('4') };
    bobKeyId = (await send(bob, 'rid-bob', 'POST /api/user/api-keys', bobs)).id;
    expected.set('rid-bob', { action: 'key.create', actorSub: 'bob', targetId: bobKeyId });
    await send(admin, 'rid-admin', `DELETE /api/admin/api-keys/${bobKeyId}`);
    expected.set('rid-admin', {
      ...{ action: 'admin.key.delete', actorSub: 'root', actorKind: 'jwt', ip: '127.0.0.1' },
      ...{ targetId: bobKeyId, keyHint: '…ail4', provider: 'groq', ownerId: 'bob' },
    });

    const anon = { action: 'auth.failed', actorSub: null, actorKind: 'anonymous', ip: '127.0.0.1' };
    await refused(alice.as(`not-a-jwt-${CANARY}`), 'rid-bad-jwt', '/api/user/api-keys');
    expected.set('rid-bad-jwt', {
      ...{ ...anon, targetId: null },
      detail: expect.objectContaining({ credential: 'jwt', path: '/api/user/api-keys' }),
    });
    await refused(alice.as(`byok_${CANARY}`), 'rid-bad-token', '/api/user/usage');
    expected.set('rid-bad-token', {
      ...anon,
      detail: expect.objectContaining({
        credential: 'access_token',
        reason: expect.stringMatching(/not recognised/),
      }),
    });
    // No credential at all is not an authentication attempt: nothing is recorded.
    await refused(alice.as(undefined), 'rid-anonymous', '/api/user/api-keys');
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('each action produced exactly one row with the right fields', async () => {
    const rows = await all();
    const ours = rows.filter((r) => r.requestId?.startsWith('rid-'));
    expect(ours.map((r) => r.requestId).sort()).toEqual([...expected.keys()].sort());
    for (const [rid, fields] of expected)
      expect(ours.find((r) => r.requestId === rid)).toMatchObject(fields);
    for (const r of ours) expect(Date.now() - new Date(r.at).getTime()).toBeLessThan(120_000);
  });

  it('a failed authentication on the proxy is recorded too', async () => {
    const res = await fetch(`${app.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer byok_${CANARY}proxy`, 'content-type': 'application/json' },
      body: '{"model":"cerebras/x","messages":[]}',
    });
    expect(res.status).toBe(401);
    const failed = await all('&action=auth.failed');
    expect(failed.filter((r) => !r.requestId?.startsWith('rid-'))).toHaveLength(1);
  });

  it('lists newest first with filters and a cursor', async () => {
    const rows = await all();
    const times = rows.map((r) => new Date(r.at).getTime());
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    const pages: AuditRow[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const res = await admin.get(`/api/admin/audit?limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      const page = res.json as Page;
      pages.push(...page.data);
      cursor = page.nextCursor;
    }
    expect(pages.map((r) => r.id)).toEqual(rows.map((r) => r.id));
    expect((await all('&action=key.rotate')).map((r) => r.requestId)).toEqual(['rid-rotate']);
    expect((await all(`&targetId=${keyId}`)).map((r) => r.action)).toEqual([
      ...['key.delete', 'key.verify', 'key.rotate', 'key.update', 'key.toggle'],
      ...['key.update', 'key.create'],
    ]);
    expect((await all('&actorSub=bob')).map((r) => r.requestId)).toEqual(['rid-bob']);
    const today = new Date().toISOString().slice(0, 10);
    expect(await all(`&from=${today}&to=${today}`)).toHaveLength(rows.length);
  });

  it('is for administrators only, and bad queries are 400', async () => {
    const member = await alice.get('/api/admin/audit');
    expect(member.status).toBe(403);
    expect(member.json).toMatchObject({ code: 'forbidden' });
    const created = await alice.post('/api/user/tokens', { name: 'reader' });
    const token = (created.json as { token: string }).token;
    expect((await alice.as(token).get('/api/admin/audit')).status).toBe(403);
    expect((await alice.as(undefined).get('/api/admin/audit')).status).toBe(401);
    for (const q of ['action=key.explode', 'limit=0', 'limit=201', 'cursor=nonsense', 'from=x'])
      expect((await admin.get(`/api/admin/audit?${q}`)).json).toMatchObject({
        status: 400,
        code: 'validation_failed',
      });
  });

  it('is append-only: no route changes it and the table refuses UPDATE and DELETE', async () => {
    for (const method of ['PUT', 'PATCH', 'DELETE']) {
      const res = await admin.call(method, '/api/admin/audit');
      expect({ status: res.status, allow: res.headers.allow }).toEqual({
        status: 405,
        allow: 'GET, HEAD',
      });
    }
    const db = app.app.get(DataSource);
    await expect(db.query(`UPDATE audit_events SET actor_sub = 'mallory'`)).rejects.toThrow(
      /append-only/,
    );
    await expect(db.query('DELETE FROM audit_events')).rejects.toThrow(/append-only/);
  });

  it('one structured log line per event, and no key or credential anywhere', async () => {
    const lines = app.logs
      .flatMap((l) => l.split('\n'))
      .filter((l) => l.includes('"audit"'))
      .map((l) => JSON.parse(l) as { msg: string; audit: AuditRow });
    for (const [rid, fields] of expected) {
      const mine = lines.filter((l) => l.audit.requestId === rid);
      expect(mine).toHaveLength(1);
      expect(mine[0].msg).toBe(`audit ${String(fields.action)}`);
      expect(mine[0].audit).toMatchObject(fields);
    }
    const rows = await app.app.get(DataSource).query('SELECT * FROM audit_events');
    expect(JSON.stringify(rows)).not.toContain(CANARY);
    expect(JSON.stringify(await all())).not.toContain(CANARY);
    expect(app.logs.join('\n')).not.toContain(CANARY);
    for (const ex of alice.seen) expect(ex.text).not.toContain(CANARY);
  });
});
