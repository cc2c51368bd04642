import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from '../generated/openapi';
import { contractMiddleware, loadSpec } from '../helpers/openapi-contract';
import { STORE_MODES, testJwt } from '../helpers/modes';
import { startStack, type Stack } from '../helpers/start-stack';

// A client generated from the committed openapi.yaml (openapi-typescript → test/generated/,
// kept current by the test command's openapi-client-drift step) drives the real server. The
// generated types check every request body and every field read here at compile time, so a
// field renamed in the spec but not in the server fails the type-check; the contract
// middleware checks every response at run time against the same document (status, content
// type, body schema, no undocumented field), so a server that drifts from the spec fails here.

type KeyMetadata = components['schemas']['KeyMetadataDto'];
type Token = components['schemas']['TokenDto'];
type Problem = components['schemas']['ProblemDto'];
type SaveKey = components['schemas']['SaveKeyDto'];

const spec = loadSpec();
const DAY_MS = 86_400_000;

describe.each(STORE_MODES)('the generated client against the server: $name', (mode) => {
  let stack: Stack | undefined;
  let api: Client<paths>;
  /** Every way a response departed from openapi.yaml; checked after each test. */
  const violations: string[] = [];

  beforeAll(async () => {
    stack = await startStack({ mode });
    api = createClient<paths>({
      baseUrl: stack.url,
      headers: { authorization: `Bearer ${testJwt('alice')}` },
    });
    api.use(contractMiddleware(spec, violations));
  });

  afterAll(async () => {
    await stack?.close();
  });

  afterEach(() => {
    expect(violations.splice(0)).toEqual([]);
  });

  it('saves, lists, patches, rotates and deletes a key', async () => {
    const first = await api.POST('/api/user/api-keys', {
      body: { provider: 'cerebras', keyName: 'personal', apiKey: 'csk-first-key-abcd' },
    });
    expect(first.response.status).toBe(201);
    const created = first.data!;
    expect(created).toStrictEqual<KeyMetadata>({
      id: expect.any(String),
      provider: 'cerebras',
      keyName: 'personal',
      isActive: true,
      priority: 0,
      keyHint: '…abcd',
      status: 'active',
      ownerType: 'user',
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      lastUsedAt: null,
      lastVerifiedAt: null,
      version: 1,
      limits: null,
      params: null,
    });
    const { id } = created;

    // The same provider + keyName again: a new secret version of the same key (200).
    const again = await api.POST('/api/user/api-keys', {
      body: { provider: 'cerebras', keyName: 'personal', apiKey: 'csk-second-key-efgh' },
    });
    expect(again.response.status).toBe(200);
    expect(again.data).toMatchObject<Partial<KeyMetadata>>({ id, version: 2, keyHint: '…efgh' });

    const listed = await api.GET('/api/user/api-keys');
    expect(listed.response.status).toBe(200);
    expect(listed.data!.data.map((k) => [k.id, k.version])).toEqual([[id, 2]]);

    const renamed = await api.PATCH('/api/user/api-keys/{id}', {
      params: { path: { id } },
      body: { keyName: 'work', priority: 5, limits: { requestsPerMinute: 60 } },
    });
    expect(renamed.response.status).toBe(200);
    expect(renamed.data).toMatchObject<Partial<KeyMetadata>>({
      keyName: 'work',
      priority: 5,
      limits: {
        requestsPerMinute: 60,
        tokensPerMinute: null,
        tokensPerDay: null,
        monthlyBudgetUsd: null,
      },
    });

    const off = await api.PATCH('/api/user/api-keys/{id}', {
      params: { path: { id } },
      body: { isActive: false },
    });
    // Every field, not only those sent (the PATCH answer once dropped the ones left out).
    expect(off.data).toStrictEqual<KeyMetadata>({
      ...renamed.data!,
      isActive: false,
      status: 'inactive',
      updatedAt: expect.any(String),
    });
    // GET /api/user/api-keys/{id} with a provider id lists its active keys in resolution
    // order: none now (404).
    const none = await api.GET('/api/user/api-keys/{id}', { params: { path: { id: 'cerebras' } } });
    expect(none.response.status).toBe(404);
    expect(none.error?.code).toBe('not_found');

    const on = await api.PATCH('/api/user/api-keys/{id}', {
      params: { path: { id } },
      body: { isActive: true },
    });
    expect(on.data).toMatchObject<Partial<KeyMetadata>>({ isActive: true, status: 'active' });

    const rotated = await api.POST('/api/user/api-keys/{id}/rotate', {
      params: { path: { id } },
      body: { apiKey: 'csk-rotated-key-wxyz' },
    });
    expect(rotated.response.status).toBe(200);
    expect(rotated.data).toMatchObject<Partial<KeyMetadata>>({ id, version: 3, keyHint: '…wxyz' });

    // Listed with every documented field, and no other.
    const expected: KeyMetadata = {
      id,
      provider: 'cerebras',
      keyName: 'work',
      isActive: true,
      priority: 5,
      keyHint: '…wxyz',
      status: 'active',
      ownerType: 'user',
      createdAt: created.createdAt,
      updatedAt: rotated.data!.updatedAt,
      lastUsedAt: null,
      lastVerifiedAt: null,
      version: 3,
      limits: {
        requestsPerMinute: 60,
        tokensPerMinute: null,
        tokensPerDay: null,
        monthlyBudgetUsd: null,
      },
      params: null,
    };
    expect((await api.GET('/api/user/api-keys')).data).toStrictEqual({ data: [expected] });
    const active = await api.GET('/api/user/api-keys/{id}', {
      params: { path: { id: 'cerebras' } },
    });
    expect(active.data).toStrictEqual({ data: [expected] });
    expect(Date.parse(expected.updatedAt)).toBeGreaterThanOrEqual(Date.parse(expected.createdAt));

    const deleted = await api.DELETE('/api/user/api-keys/{id}', { params: { path: { id } } });
    expect(deleted.response.status).toBe(204);
    expect(deleted.data).toBeUndefined();
    expect((await api.GET('/api/user/api-keys')).data).toStrictEqual({ data: [] });
    const gone = await api.DELETE('/api/user/api-keys/{id}', { params: { path: { id } } });
    expect(gone.response.status).toBe(404);
    expect(gone.error?.code).toBe('not_found');
  });

  it('creates, lists and revokes an access token', async () => {
    const before = Date.now();
    const made = await api.POST('/api/user/tokens', {
      body: { name: 'ci job', providers: ['cerebras'] },
    });
    expect(made.response.status).toBe(201);
    const created = made.data!;
    expect(created.token).toMatch(/^byok_/);
    // Without expiresAt a token gets the longest allowed life (README: TOKEN_MAX_TTL_DAYS, 90).
    expect(created.expiresAt).not.toBeNull();
    const ttl = Date.parse(created.expiresAt!) - before;
    expect(ttl).toBeGreaterThan(90 * DAY_MS - 60_000);
    expect(ttl).toBeLessThanOrEqual(90 * DAY_MS + 60_000);

    // Listed with every documented field, and never the token itself.
    const expected: Token = {
      id: created.id,
      name: 'ci job',
      expiresAt: created.expiresAt,
      orgId: null,
      providers: ['cerebras'],
      createdAt: created.createdAt,
      lastUsedAt: null,
    };
    const listed = await api.GET('/api/user/tokens');
    expect(listed.response.status).toBe(200);
    expect(listed.data).toStrictEqual({ data: [expected] });
    expect(created).toStrictEqual({ ...expected, token: created.token });

    // The token reads /api as its owner.
    const asToken = { authorization: `Bearer ${created.token}` };
    const read = await api.GET('/api/user/api-keys', { headers: asToken });
    expect(read.response.status).toBe(200);

    const revoked = await api.DELETE('/api/user/tokens/{id}', {
      params: { path: { id: created.id } },
    });
    expect(revoked.response.status).toBe(204);
    expect((await api.GET('/api/user/tokens')).data).toStrictEqual({ data: [] });

    const refused = await api.GET('/api/user/api-keys', { headers: asToken });
    expect(refused.response.status).toBe(401);
    expect(refused.error?.code).toBe('unauthorized');
  });

  it('answers an unknown provider with the documented problem details', async () => {
    const { data, error, response } = await api.POST('/api/user/api-keys', {
      // Deliberately outside the spec's provider ids, which the types would otherwise refuse.
      body: {
        provider: 'nope' as SaveKey['provider'],
        keyName: 'personal',
        apiKey: 'csk-some-key-abcd',
      },
    });
    expect(data).toBeUndefined();
    expect(response.status).toBe(400);
    // README "Errors": /api answers RFC 9457 problem details as application/problem+json.
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(error).toStrictEqual<Problem>({
      type: 'about:blank',
      title: 'Unknown Provider',
      status: 400,
      detail: expect.stringContaining('cerebras'),
      code: 'provider_unknown',
      instance: '/api/user/api-keys',
      requestId: response.headers.get('x-request-id')!,
      knownProviders: expect.arrayContaining(['cerebras', 'openai', 'anthropic']),
    });
  });
});
