import { ApiClient } from '../helpers/http';
import { STORE_MODES, testJwt as jwt } from '../helpers/modes';
import { startStack, type Stack } from '../helpers/start-stack';

const ORG_KEY = 'csk-org-key-trust-tokens-0000000000000001';
const DAY = 86_400_000;

interface TokenMeta {
  id: string;
  name: string;
  ownerSub?: string;
  orgId: string | null;
  expiresAt: string;
}

/** Who reaches which key through an access token, for how long, and who can take it away. */
describe.each(STORE_MODES)('access tokens and organisations: $name', (mode) => {
  let stack: Stack | undefined;
  let api: ApiClient;
  const inAcme = jwt('alice', { org_id: 'acme', org_role: 'member' });

  beforeAll(async () => {
    stack = await startStack({ mode, env: { TOKEN_MAX_TTL_DAYS: '30' } });
    api = new ApiClient(stack.url);
    const orgAdmin = api.as(jwt('dave', { org_id: 'acme', org_role: 'admin' }));
    const saved = await orgAdmin.post('/api/org/api-keys', {
      provider: 'cerebras',
      keyName: 'team',
      apiKey: ORG_KEY,
    });
    expect(saved.status).toBe(201);
  });
  afterAll(async () => {
    await stack?.close();
  });

  async function newToken(as: string, name: string): Promise<{ id: string; token: string }> {
    const r = await api.as(as).post('/api/user/tokens', { name });
    expect(r.status).toBe(201);
    return r.json as { id: string; token: string };
  }

  const chat = (token: string) =>
    api.as(token).post('/v1/chat/completions', {
      model: 'cerebras/llama-3.3-70b',
      messages: [{ role: 'user', content: 'hi' }],
    });

  it("reaches the organisation's keys only while its owner's JWTs still carry the organisation", async () => {
    const { token } = await newToken(inAcme, 'cli');
    const before = await chat(token);
    expect(before.status).toBe(200);
    expect(before.headers['x-byok-key-source']).toBe('org');

    // Alice leaves acme: her next JWT (any request) carries no organisation.
    const orgKeyUses = () =>
      stack!.double.requests.filter((r) => r.headers.authorization === `Bearer ${ORG_KEY}`).length;
    const used = orgKeyUses();
    expect((await api.as(jwt('alice')).get('/api/user/api-keys')).status).toBe(200);
    const left = await chat(token);
    expect(left.status).toBe(400);
    expect((left.json as { error: { code: string } }).error.code).toBe('provider_key_missing');
    expect(orgKeyUses()).toBe(used);

    // Back in acme, the token reaches the org key again; seen in another org, it does not.
    await api.as(inAcme).get('/api/user/api-keys');
    expect((await chat(token)).headers['x-byok-key-source']).toBe('org');
    await api.as(jwt('alice', { org_id: 'globex', org_role: 'admin' })).get('/api/user/tokens');
    expect((await chat(token)).status).toBe(400);
  });

  it("lets admins list any user's tokens (metadata only) and revoke any of them", async () => {
    const { id, token } = await newToken(jwt('bob'), 'bobs laptop');
    const admin = api.as(jwt('root', { byok_admin: true }));
    const listed = await admin.get('/api/admin/tokens?sub=bob');
    expect(listed.status).toBe(200);
    const data = (listed.json as { data: TokenMeta[] }).data;
    expect(data.map((t) => t.id)).toContain(id);
    expect(data.every((t) => t.ownerSub === 'bob')).toBe(true);
    expect(listed.text).not.toContain(token);
    expect(listed.text).not.toMatch(/byok_|tokenHash|[0-9a-f]{64}/);

    expect((await api.as(jwt('bob')).get('/api/admin/tokens')).status).toBe(403);
    expect((await api.as(jwt('bob')).delete(`/api/admin/tokens/${id}`)).status).toBe(403);
    expect((await admin.get('/api/admin/tokens?cursor=not-a-cursor')).status).toBe(400);

    expect((await chat(token)).status).not.toBe(401);
    expect((await admin.delete(`/api/admin/tokens/${id}`)).status).toBe(204);
    expect((await chat(token)).status).toBe(401);
    expect((await admin.delete(`/api/admin/tokens/${id}`)).status).toBe(404);
  });

  it("lets org admins list and revoke the tokens that can reach their organisation's keys", async () => {
    const made = await newToken(jwt('erin', { org_id: 'acme', org_role: 'member' }), 'erin ci');
    const personal = await newToken(jwt('frank'), 'frank, no org');
    const globex = await newToken(jwt('gina', { org_id: 'globex', org_role: 'member' }), 'gina');

    const orgAdmin = api.as(jwt('dave', { org_id: 'acme', org_role: 'admin' }));
    const listed = await orgAdmin.get('/api/org/tokens');
    expect(listed.status).toBe(200);
    const ids = (listed.json as { data: TokenMeta[] }).data.map((t) => t.id);
    expect(ids).toContain(made.id);
    expect(ids).not.toContain(personal.id);
    expect(ids).not.toContain(globex.id);
    expect(listed.text).not.toContain(made.token);

    const member = api.as(jwt('erin', { org_id: 'acme', org_role: 'member' }));
    expect((await member.get('/api/org/tokens')).status).toBe(403);
    expect((await orgAdmin.delete(`/api/org/tokens/${globex.id}`)).status).toBe(404);
    expect((await orgAdmin.delete(`/api/org/tokens/${personal.id}`)).status).toBe(404);
    expect((await orgAdmin.delete(`/api/org/tokens/${made.id}`)).status).toBe(204);
    expect((await chat(made.token)).status).toBe(401);
    expect((await chat(globex.token)).status).not.toBe(401);
  });

  it('caps token lifetime at TOKEN_MAX_TTL_DAYS', async () => {
    const user = api.as(jwt('hank'));
    const far = new Date(Date.now() + 31 * DAY).toISOString();
    const refused = await user.post('/api/user/tokens', { name: 'forever', expiresAt: far });
    expect(refused.status).toBe(400);
    expect(refused.text).toMatch(/at most 30 days.*TOKEN_MAX_TTL_DAYS/);
    const made = await user.post('/api/user/tokens', { name: 'default' });
    expect(made.status).toBe(201);
    const expires = Date.parse((made.json as TokenMeta).expiresAt) - Date.now();
    expect(expires).toBeGreaterThan(30 * DAY - 60_000);
    expect(expires).toBeLessThanOrEqual(30 * DAY);
  });
});
