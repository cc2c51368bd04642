import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { sign } from 'jsonwebtoken';
import { eventually } from '../helpers/eventually';
import { ApiClient } from '../helpers/http';
import { testJwt } from '../helpers/modes';
import { type OtlpReceiver, startOtlpReceiver } from '../helpers/otlp-receiver';
import type { RunningApp } from '../helpers/start-app';
import { startStack, type Stack } from '../helpers/start-stack';
import { createTestDatabase } from '../helpers/start-postgres';
import { vaultRequest } from '../helpers/start-openbao';
import { requireTestServers } from '../helpers/test-env';
import type { UpstreamDouble } from '../helpers/upstream-double';

const jwt = testJwt;

/** A recognisable canary: the part before the last four characters must never be seen. */
const CANARY = `CANARY${randomBytes(6).toString('hex')}`;
const canaryKey = (n: string) => `sk-${CANARY}-${n}-tail${n}`;

interface Mode {
  name: string;
  env: () => Promise<Record<string, string>>;
  vault: boolean;
}

async function approleEnv(prefix: string): Promise<Record<string, string>> {
  const mount = `approle-${prefix}`;
  await vaultRequest('POST', `/v1/sys/auth/${mount}`, { type: 'approle' });
  const policy = ['data', 'metadata', 'destroy']
    .map(
      (p) =>
        `path "secret/${p}/${prefix}/*" { capabilities = ["create","read","update","delete","list"] }`,
    )
    .join('\n');
  await vaultRequest('PUT', `/v1/sys/policies/acl/${prefix}`, { policy });
  await vaultRequest('POST', `/v1/auth/${mount}/role/byok`, {
    token_policies: [prefix],
    token_ttl: '1h',
  });
  const role = await vaultRequest<{ data: { role_id: string } }>(
    'GET',
    `/v1/auth/${mount}/role/byok/role-id`,
  );
  const secret = await vaultRequest<{ data: { secret_id: string } }>(
    'POST',
    `/v1/auth/${mount}/role/byok/secret-id`,
  );
  return {
    VAULT_AUTH: 'approle',
    VAULT_APPROLE_MOUNT: mount,
    VAULT_ROLE_ID: role.body.data.role_id,
    VAULT_SECRET_ID: secret.body.data.secret_id,
  };
}

const modes: Mode[] = [
  { name: 'PGlite + local store', vault: false, env: () => Promise.resolve({}) },
  {
    name: 'PostgreSQL + OpenBao (token)',
    vault: true,
    env: async () => {
      const s = requireTestServers();
      return {
        DATABASE_URL: await createTestDatabase('keys_token'),
        VAULT_ADDR: s.vaultAddr,
        VAULT_TOKEN: s.vaultToken,
        VAULT_PREFIX: `e2e-token-${randomBytes(3).toString('hex')}`,
      };
    },
  },
  {
    name: 'PostgreSQL + OpenBao (AppRole)',
    vault: true,
    env: async () => {
      const s = requireTestServers();
      const prefix = `e2e-approle-${randomBytes(3).toString('hex')}`;
      return {
        DATABASE_URL: await createTestDatabase('keys_approle'),
        VAULT_ADDR: s.vaultAddr,
        VAULT_PREFIX: prefix,
        ...(await approleEnv(prefix)),
      };
    },
  },
];

describe.each(modes)('key management API over HTTP: $name', (mode) => {
  let stack: Stack | undefined;
  let app: RunningApp;
  let double: UpstreamDouble;
  let env: Record<string, string>;
  let receiver: OtlpReceiver;
  let alice: ApiClient;
  let bob: ApiClient;

  beforeAll(async () => {
    // Traced into a local OTLP receiver, so the scan below covers every span too.
    receiver = await startOtlpReceiver();
    stack = await startStack({
      mode,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '50' },
    });
    ({ app, double, env } = stack);
    alice = new ApiClient(app.url, jwt('alice'));
    bob = alice.as(jwt('bob'));
  });

  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
  });

  it('saves a key (201), updates it by name (200) and answers with metadata only', async () => {
    const created = await alice.post('/api/user/api-keys', {
      provider: 'cerebras',
      keyName: 'personal',
      apiKey: canaryKey('1'),
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      provider: 'cerebras',
      keyName: 'personal',
      keyHint: '…ail1',
      status: 'active',
      isActive: true,
      ownerType: 'user',
      priority: 0,
      version: 1,
    });
    expect(Object.keys(created.json as object).sort()).toEqual(
      [
        'createdAt',
        'id',
        'isActive',
        'keyHint',
        'keyName',
        'lastUsedAt',
        'lastVerifiedAt',
        'limits',
        'ownerType',
        'params',
        'priority',
        'provider',
        'status',
        'updatedAt',
        'version',
      ].sort(),
    );
    const again = await alice.post('/api/user/api-keys', {
      provider: 'cerebras',
      keyName: 'personal',
      apiKey: canaryKey('2'),
    });
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({
      id: (created.json as { id: string }).id,
      version: 2,
      keyHint: '…ail2',
    });
  });

  it('lists, gets by provider in resolution order, toggles, renames and reorders', async () => {
    const second = await alice.post('/api/user/api-keys', {
      provider: 'cerebras',
      keyName: 'backup',
      apiKey: canaryKey('3'),
    });
    const id2 = (second.json as { id: string }).id;
    await alice.patch(`/api/user/api-keys/${id2}`, { priority: -1 });
    const byProvider = await alice.get('/api/user/api-keys/cerebras');
    expect(byProvider.status).toBe(200);
    expect((byProvider.json as { data: { keyName: string }[] }).data.map((k) => k.keyName)).toEqual(
      ['backup', 'personal'],
    );

    const off = await alice.patch(`/api/user/api-keys/${id2}`, {
      isActive: false,
      keyName: 'spare',
    });
    expect(off.status).toBe(200);
    expect(off.json).toMatchObject({ isActive: false, status: 'inactive', keyName: 'spare' });
    const active = await alice.get('/api/user/api-keys/cerebras');
    expect((active.json as { data: unknown[] }).data).toHaveLength(1);

    const list = await alice.get('/api/user/api-keys');
    expect(list.status).toBe(200);
    expect((list.json as { data: unknown[] }).data).toHaveLength(2);

    expect((await alice.get('/api/user/api-keys/openai')).status).toBe(404);
    const unknown = await alice.get('/api/user/api-keys/nope');
    expect(unknown.status).toBe(400);
    expect(unknown.headers['content-type']).toContain('application/problem+json');
    expect(unknown.json).toMatchObject({ code: 'provider_unknown', status: 400 });
    expect((unknown.json as { detail: string }).detail).toContain('cerebras');
  });

  it('rotates (new version, same id) and verifies against the provider', async () => {
    const saved = await alice.post('/api/user/api-keys', {
      provider: 'openai',
      keyName: 'work',
      apiKey: canaryKey('4'),
    });
    const id = (saved.json as { id: string }).id;
    const good = await alice.post(`/api/user/api-keys/${id}/verify`);
    expect(good.status).toBe(200);
    expect(good.json).toMatchObject({ valid: true, upstreamStatus: 200 });
    expect(double.keyOf(double.requests.at(-1)!)).toBe(canaryKey('4'));

    double.rejectKey(canaryKey('4'));
    const bad = await alice.post(`/api/user/api-keys/${id}/verify`);
    expect(bad.json).toMatchObject({ valid: false, upstreamStatus: 401 });
    const listed = await alice.get('/api/user/api-keys/openai');
    expect(listed.status).toBe(404); // invalid keys are skipped in resolution

    const rotated = await alice.post(`/api/user/api-keys/${id}/rotate`, { apiKey: canaryKey('5') });
    expect(rotated.status).toBe(200);
    expect(rotated.json).toMatchObject({ id, version: 2, status: 'active', keyHint: '…ail5' });
    const again = await alice.post(`/api/user/api-keys/${id}/verify`);
    expect(again.json).toMatchObject({ valid: true });
    expect(double.keyOf(double.requests.at(-1)!)).toBe(canaryKey('5'));
  });

  it('refuses to save a key the provider rejects when asked to verify first (422)', async () => {
    double.rejectKey(canaryKey('6'));
    const res = await alice.post('/api/user/api-keys', {
      provider: 'mistral',
      keyName: 'rejected',
      apiKey: canaryKey('6'),
      verify: true,
    });
    expect(res.status).toBe(422);
    expect(res.json).toMatchObject({ code: 'provider_key_rejected' });
    expect((res.json as { detail: string }).detail).toContain('…ail6');
    expect((await alice.get('/api/user/api-keys/mistral')).status).toBe(404);
  });

  it('isolates owners: bob gets 404 for every route on alice key ids', async () => {
    const list = await alice.get('/api/user/api-keys');
    const ids = (list.json as { data: { id: string }[] }).data.map((k) => k.id);
    expect(ids.length).toBeGreaterThan(0);
    for (const id of ids) {
      expect((await bob.patch(`/api/user/api-keys/${id}`, { isActive: false })).status).toBe(404);
      expect(
        (await bob.post(`/api/user/api-keys/${id}/rotate`, { apiKey: 'x-bobs-key' })).status,
      ).toBe(404);
      expect((await bob.post(`/api/user/api-keys/${id}/verify`)).status).toBe(404);
      expect((await bob.delete(`/api/user/api-keys/${id}`)).status).toBe(404);
    }
    expect((await bob.get('/api/user/api-keys')).json).toEqual({ data: [] });
    expect((await alice.get('/api/user/api-keys')).json).toEqual(list.json);
  });

  it('answers bad input with a 4xx that says what to fix', async () => {
    const cases: [unknown, number, string, RegExp][] = [
      [
        { provider: 'cerebras', keyName: 'x', apiKey: '' },
        400,
        'validation_failed',
        /apiKey must not be empty/,
      ],
      [
        { provider: 'cerebras', keyName: 'x', apiKey: 'k'.repeat(5000) },
        400,
        'validation_failed',
        /at most 4096/,
      ],
      [
        { provider: 'cerebras', keyName: 'x', apiKey: 'abc', extra: 1 },
        400,
        'validation_failed',
        /property extra should not exist/,
      ],
      [
        { provider: 'cerebras', keyName: 'x', apiKey: 'abc', verify: 'yes' },
        400,
        'validation_failed',
        /verify must be a boolean/,
      ],
      [{ provider: 42, keyName: 'x', apiKey: 'abc' }, 400, 'validation_failed', /provider/],
      [{ provider: 'nope', keyName: 'x', apiKey: 'abcd' }, 400, 'provider_unknown', /cerebras/],
      [{ keyName: 'x', apiKey: 'abcd' }, 400, 'validation_failed', /provider/],
    ];
    for (const [body, status, code, detail] of cases) {
      const res = await alice.post('/api/user/api-keys', body);
      expect({ body, status: res.status, code: (res.json as { code: string }).code }).toEqual({
        body,
        status,
        code,
      });
      expect((res.json as { detail: string }).detail).toMatch(detail);
    }
    const malformed = await alice.post('/api/user/api-keys', '{"provider": "cerebras",');
    expect(malformed.status).toBe(400);
    expect(malformed.json).toMatchObject({ code: 'invalid_json' });
    const text = await alice.post('/api/user/api-keys', 'hello', { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    expect(text.json).toMatchObject({ code: 'unsupported_media_type' });
    const badPatch = await alice.patch('/api/user/api-keys/not-a-uuid', { priority: 'high' });
    expect(badPatch.status).toBe(400);
    expect(
      (await alice.patch(`/api/user/api-keys/00000000-0000-4000-8000-000000000000`, {})).status,
    ).toBe(404);
    expect((await alice.get('/api/nothing-here')).status).toBe(404);
  });

  it('rejects missing, expired, forged and alg:none credentials with 401', async () => {
    const anon = alice.as(undefined);
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from('{"sub":"alice"}').toString('base64url')}.`;
    const forged = sign({ sub: 'alice' }, 'another-secret-another-secret-another-secret', {
      algorithm: 'HS256',
    });
    for (const client of [
      anon,
      alice.as(jwt('alice', {}, -10)),
      alice.as(forged),
      alice.as(none),
      alice.as('garbage'),
    ]) {
      const res = await client.get('/api/user/api-keys');
      expect(res.status).toBe(401);
      expect(res.json).toMatchObject({ code: 'unauthorized' });
      expect((res.json as { detail: string }).detail.length).toBeGreaterThan(10);
    }
  });

  it('organisation keys: members read, only org admins write', async () => {
    const member = alice.as(jwt('carol', { org_id: 'acme', org_role: 'member' }));
    const admin = alice.as(jwt('dave', { org_id: 'acme', org_role: 'admin' }));
    const denied = await member.post('/api/org/api-keys', {
      provider: 'groq',
      keyName: 'team',
      apiKey: canaryKey('7'),
    });
    expect(denied.status).toBe(403);
    const saved = await admin.post('/api/org/api-keys', {
      provider: 'groq',
      keyName: 'team',
      apiKey: canaryKey('7'),
    });
    expect(saved.status).toBe(201);
    expect(saved.json).toMatchObject({ ownerType: 'org' });
    const read = await member.get('/api/org/api-keys');
    expect((read.json as { data: unknown[] }).data).toHaveLength(1);
    const other = alice.as(jwt('erin', { org_id: 'globex', org_role: 'admin' }));
    expect((await other.get('/api/org/api-keys')).json).toEqual({ data: [] });
    const id = (saved.json as { id: string }).id;
    expect((await other.delete(`/api/org/api-keys/${id}`)).status).toBe(404);
    expect((await alice.get('/api/org/api-keys')).status).toBe(403); // no org claim
  });

  it('access tokens: read and proxy only, revocable', async () => {
    const created = await alice.post('/api/user/tokens', { name: 'cli' });
    expect(created.status).toBe(201);
    const { id, token } = created.json as { id: string; token: string };
    expect(token).toMatch(/^byok_/);
    const viaToken = alice.as(token);
    expect((await viaToken.get('/api/user/api-keys')).status).toBe(200);
    const write = await viaToken.post('/api/user/api-keys', {
      provider: 'cerebras',
      keyName: 't',
      apiKey: 'abcdef',
    });
    expect(write.status).toBe(403);
    expect(write.json).toMatchObject({ code: 'forbidden' });
    const listed = await alice.get('/api/user/tokens');
    expect(listed.text).not.toContain(token);
    expect((await alice.delete(`/api/user/tokens/${id}`)).status).toBe(204);
    expect((await viaToken.get('/api/user/api-keys')).status).toBe(401);
  });

  it('admin lists keys across owners with a cursor and can revoke any key', async () => {
    expect((await alice.get('/api/admin/api-keys')).status).toBe(403);
    const admin = alice.as(jwt('root', { byok_admin: true }));
    const page1 = await admin.get('/api/admin/api-keys?limit=2');
    expect(page1.status).toBe(200);
    const p1 = page1.json as { data: { id: string }[]; nextCursor: string | null };
    expect(p1.data).toHaveLength(2);
    expect(p1.nextCursor).toEqual(expect.any(String));
    const page2 = await admin.get(`/api/admin/api-keys?limit=200&cursor=${p1.nextCursor}`);
    const p2 = page2.json as { data: { id: string }[]; nextCursor: string | null };
    expect(p2.nextCursor).toBeNull();
    expect(p2.data.map((k) => k.id)).not.toContain(p1.data[0].id);
    const orgOnly = await admin.get('/api/admin/api-keys?ownerType=org');
    expect(
      (orgOnly.json as { data: { ownerType: string }[] }).data.every((k) => k.ownerType === 'org'),
    ).toBe(true);
    // Whose each key is: the owner's id beside its type (metadata only, never the secret).
    const owned = (await admin.get('/api/admin/api-keys?limit=200')).json as {
      data: { id: string; ownerType: string; ownerId: string }[];
    };
    const own = (
      (await alice.get('/api/user/api-keys')).json as { data: { id: string }[] }
    ).data.map((k) => k.id);
    expect(own.length).toBeGreaterThan(0);
    for (const id of own)
      expect(owned.data.find((k) => k.id === id)).toMatchObject({
        ownerType: 'user',
        ownerId: 'alice',
      });
    const orgOwners = owned.data.filter((k) => k.ownerType === 'org').map((k) => k.ownerId);
    expect(orgOwners.length).toBeGreaterThan(0);
    expect(orgOwners.every((o) => o === 'acme' || o === 'globex')).toBe(true);
    expect(JSON.stringify(owned)).not.toContain(CANARY);
    const victim = (orgOnly.json as { data: { id: string }[] }).data[0].id;
    expect((await admin.delete(`/api/admin/api-keys/${victim}`)).status).toBe(204);
    expect((await admin.delete(`/api/admin/api-keys/${victim}`)).status).toBe(404);
  });

  it('delete destroys the secret in the store, every version', async () => {
    const saved = await alice.post('/api/user/api-keys', {
      provider: 'xai',
      keyName: 'gone',
      apiKey: canaryKey('8'),
    });
    const id = (saved.json as { id: string }).id;
    await alice.post(`/api/user/api-keys/${id}/rotate`, { apiKey: canaryKey('9') });
    expect((await alice.delete(`/api/user/api-keys/${id}`)).status).toBe(204);
    expect((await alice.get('/api/user/api-keys/xai')).status).toBe(404);
    if (mode.vault) {
      const meta = await vaultRequest(
        'GET',
        `/v1/secret/metadata/${env.VAULT_PREFIX}/user/alice/${id}`,
      );
      expect(meta.status).toBe(404);
    } else {
      const rows = await app.app
        .get(DataSource)
        .query('SELECT count(*)::int AS n FROM local_secrets WHERE key_id = $1', [id]);
      expect(rows).toEqual([{ n: 0 }]);
    }
  });

  it('readiness checks the database and the secret store', async () => {
    const res = await alice.as(undefined).get('/readyz');
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      status: 'ok',
      info: { database: { status: 'up' }, secretStore: { status: 'up' } },
    });
    expect((await alice.as(undefined).get('/healthz')).status).toBe(200);
  });

  it('never shows the raw key: not in a response, a log line, a span or (vault mode) a database row', async () => {
    expect(alice.seen.length).toBeGreaterThan(40);
    for (const ex of alice.seen) {
      expect(ex.text).not.toContain(CANARY);
      expect(JSON.stringify(ex.headers)).not.toContain(CANARY);
    }
    expect(app.logs.length).toBeGreaterThan(20);
    expect(app.logs.join('\n')).not.toContain(CANARY);
    await eventually(() => expect(receiver.spans.length).toBeGreaterThan(40));
    for (const body of receiver.bodies) expect(body).not.toContain(CANARY);
    if (mode.vault) {
      const db = new Client({ connectionString: env.DATABASE_URL });
      await db.connect();
      try {
        const tables = await db.query<{ table_name: string }>(
          "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'",
        );
        let rows = 0;
        for (const { table_name } of tables.rows) {
          const dump = await db.query(`SELECT t::text AS row FROM "${table_name}" t`);
          rows += dump.rowCount ?? 0;
          for (const r of dump.rows as { row: string }[]) expect(r.row).not.toContain(CANARY);
        }
        expect(rows).toBeGreaterThan(3);
      } finally {
        await db.end(); // closed even when an expectation fails
      }
    }
  });
});
