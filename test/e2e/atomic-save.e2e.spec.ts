import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { ApiClient, providersAt } from '../helpers/http';
import { JWT_SECRET, testJwt } from '../helpers/modes';
import { startApp, type RunningApp } from '../helpers/start-app';
import { vaultRequest } from '../helpers/start-openbao';
import { createTestDatabase } from '../helpers/start-postgres';
import { requireTestServers } from '../helpers/test-env';

const jwt = testJwt('alice');
const KEY = 'sk-atomic-canary-key-0001';

/** A key is saved whole or not at all: each side is made to fail for real. */
describe('atomic save against PostgreSQL + OpenBao', () => {
  let app: RunningApp;
  let api: ApiClient;
  let db: Client;
  let prefix: string;
  let token: string;

  beforeAll(async () => {
    const s = requireTestServers();
    prefix = `atomic-${randomBytes(4).toString('hex')}`;
    // The app's own token, limited by a policy the test can change while it runs.
    const writable = ['data', 'metadata', 'destroy']
      .map(
        (p) =>
          `path "secret/${p}/${prefix}/*" { capabilities = ["create","read","update","delete","list"] }`,
      )
      .join('\n');
    await vaultRequest('PUT', `/v1/sys/policies/acl/${prefix}`, { policy: writable });
    const created = await vaultRequest('POST', '/v1/auth/token/create', {
      policies: [prefix],
      ttl: '1h',
    });
    token = created.body.auth!.client_token;
    const url = await createTestDatabase('atomic');
    app = await startApp({
      DATABASE_URL: url,
      VAULT_ADDR: s.vaultAddr,
      VAULT_TOKEN: token,
      VAULT_PREFIX: prefix,
      AUTH_JWT_SECRET: JWT_SECRET,
      ...providersAt('http://127.0.0.1:9'),
    });
    api = new ApiClient(app.url, jwt);
    db = new Client({ connectionString: url });
    await db.connect();
  });

  afterAll(async () => {
    try {
      await db?.end();
    } finally {
      await app?.close();
    }
  });

  const rows = async () =>
    (await db.query('SELECT count(*)::int AS n FROM api_keys')).rows[0] as { n: number };
  const secrets = async () => {
    const list = await vaultRequest<{ data?: { keys: string[] } }>(
      'LIST',
      `/v1/secret/metadata/${prefix}/user/alice`,
    );
    return list.status === 404 ? [] : (list.body.data?.keys ?? []);
  };

  it('Vault refusing the write leaves no metadata row (503 secret_store_unavailable)', async () => {
    const readOnly = `path "secret/*" { capabilities = ["read","list"] }`;
    await vaultRequest('PUT', `/v1/sys/policies/acl/${prefix}`, { policy: readOnly });
    const res = await api.post('/api/user/api-keys', {
      provider: 'cerebras',
      keyName: 'a',
      apiKey: KEY,
    });
    expect(res.status).toBe(503);
    expect(res.json).toMatchObject({ code: 'secret_store_unavailable' });
    expect(res.text).not.toContain(KEY);
    expect(await rows()).toEqual({ n: 0 });
    expect(await secrets()).toEqual([]);
  });

  it('PostgreSQL refusing the insert leaves no secret in Vault', async () => {
    const writable = ['data', 'metadata', 'destroy']
      .map(
        (p) =>
          `path "secret/${p}/${prefix}/*" { capabilities = ["create","read","update","delete","list"] }`,
      )
      .join('\n');
    await vaultRequest('PUT', `/v1/sys/policies/acl/${prefix}`, { policy: writable });
    await db.query(
      `CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused by test'; END $$ LANGUAGE plpgsql`,
    );
    await db.query(
      'CREATE TRIGGER refuse_insert BEFORE INSERT ON api_keys FOR EACH ROW EXECUTE FUNCTION refuse()',
    );
    const res = await api.post('/api/user/api-keys', {
      provider: 'cerebras',
      keyName: 'b',
      apiKey: KEY,
    });
    expect(res.status).toBe(500);
    expect(res.text).not.toContain('refused by test'); // details stay in the log
    expect(await rows()).toEqual({ n: 0 });
    expect(await secrets()).toEqual([]);

    await db.query('DROP TRIGGER refuse_insert ON api_keys');
    const ok = await api.post('/api/user/api-keys', {
      provider: 'cerebras',
      keyName: 'b',
      apiKey: KEY,
    });
    expect(ok.status).toBe(201);
    expect(await rows()).toEqual({ n: 1 });
    expect(await secrets()).toHaveLength(1);
  });

  it('a failed rotate keeps the old secret version in use', async () => {
    const list = await api.get('/api/user/api-keys');
    const key = (list.json as { data: { id: string; version: number }[] }).data[0];
    await db.query(
      `CREATE TRIGGER refuse_update BEFORE UPDATE ON api_keys FOR EACH ROW EXECUTE FUNCTION refuse()`,
    );
    const res = await api.post(`/api/user/api-keys/${key.id}/rotate`, {
      apiKey: 'sk-atomic-new-0002',
    });
    expect(res.status).toBe(500);
    await db.query('DROP TRIGGER refuse_update ON api_keys');
    const meta = await vaultRequest<{
      data: { current_version: number; versions: Record<string, { destroyed: boolean }> };
    }>('GET', `/v1/secret/metadata/${prefix}/user/alice/${key.id}`);
    // The rotate's version was destroyed again; the row still points at the first one.
    expect(meta.body.data.versions['2']?.destroyed).toBe(true);
    expect((await api.get('/api/user/api-keys')).json).toMatchObject({
      data: [{ id: key.id, version: key.version }],
    });
    expect(app.logs.join('\n')).not.toContain(KEY);
  });
});
