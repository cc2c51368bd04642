import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { ApiClient, type Exchange } from '../helpers/http';
import { STORE_MODES, testJwt } from '../helpers/modes';
import { startStack, type Stack } from '../helpers/start-stack';

/**
 * The /api contract as a fuzzer (scripts/fuzz-api.sh, schemathesis) holds it to, through the real
 * server in both store modes: the concrete failures it found, each pinned by a regression test.
 */

interface Key {
  id: string;
  provider: string;
  keyName: string;
  isActive: boolean;
  priority: number;
  keyHint: string;
  status: string;
  ownerType: string;
  createdAt: string;
  updatedAt: string;
  lastUsedAt: string | null;
  lastVerifiedAt: string | null;
  version: number;
  limits: Record<string, number | null> | null;
}

interface Problem {
  status: number;
  code: string;
  detail: string;
  fields?: string[];
}

type Json = Record<string, unknown>;

/** Any method, TRACE included (fetch refuses to send it). */
function raw(method: string, url: string, token?: string): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const headers = token ? { authorization: `Bearer ${token}` } : {};
    const req = request(url, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        const h = Object.fromEntries(
          Object.entries(res.headers).map(([k, v]) => [k, [v ?? ''].flat().join(', ')]),
        );
        resolve({ status: res.statusCode ?? 0, headers: h, text, json });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** A problem-details refusal: status, code and content type, and a `detail` naming `field`. */
function expectProblem(ex: Exchange, status: number, code: string, field?: string): void {
  expect({ status: ex.status, code: (ex.json as Problem | undefined)?.code }).toEqual({
    status,
    code,
  });
  expect(ex.headers['content-type']).toMatch(/^application\/problem\+json/);
  if (field) expect((ex.json as Problem).detail).toContain(field);
}

describe.each(STORE_MODES)('the /api contract: $name', (mode) => {
  let stack: Stack | undefined;
  let alice: ApiClient;
  let orgAdmin: ApiClient;
  let admin: ApiClient;
  let spec: Json;

  beforeAll(async () => {
    stack = await startStack({ mode });
    alice = new ApiClient(stack.url, testJwt('alice'));
    orgAdmin = alice.as(testJwt('dave', { org_id: 'acme', org_role: 'admin' }));
    admin = alice.as(testJwt('root', { byok_admin: true }));
    spec = (await alice.get('/docs/json')).json as Json;
  });

  afterAll(async () => {
    await stack?.close();
  });

  const scopes = [
    ['user', () => alice],
    ['org', () => orgAdmin],
  ] as const;

  async function saveKey(api: ApiClient, scope: string, keyName: string): Promise<Key> {
    const res = await api.post(`/api/${scope}/api-keys`, {
      provider: 'cerebras',
      keyName,
      apiKey: `csk-contract-${randomUUID()}`,
    });
    expect(res.status).toBe(201);
    return res.json as Key;
  }

  describe.each(scopes)('PATCH /api/%s/api-keys/:id', (scope, client) => {
    it.each(['keyName', 'isActive', 'priority'])(
      'refuses %s: null with a 400 naming the field, and changes nothing',
      async (field) => {
        const key = await saveKey(client(), scope, `null-${field}`);
        const res = await client().patch(`/api/${scope}/api-keys/${key.id}`, { [field]: null });
        expectProblem(res, 400, 'validation_failed', field);
        expect((res.json as Problem).fields).toEqual([field]);
        const list = (await client().get(`/api/${scope}/api-keys`)).json as { data: Key[] };
        expect(list.data.find((k) => k.id === key.id)).toEqual(key);
      },
    );

    it('takes limits: null, which clears the limits', async () => {
      const key = await saveKey(client(), scope, 'limits-null');
      const path = `/api/${scope}/api-keys/${key.id}`;
      const set = await client().patch(path, { limits: { requestsPerMinute: 5 } });
      expect(set.status).toBe(200);
      expect((set.json as Key).limits).toMatchObject({ requestsPerMinute: 5 });
      const cleared = await client().patch(path, { limits: null });
      expect(cleared.status).toBe(200);
      expect((cleared.json as Key).limits).toBeNull();
    });

    it('answers {} with the whole, current key, still active', async () => {
      const key = await saveKey(client(), scope, 'empty-patch');
      const res = await client().patch(`/api/${scope}/api-keys/${key.id}`, {});
      expect(res.status).toBe(200);
      expect(res.json).toEqual(key);
      expect((res.json as Key).status).toBe('active');
    });

    it('answers a one-field change with the whole key as stored', async () => {
      const key = await saveKey(client(), scope, 'one-field');
      const res = await client().patch(`/api/${scope}/api-keys/${key.id}`, { priority: 3 });
      expect(res.status).toBe(200);
      const body = res.json as Key;
      expect(body).toEqual({ ...key, priority: 3, updatedAt: body.updatedAt });
      expect(body.status).toBe('active');
      const list = (await client().get(`/api/${scope}/api-keys`)).json as { data: Key[] };
      expect(list.data.find((k) => k.id === key.id)).toEqual(body);
      const off = await client().patch(`/api/${scope}/api-keys/${key.id}`, { isActive: false });
      expect(off.json).toEqual({
        ...body,
        isActive: false,
        status: 'inactive',
        updatedAt: expect.any(String),
      });
    });

    it('refuses a keyName another key has with 409 key_name_taken', async () => {
      await saveKey(client(), scope, 'taken');
      const other = await saveKey(client(), scope, 'free');
      const res = await client().patch(`/api/${scope}/api-keys/${other.id}`, { keyName: 'taken' });
      expectProblem(res, 409, 'key_name_taken', 'keyName');
    });
  });

  describe('methods a route does not take', () => {
    const ALICE = testJwt('alice');

    it.each([
      ['TRACE', '/api/providers', 'GET, HEAD'],
      ['OPTIONS', '/api/providers', 'GET, HEAD'],
      ['PUT', '/api/user/api-keys', 'GET, HEAD, POST'],
      ['TRACE', `/api/org/api-keys/${randomUUID()}/rotate`, 'POST'],
      ['DELETE', `/api/user/api-keys/${randomUUID()}/verify`, 'POST'],
      ['POST', '/api/admin/users/alice/limits', 'GET, HEAD, PUT'],
    ])('answers %s %s with 405 and Allow: %s, whoever asks', async (method, path, allow) => {
      for (const token of [ALICE, undefined]) {
        const res = await raw(method, stack!.url + path, token);
        expect(res.headers.allow).toBe(allow);
        expectProblem(res, 405, 'method_not_allowed', allow);
      }
    });

    it('answers TRACE on a key or provider URL with every method that path takes', async () => {
      for (const id of [randomUUID(), 'cerebras']) {
        const res = await raw('TRACE', `${stack!.url}/api/user/api-keys/${id}`, ALICE);
        expect(res.headers.allow).toBe('GET, HEAD, PATCH, DELETE');
        expectProblem(res, 405, 'method_not_allowed');
      }
    });

    it('answers GET on a key URL with that key, and an id that is no key with 404', async () => {
      const key = await saveKey(alice, 'user', 'get-by-id');
      await alice.patch(`/api/user/api-keys/${key.id}`, { isActive: false });
      const one = await alice.get(`/api/user/api-keys/${key.id}`);
      expect(one.status).toBe(200);
      expect(one.json).toEqual({
        data: [{ ...key, isActive: false, status: 'inactive', updatedAt: expect.any(String) }],
      });
      expectProblem(await alice.get(`/api/user/api-keys/${randomUUID()}`), 404, 'not_found');
      expectProblem(await orgAdmin.get(`/api/org/api-keys/${key.id}`), 404, 'not_found');
      expectProblem(await alice.get('/api/user/api-keys/nope'), 400, 'provider_unknown');
      expectProblem(await alice.patch('/api/user/api-keys/cerebras', {}), 404, 'not_found');
    });

    it('still answers 404 for a path no route has, and leaves the proxy routes alone', async () => {
      expectProblem(await raw('TRACE', `${stack!.url}/api/nothing-here`, ALICE), 404, 'not_found');
      expect((await raw('TRACE', `${stack!.url}/v1/models`, ALICE)).status).not.toBe(405);
    });
  });

  describe('errors are served as documented', () => {
    it('serves every /api error as application/problem+json', async () => {
      const cases: Exchange[] = [
        await alice.as(undefined).get('/api/user/api-keys'),
        await alice.get('/api/admin/audit'),
        await alice.delete(`/api/user/api-keys/${randomUUID()}`),
        await alice.post('/api/user/api-keys', { provider: 'cerebras' }),
        await raw('TRACE', `${stack!.url}/api/user/tokens`),
      ];
      expect(cases.map((c) => c.status)).toEqual([401, 403, 404, 400, 405]);
      for (const c of cases)
        expect(c.headers['content-type']).toMatch(/^application\/problem\+json/);
    });

    it('documents every /api error response as application/problem+json only', () => {
      const paths = spec.paths as Record<string, Record<string, Json>>;
      const errors: string[] = [];
      for (const [path, item] of Object.entries(paths)) {
        if (!path.startsWith('/api/')) continue;
        for (const [method, op] of Object.entries(item)) {
          for (const [status, res] of Object.entries(op.responses as Record<string, Json>)) {
            if (Number(status) < 400) continue;
            const types = Object.keys((res.content as Json | undefined) ?? {});
            if (types.join() !== 'application/problem+json')
              errors.push(`${method} ${path} ${status}: ${types.join() || 'none'}`);
          }
        }
      }
      expect(errors).toEqual([]);
    });
  });

  describe('the schemas are as strict as the server', () => {
    const schemas = () => (spec.components as { schemas: Record<string, Json> }).schemas;
    const props = (name: string) => schemas()[name].properties as Record<string, Json>;

    it('closes every request body and states integers, lengths and provider ids', () => {
      for (const name of [
        'SaveKeyDto',
        'UpdateKeyDto',
        'RotateKeyDto',
        'CreateTokenDto',
        'LimitsDto',
      ])
        expect(schemas()[name].additionalProperties).toBe(false);
      expect(props('UpdateKeyDto').priority.type).toBe('integer');
      expect(props('LimitsDto').requestsPerMinute.type).toBe('integer');
      expect(props('SaveKeyDto').keyName).toMatchObject({ minLength: 1, maxLength: 100 });
      expect(props('SaveKeyDto').provider.enum).toEqual(expect.arrayContaining(['cerebras']));
      expect((props('CreateTokenDto').providers.items as Json).enum).toContain('openai');
      expect(props('CreateTokenDto').providers.nullable).toBeUndefined();
      const query = (path: string, name: string) =>
        (
          (spec.paths as Record<string, { get: { parameters: Json[] } }>)[path].get.parameters.find(
            (p) => p.name === name,
          ) as { schema: Json }
        ).schema;
      expect(query('/api/admin/audit', 'limit').type).toBe('integer');
      expect(query('/api/admin/tokens', 'limit').type).toBe('integer');
      expect(query('/api/user/usage', 'from').pattern).toEqual(expect.any(String));
    });

    it("accepts the spec's own examples", async () => {
      const example = Object.fromEntries(
        Object.entries(props('SaveKeyDto')).map(([k, v]) => [k, v.example]),
      );
      delete example.verify;
      const res = await alice.post('/api/user/api-keys', example);
      expect(res.status).toBe(201);
    });

    it.each([
      ['keyName ""', { provider: 'cerebras', keyName: '', apiKey: 'csk-abcd' }, 'keyName'],
      [
        'keyName of spaces',
        { provider: 'cerebras', keyName: '   ', apiKey: 'csk-abcd' },
        'keyName',
      ],
      [
        'an apiKey with a quote',
        { provider: 'cerebras', keyName: 'q', apiKey: 'csk-"x' },
        'apiKey',
      ],
      ['an unknown property', { provider: 'cerebras', keyName: 'x', apiKey: 'csk-a', x: 1 }, 'x'],
    ])('refuses a save with %s', async (_what, body, field) => {
      expectProblem(await alice.post('/api/user/api-keys', body), 400, 'validation_failed', field);
    });

    it('refuses providers: [""] and providers: null on token creation', async () => {
      expect((await alice.post('/api/user/tokens', { name: 'x', providers: [''] })).status).toBe(
        400,
      );
      expectProblem(
        await alice.post('/api/user/tokens', { name: 'x', providers: null }),
        400,
        'validation_failed',
        'providers',
      );
    });

    it('refuses extra properties in limits, and takes a budget of any precision', async () => {
      const path = '/api/admin/users/erin/limits';
      expectProblem(
        await admin.call('PUT', path, { requestsPerMinute: 5, x: 1 }),
        400,
        'validation_failed',
        'x',
      );
      const tiny = await admin.call('PUT', path, { monthlyBudgetUsd: 1e-7 });
      expect(tiny.status).toBe(200);
      expect((tiny.json as Json).monthlyBudgetUsd).toBe(0);
      const cents = await admin.call('PUT', path, { monthlyBudgetUsd: 12.3456789 });
      expect((cents.json as Json).monthlyBudgetUsd).toBe(12.345679);
    });

    it.each([
      '/api/user/usage?from=%08',
      '/api/user/usage?from=2026-02-29',
      '/api/user/usage?to=0000-01-01',
      '/api/admin/audit?limit=1.5',
      '/api/admin/audit?limit=0x10',
      '/api/admin/tokens?cursor=',
    ])('refuses %s', async (path) => {
      expect((await admin.get(path)).status).toBe(400);
    });

    it.each([
      '/api/user/usage?to=9999-12-31',
      '/api/user/usage?to=0001-01-01',
      '/api/user/usage?from=0001-01-01T00:00%2B01:00',
      '/api/user/usage?from=2024-02-29T23:59:59.123456789Z',
      '/api/admin/audit?limit=%2B5&from=0001-01-01',
    ])('answers %s (the ends of the documented range)', async (path) => {
      expect((await admin.get(path)).status).toBe(200);
    });
  });

  it('pages with a cursor of the documented shape', async () => {
    for (const n of [1, 2, 3]) await saveKey(alice, 'user', `page-${n}`);
    const pattern = new RegExp(
      (
        (spec.paths as Record<string, { get: { parameters: Json[] } }>)[
          '/api/admin/api-keys'
        ].get.parameters.find((p) => p.name === 'cursor') as { schema: { pattern: string } }
      ).schema.pattern,
    );
    const first = (await admin.get('/api/admin/api-keys?limit=1')).json as {
      nextCursor: string;
    };
    expect(first.nextCursor).toMatch(pattern);
    const next = await admin.get(`/api/admin/api-keys?limit=1&cursor=${first.nextCursor}`);
    expect(next.status).toBe(200);
  });
});
