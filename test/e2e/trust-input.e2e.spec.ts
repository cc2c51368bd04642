import { ApiClient, type Exchange } from '../helpers/http';
import { STORE_MODES, testJwt } from '../helpers/modes';
import { startStack, type Stack } from '../helpers/start-stack';

/**
 * Bad input wherever it enters, through the real server in both store modes: JWT claims,
 * body fields, query parameters, path parameters, cursors and deeply nested JSON. Each is a
 * 4xx naming the field (never a 5xx from PostgreSQL refusing a NUL or a too-long value).
 */

const NUL = '\u0000';
const long = (n: number): string => 'x'.repeat(n);
const enc = encodeURIComponent;

interface Problem {
  code?: string;
  detail?: string;
  error?: { code?: string; message?: string };
}

/** A problem-details (or OpenAI envelope) refusal with this status and code, naming `field`. */
function expectRefused(
  ex: Exchange,
  field: string,
  status = 400,
  code = status === 401 ? 'unauthorized' : status === 404 ? 'not_found' : 'validation_failed',
): void {
  const body = ex.json as Problem | undefined;
  const said = { status: ex.status, code: body?.code ?? body?.error?.code };
  expect(said).toEqual({ status, code });
  if (field) expect(body?.detail ?? body?.error?.message).toContain(field);
}

/** JSON with `depth` nested arrays as the value of `field`. */
const nested = (depth: number): string => `${'['.repeat(depth)}1${']'.repeat(depth)}`;

describe.each(STORE_MODES)('bad input is a 4xx naming the field: $name', (mode) => {
  let stack: Stack | undefined;
  let alice: ApiClient;
  let admin: ApiClient;
  let keyId: string;
  let tokenId: string;

  beforeAll(async () => {
    stack = await startStack({ mode });
    alice = new ApiClient(stack.url, testJwt('alice'));
    admin = alice.as(testJwt('root', { byok_admin: true }));
    const saved = await alice.post('/api/user/api-keys', {
      provider: 'cerebras',
      keyName: 'personal',
      apiKey: 'csk-trust-input-0123456789',
    });
    expect(saved.status).toBe(201);
    keyId = (saved.json as { id: string }).id;
    const token = await alice.post('/api/user/tokens', { name: 'cli' });
    expect(token.status).toBe(201);
    tokenId = (token.json as { id: string }).id;
  });

  afterAll(async () => {
    await stack?.close();
  });

  describe('JWT claims', () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['a sub longer than 255 characters', { sub: long(256) }, '"sub"'],
      ['a sub with NUL', { sub: `ali${NUL}ce` }, '"sub"'],
      ['a sub with a newline', { sub: 'alice\nbob' }, '"sub"'],
      ['an org id longer than 255 characters', { sub: 'alice', org_id: long(256) }, '"org_id"'],
      ['an org id with NUL', { sub: 'alice', org_id: `ac${NUL}me` }, '"org_id"'],
    ];

    it.each(cases)('refuses %s with 401 naming the claim (/api)', async (_what, claims, field) => {
      const { sub, ...rest } = claims;
      const jwt = testJwt(sub as string, rest);
      const listed = await alice.as(jwt).get('/api/user/api-keys');
      expectRefused(listed, field, 401);
      const saved = await alice.as(jwt).post('/api/user/api-keys', {
        provider: 'cerebras',
        keyName: 'k',
        apiKey: 'csk-never-saved-0000',
      });
      expectRefused(saved, field, 401);
    });

    it('refuses them on the proxy too, in the OpenAI envelope', async () => {
      const res = await alice
        .as(testJwt(`ali${NUL}ce`))
        .post('/v1/chat/completions', { model: 'cerebras/x', messages: [] });
      expectRefused(res, '"sub"', 401);
      const org = await alice
        .as(testJwt('alice', { org_id: long(300) }))
        .post('/v1/chat/completions', { model: 'cerebras/x', messages: [] });
      expectRefused(org, '"org_id"', 401);
    });

    it('accepts a sub and org id of exactly 255 characters', async () => {
      const res = await alice
        .as(testJwt(long(255), { org_id: long(255) }))
        .get('/api/user/api-keys');
      expect(res.status).toBe(200);
    });
  });

  describe('body fields', () => {
    const save = (body: Record<string, unknown>) =>
      alice.post('/api/user/api-keys', {
        provider: 'cerebras',
        keyName: 'k',
        apiKey: 'csk-body-field-0000',
        ...body,
      });

    it('refuses a keyName with NUL or another control character, or too long', async () => {
      expectRefused(await save({ keyName: `per${NUL}sonal` }), 'keyName');
      expectRefused(await save({ keyName: 'per\tsonal' }), 'keyName');
      expectRefused(await save({ keyName: long(101) }), 'keyName');
      expectRefused(
        await alice.patch(`/api/user/api-keys/${keyId}`, { keyName: `a${NUL}` }),
        'keyName',
      );
    });

    it('refuses a provider id that is too long', async () => {
      expectRefused(await save({ provider: long(65) }), 'provider');
    });

    it('refuses an apiKey with " or \\, saying which characters are allowed', async () => {
      for (const apiKey of ['csk-with"quote-0000', 'csk-with\\backslash-0000', `csk-${NUL}-0000`]) {
        const res = await save({ apiKey });
        expectRefused(res, 'apiKey');
        expect((res.json as Problem).detail).toContain(
          'visible ASCII characters (! to ~) except " and \\',
        );
        expect(res.text).not.toContain(apiKey.slice(4, 12));
      }
      const rotated = await alice.post(`/api/user/api-keys/${keyId}/rotate`, {
        apiKey: 'csk-rotate"quote-0000',
      });
      expectRefused(rotated, 'apiKey');
    });

    it('refuses an access token name or provider with control characters', async () => {
      expectRefused(await alice.post('/api/user/tokens', { name: `cli${NUL}` }), 'name');
      expectRefused(await alice.post('/api/user/tokens', { name: 'c\r\nli' }), 'name');
      expectRefused(
        await alice.post('/api/user/tokens', { name: 'cli', providers: [`open${NUL}ai`] }),
        'providers',
      );
    });
  });

  describe('query parameters and cursors', () => {
    it('refuses bad filters on GET /api/admin/api-keys', async () => {
      expectRefused(await admin.get(`/api/admin/api-keys?ownerId=${enc(`a${NUL}`)}`), 'ownerId');
      expectRefused(await admin.get(`/api/admin/api-keys?ownerId=${long(256)}`), 'ownerId');
      expectRefused(await admin.get(`/api/admin/api-keys?provider=${enc(`a${NUL}`)}`), 'provider');
    });

    it('refuses a malformed cursor on GET /api/admin/api-keys', async () => {
      expectRefused(await admin.get('/api/admin/api-keys?cursor=garbage'), 'cursor');
      expectRefused(await admin.get(`/api/admin/api-keys?cursor=${enc(NUL)}`), 'cursor');
      expectRefused(await admin.get(`/api/admin/api-keys?cursor=${long(5000)}`), 'cursor');
    });

    it('refuses bad filters and a malformed cursor on GET /api/admin/audit', async () => {
      expectRefused(await admin.get(`/api/admin/audit?actorSub=${enc(`a${NUL}`)}`), 'actorSub');
      expectRefused(await admin.get(`/api/admin/audit?targetId=${enc(`a${NUL}`)}`), 'targetId');
      expectRefused(await admin.get('/api/admin/audit?cursor=garbage'), 'cursor');
      expectRefused(await admin.get(`/api/admin/audit?cursor=${long(5000)}`), 'cursor');
    });

    it('refuses a bad sub or cursor on GET /api/admin/tokens', async () => {
      expectRefused(await admin.get(`/api/admin/tokens?sub=${enc(`a${NUL}`)}`), 'sub');
      expectRefused(await admin.get(`/api/admin/tokens?sub=${long(256)}`), 'sub');
      expectRefused(await admin.get('/api/admin/tokens?cursor=garbage'), 'cursor');
    });

    it('refuses a bad ownerId on GET /api/user/usage', async () => {
      const q = `ownerType=user&ownerId=${enc(`a${NUL}`)}`;
      expectRefused(await admin.get(`/api/user/usage?${q}`), 'ownerId');
    });
  });

  describe('path parameters', () => {
    it('refuses a :provider with NUL or too long, naming it', async () => {
      expectRefused(await alice.get(`/api/user/api-keys/${enc(`cere${NUL}bras`)}`), 'provider');
      expectRefused(await alice.get(`/api/user/api-keys/${long(300)}`), 'provider');
    });

    it('refuses an :id with NUL or too long, naming it', async () => {
      expectRefused(await alice.patch(`/api/user/api-keys/${enc(NUL)}`, { isActive: false }), 'id');
      expectRefused(await alice.delete(`/api/user/api-keys/${long(300)}`), 'id');
      expectRefused(await alice.delete(`/api/user/tokens/${enc(`a${NUL}`)}`), 'id');
      expectRefused(await admin.delete(`/api/admin/api-keys/${enc(`a${NUL}`)}`), 'id');
    });

    it('answers 404 for ids that are not UUIDs, without asking the database', async () => {
      for (const res of [
        await alice.patch('/api/user/api-keys/not-a-uuid', { isActive: false }),
        await alice.post('/api/user/api-keys/not-a-uuid/rotate', { apiKey: 'csk-new-0000' }),
        await alice.post("/api/user/api-keys/1'or'1/verify"),
        await alice.delete('/api/user/tokens/not-a-uuid'),
        await admin.delete('/api/admin/api-keys/not-a-uuid'),
      ])
        expectRefused(res, '', 404);
      // The real ones still work.
      expect((await alice.patch(`/api/user/api-keys/${keyId}`, { priority: 1 })).status).toBe(200);
      expect((await alice.get('/api/user/tokens')).text).toContain(tokenId);
    });

    it("refuses a URL the router cannot read in the API's own shape", async () => {
      // Past what any id may be, and malformed percent-encoding: refused before any route runs.
      expectRefused(await alice.get(`/api/user/api-keys/${long(5000)}`), 'path parameter');
      expectRefused(await alice.get('/api/user/api-keys/%zz'), 'percent-encoding');
      const proxied = await alice.post('/proxy/%zz/chat', {});
      expectRefused(proxied, 'percent-encoding');
      expect(proxied.json).toHaveProperty('error.type', 'invalid_request_error');
    });

    it('refuses a :sub with NUL or too long on the admin limits routes', async () => {
      expectRefused(await admin.get(`/api/admin/users/${enc(`bob${NUL}`)}/limits`), 'sub');
      expectRefused(
        await admin.call('PUT', `/api/admin/users/${long(300)}/limits`, { requestsPerMinute: 5 }),
        'sub',
      );
    });
  });

  describe('JSON nesting', () => {
    it('refuses a body nested deeper than 32 levels before validation runs', async () => {
      const body = `{"provider":"cerebras","keyName":"k","apiKey":"csk-deep-0000","x":${nested(32)}}`;
      const res = await alice.post('/api/user/api-keys', body);
      expectRefused(res, 'nested deeper than 32');
      expect((res.json as Problem).detail).toContain('body');
    });

    it('refuses a very deep body with a 400, not a 5xx', async () => {
      const deep = `{"keyName":${nested(100_000)}}`;
      expectRefused(
        await alice.patch(`/api/user/api-keys/${keyId}`, deep),
        'nested deeper than 32',
      );
      const objects = `${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`;
      expectRefused(await alice.post('/api/user/tokens', objects), 'nested deeper than 32');
    });

    it('lets a body within the limit through to validation (brackets inside strings do not count)', async () => {
      const res = await alice.patch(
        `/api/user/api-keys/${keyId}`,
        // 32 levels exactly: the object, then 31 arrays.
        `{"keyName":"${'[{'.repeat(40)}","isActive":${nested(31)}}`,
      );
      expectRefused(res, 'isActive must be a boolean');
    });
  });

  it('never answered with a 5xx', () => {
    const failed = alice.seen.filter((e) => e.status >= 500).map((e) => e.text);
    expect(failed).toEqual([]);
  });
});
