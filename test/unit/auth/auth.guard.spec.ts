import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdminOnly } from '../../../src/auth/admin-only.decorator';
import type { AuditService } from '../../../src/audit/audit.service';
import { AuthGuard } from '../../../src/auth/auth.guard';
import { Authenticator } from '../../../src/auth/authenticator';
import type { Caller } from '../../../src/auth/caller';
import { JwtStrategy } from '../../../src/auth/jwt.strategy';
import { Public } from '../../../src/auth/public.decorator';
import { loadConfig } from '../../../src/config/app-config';
import type { OrgSightings } from '../../../src/tokens/org-sightings';
import type { TokensService } from '../../../src/tokens/tokens.service';
import { mintAlgNone, mintHs256 } from '../../helpers/mint-jwt';

const SECRET = 'guard-test-secret-that-is-long-enough-0123456789';
const TOKEN = `byok_${'a'.repeat(43)}`;

class Routes {
  @Public() health(): void {}
  keys(): void {}
  @AdminOnly() audit(): void {}
}

@Public()
class PublicRoutes {
  page(): void {}
}

interface FakeRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  routeOptions: { url: string };
  ip: string;
  id: string;
  caller?: Caller;
}

function request(
  method: string,
  route: string,
  headers: Record<string, string> = {},
  url = route,
): FakeRequest {
  return { method, url, headers, routeOptions: { url: route }, ip: '203.0.113.7', id: 'req-1' };
}

function context(req: FakeRequest, handler: () => void, cls: object = Routes): ExecutionContext {
  return {
    getType: () => 'http',
    getHandler: () => handler,
    getClass: () => cls,
    switchToHttp: () => ({ getRequest: () => req }),
  } as unknown as ExecutionContext;
}

const tokenCaller: Caller = {
  kind: 'token',
  sub: 'alice',
  orgId: 'acme',
  orgAdmin: false,
  admin: false,
  tokenId: '00000000-0000-4000-8000-000000000001',
  providers: ['cerebras'],
};

describe('AuthGuard', () => {
  let dataDir: string;
  let strategy: JwtStrategy;
  let guard: AuthGuard;
  const validate = jest.fn<Promise<Caller | undefined>, [string]>();
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
  const routes = Routes.prototype;

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'byok-guard-'));
    const config = loadConfig({ DATA_DIR: dataDir, AUTH_JWT_SECRET: SECRET });
    strategy = new JwtStrategy(config);
    // The tokens service is a port-like dependency: a fake stands in for its database.
    const tokens = { validate } as unknown as TokensService;
    // So is the audit log: refused credentials are recorded there, which these tests do not read.
    const audit = { authFailed: jest.fn() } as unknown as AuditService;
    const sightings = { seen: () => undefined } as unknown as OrgSightings;
    guard = new AuthGuard(
      new Reflector(),
      new Authenticator(strategy, tokens, audit, sightings, config),
      config,
    );
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  beforeEach(() => {
    validate.mockReset();
    validate.mockImplementation((raw) => Promise.resolve(raw === TOKEN ? tokenCaller : undefined));
  });

  it('lets @Public() routes through without a credential', async () => {
    const req = request('GET', '/healthz');
    await expect(guard.canActivate(context(req, routes.health))).resolves.toBe(true);
    await expect(
      guard.canActivate(context(req, PublicRoutes.prototype.page, PublicRoutes)),
    ).resolves.toBe(true);
    expect(req.caller).toBeUndefined();
  });

  it('asks for a credential when there is none', async () => {
    await expect(
      guard.canActivate(context(request('GET', '/api/user/api-keys'), routes.keys)),
    ).rejects.toMatchObject({
      code: 'unauthorized',
      message: 'Missing credential: send Authorization: Bearer <JWT or byok_ access token>',
    });
  });

  it('sets request.caller from a JWT, and verifies it once per cache period', async () => {
    const verify = jest.spyOn(strategy, 'verify');
    const jwt = mintHs256(SECRET, { sub: 'alice', org_id: 'acme' });
    for (let i = 0; i < 3; i += 1) {
      const req = request('POST', '/api/user/api-keys', bearer(jwt));
      await expect(guard.canActivate(context(req, routes.keys))).resolves.toBe(true);
      expect(req.caller).toMatchObject({ kind: 'jwt', sub: 'alice', orgId: 'acme' });
    }
    expect(verify).toHaveBeenCalledTimes(1);
    verify.mockRestore();
  });

  it('never serves a JWT from the cache past its exp', async () => {
    const start = Date.now();
    const now = jest.spyOn(Date, 'now').mockReturnValue(start);
    try {
      const jwt = mintHs256(SECRET, { sub: 'bob' }, { expiresIn: 5 });
      await guard.canActivate(context(request('GET', '/api/x', bearer(jwt)), routes.keys));
      now.mockReturnValue(start + 6000);
      await expect(
        guard.canActivate(context(request('GET', '/api/x', bearer(jwt)), routes.keys)),
      ).rejects.toMatchObject({
        code: 'unauthorized',
        message: expect.stringMatching(/^JWT expired at /),
      });
    } finally {
      now.mockRestore();
    }
  });

  it('passes on what is wrong with a bad JWT', async () => {
    await expect(
      guard.canActivate(
        context(request('GET', '/api/x', bearer(mintAlgNone({ sub: 'a' }))), routes.keys),
      ),
    ).rejects.toMatchObject({ status: 401, message: expect.stringContaining('algorithm none') });
  });

  it('accepts an access token from Authorization or x-api-key', async () => {
    for (const headers of [bearer(TOKEN), { 'x-api-key': TOKEN }]) {
      const req = request('POST', '/v1/*', headers, '/v1/chat/completions');
      await expect(guard.canActivate(context(req, routes.keys))).resolves.toBe(true);
      // The request's own copy, naming where it came from for the audit log; the cached
      // caller is shared by every request with that token and stays as it was.
      expect(req.caller).toEqual({ ...tokenCaller, origin: { ip: '203.0.113.7', id: 'req-1' } });
      expect(tokenCaller.origin).toBeUndefined();
    }
    expect(validate).toHaveBeenCalledWith(TOKEN);
  });

  it('refuses an unknown, revoked or expired access token', async () => {
    const req = request('GET', '/v1/*', bearer(`byok_${'b'.repeat(43)}`), '/v1/models');
    await expect(guard.canActivate(context(req, routes.keys))).rejects.toMatchObject({
      code: 'unauthorized',
      message: expect.stringContaining('invalid, expired or revoked'),
    });
  });

  it.each([
    ['POST', '/v1/*'],
    ['GET', '/v1/*'],
    ['POST', '/proxy/:provider/*'],
    ['DELETE', '/proxy/:provider/*'],
    ['GET', '/api/user/api-keys'],
    ['HEAD', '/api/user/tokens'],
  ])('lets an access token %s %s', async (method, route) => {
    const req = request(method, route, bearer(TOKEN));
    await expect(guard.canActivate(context(req, routes.keys))).resolves.toBe(true);
  });

  it.each([
    ['POST', '/api/user/tokens'],
    ['DELETE', '/api/user/tokens/:id'],
    ['PATCH', '/api/user/api-keys/:id'],
    ['POST', '/api/org/api-keys'],
  ])('keeps an access token read-only: %s %s is 403', async (method, route) => {
    await expect(
      guard.canActivate(context(request(method, route, bearer(TOKEN)), routes.keys)),
    ).rejects.toMatchObject({
      code: 'forbidden',
      status: 403,
      message:
        'Access tokens are read-only on /api: use a JWT to create, change or delete keys and tokens',
    });
  });

  it('decides on the matched route, not a crafted URL, and refuses other paths', async () => {
    const crafted = request('POST', '/api/user/tokens', bearer(TOKEN), '/v1/../api/user/tokens');
    await expect(guard.canActivate(context(crafted, routes.keys))).rejects.toMatchObject({
      code: 'forbidden',
    });
    await expect(
      guard.canActivate(context(request('GET', '/metrics', bearer(TOKEN)), routes.keys)),
    ).rejects.toMatchObject({ code: 'forbidden', message: expect.stringContaining('/v1, /proxy') });
  });

  it('lets only administrators through @AdminOnly()', async () => {
    const admin = mintHs256(SECRET, { sub: 'root', byok_admin: true });
    const user = mintHs256(SECRET, { sub: 'alice', byok_admin: 'false' });
    await expect(
      guard.canActivate(context(request('GET', '/api/admin/audit', bearer(admin)), routes.audit)),
    ).resolves.toBe(true);
    for (const credential of [user, TOKEN]) {
      await expect(
        guard.canActivate(
          context(request('GET', '/api/admin/audit', bearer(credential)), routes.audit),
        ),
      ).rejects.toMatchObject({
        code: 'forbidden',
        message: expect.stringContaining('"byok_admin"'),
      });
    }
  });
});
