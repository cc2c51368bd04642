import { DataSource } from 'typeorm';
import { eventually } from '../helpers/eventually';
import { ApiClient } from '../helpers/http';
import { EMBEDDED, STORE_MODES, testJwt as jwt } from '../helpers/modes';
import { startStack, type Stack } from '../helpers/start-stack';
import { respond } from '../helpers/upstream-double';

const key = (n: number, tag = 'trust') => `csk-${tag}-key-000000000000000000000${n}`;

interface KeyMeta {
  id: string;
  keyName: string;
  status: string;
}
interface AuditRow {
  action: string;
  targetId: string;
  detail: Record<string, unknown> | null;
}

/** Only the provider disables a key, only for the key's own fault; caps that hold. */
describe.each(STORE_MODES)('keys the provider refuses, and caps: $name', (mode) => {
  let stack: Stack;
  let api: ApiClient;
  let orgAdmin: ApiClient;
  let member: ApiClient;
  let admin: ApiClient;

  beforeAll(async () => {
    stack = await startStack({
      mode,
      env: { MAX_KEYS_PER_PROVIDER: '3', PROXY_MAX_ATTEMPTS: '3' },
    });
    api = new ApiClient(stack.url);
    orgAdmin = api.as(jwt('dave', { org_id: 'acme', org_role: 'admin' }));
    member = api.as(jwt('carol', { org_id: 'acme', org_role: 'member' }));
    admin = api.as(jwt('root', { byok_admin: true }));
  });
  afterAll(async () => {
    await stack?.close();
  });
  beforeEach(() => stack.double.reset());

  const orgKeys = async (): Promise<KeyMeta[]> =>
    ((await orgAdmin.get('/api/org/api-keys')).json as { data: KeyMeta[] }).data;
  const audit = async (action: string): Promise<AuditRow[]> =>
    ((await admin.get(`/api/admin/audit?action=${action}&limit=200`)).json as { data: AuditRow[] })
      .data;
  const verifyCalls = (k: string) =>
    stack.double.requests.filter((r) => r.path.endsWith('/models') && r.key === k).length;

  it('a 403 from an endpoint the key may not use passes through and never disables the key', async () => {
    const saved = await orgAdmin.post('/api/org/api-keys', {
      provider: 'cerebras',
      keyName: 'team',
      apiKey: key(1),
    });
    expect(saved.status).toBe(201);
    stack.double.on('/v1/fine_tuning/jobs', respond.status(403, 'This key may not fine-tune'));
    const denied = await member.get('/v1/fine_tuning/jobs', { 'x-byok-provider': 'cerebras' });
    expect(denied.status).toBe(403);
    expect((denied.json as { error: { message: string } }).error.message).toBe(
      'This key may not fine-tune',
    );
    expect(denied.headers['x-byok-key-source']).toBe('org');
    // The provider's verify request is asked, says the key is fine, and nothing changes.
    await eventually(() => expect(verifyCalls(key(1))).toBe(1));
    await new Promise((r) => setTimeout(r, 200));
    expect((await orgKeys()).find((k) => k.keyName === 'team')?.status).toBe('active');
    const chat = await member.post('/v1/chat/completions', {
      model: 'cerebras/llama-3.3-70b',
      messages: [{ role: 'user', content: 'still works' }],
    });
    expect(chat.status).toBe(200);
    expect(chat.headers['x-byok-key-source']).toBe('org');
  });

  it('checks a refused key once however many requests are refused, at most once a minute', async () => {
    const saved = await orgAdmin.post('/api/org/api-keys', {
      provider: 'groq',
      keyName: 'busy',
      apiKey: key(2),
    });
    expect(saved.status).toBe(201);
    stack.double.on('/admin/usage', respond.status(403, 'admins only'));
    const results = await Promise.all(
      Array.from({ length: 10 }, () => member.get('/proxy/groq/admin/usage').then((r) => r.status)),
    );
    expect(results).toEqual(Array.from({ length: 10 }, () => 403));
    await new Promise((r) => setTimeout(r, 300));
    expect(verifyCalls(key(2))).toBe(1);
  });

  it('marks a key invalid only when the provider refuses its verify request, and audits it', async () => {
    const saved = await orgAdmin.post('/api/org/api-keys', {
      provider: 'mistral',
      keyName: 'revoked upstream',
      apiKey: key(3),
    });
    const id = (saved.json as KeyMeta).id;
    stack.double.rejectKey(key(3));
    const res = await member.post('/v1/chat/completions', {
      model: 'mistral/small',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(res.status).toBe(401);
    expect((res.json as { error: { code: string } }).error.code).toBe('provider_key_rejected');
    await eventually(async () =>
      expect((await orgKeys()).find((k) => k.id === id)?.status).toBe('invalid'),
    );
    const rows = await eventually(async () => {
      const found = (await audit('key.invalidated')).filter((r) => r.targetId === id);
      expect(found).toHaveLength(1);
      return found;
    });
    expect(rows[0].detail).toMatchObject({ providerStatus: 401, requestStatus: 401 });
    const metrics = await fetch(`${stack.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(
      /^byok_keys_invalidated_total\{provider="mistral",key_source="org"\} 1$/m,
    );
  });

  it('lets only org admins verify organisation keys', async () => {
    const id = (await orgKeys())[0].id;
    const byMember = await member.post(`/api/org/api-keys/${id}/verify`);
    expect(byMember.status).toBe(403);
    expect((await orgAdmin.post(`/api/org/api-keys/${id}/verify`)).status).toBe(200);
  });

  it('caps keys per owner and provider at MAX_KEYS_PER_PROVIDER, naming the cap', async () => {
    const user = api.as(jwt('capped'));
    for (let i = 0; i < 3; i++) {
      const r = await user.post('/api/user/api-keys', {
        provider: 'openai',
        keyName: `k${i}`,
        apiKey: key(i, 'cap'),
      });
      expect(r.status).toBe(201);
    }
    const fourth = await user.post('/api/user/api-keys', {
      provider: 'openai',
      keyName: 'k3',
      apiKey: key(3, 'cap'),
    });
    expect(fourth.status).toBe(409);
    expect(fourth.json).toMatchObject({ code: 'key_cap_reached' });
    expect(fourth.text).toMatch(/3 openai keys.*MAX_KEYS_PER_PROVIDER/);
    // Updating a key by its name is not a new key; another provider has its own cap.
    expect(
      (
        await user.post('/api/user/api-keys', {
          provider: 'openai',
          keyName: 'k0',
          apiKey: key(9, 'cap'),
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await user.post('/api/user/api-keys', {
          provider: 'groq',
          keyName: 'k0',
          apiKey: key(8, 'cap'),
        })
      ).status,
    ).toBe(201);
  });

  it('makes at most PROXY_MAX_ATTEMPTS upstream attempts per request', async () => {
    const owner = api.as(jwt('many-keys'));
    for (let i = 0; i < 3; i++)
      await owner.post('/api/user/api-keys', {
        provider: 'deepseek',
        keyName: `k${i}`,
        apiKey: key(i, 'many'),
      });
    // Two more through the organisation: five candidates in all.
    const orgOwner = api.as(jwt('many-keys', { org_id: 'many', org_role: 'admin' }));
    for (let i = 3; i < 5; i++)
      await orgOwner.post('/api/org/api-keys', {
        provider: 'deepseek',
        keyName: `k${i}`,
        apiKey: key(i, 'many'),
      });
    for (let i = 0; i < 5; i++) stack.double.rateLimitKey(key(i, 'many'), 3);
    const res = await orgOwner.post('/v1/chat/completions', {
      model: 'deepseek/chat',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBe('3');
    const chats = stack.double.requests.filter((r) => r.path.endsWith('/chat/completions'));
    expect(chats.map((r) => r.key)).toEqual([key(0, 'many'), key(1, 'many'), key(2, 'many')]);
  });
});

describe('secrets are read only for the keys a request tries', () => {
  it('serves with the first key although a later key cannot be decrypted', async () => {
    const stack = await startStack({ mode: EMBEDDED });
    try {
      const user = new ApiClient(stack.url, jwt('lazy'));
      const first = await user.post('/api/user/api-keys', {
        provider: 'xai',
        keyName: 'first',
        apiKey: key(1, 'lazy'),
      });
      const second = await user.post('/api/user/api-keys', {
        provider: 'xai',
        keyName: 'second',
        apiKey: key(2, 'lazy'),
      });
      expect([first.status, second.status]).toEqual([201, 201]);
      // Corrupt the second key's ciphertext: reading it fails (as a store outage would).
      await stack.app.app
        .get(DataSource)
        .query(
          `UPDATE local_secrets SET auth_tag = decode('00000000000000000000000000000000', 'hex') WHERE key_id = $1`,
          [(second.json as KeyMeta).id],
        );
      const res = await user.post('/v1/chat/completions', {
        model: 'xai/grok',
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(res.status).toBe(200);
      expect(stack.double.requests.map((r) => r.key)).toEqual([key(1, 'lazy')]);
    } finally {
      await stack.close();
    }
  });
});
