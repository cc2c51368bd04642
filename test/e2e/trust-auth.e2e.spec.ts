import { ConfigError } from '../../src/config/app-config';
import { ApiClient, type Exchange } from '../helpers/http';
import { startJwksServer, type JwksServer } from '../helpers/jwks-server';
import { mintHs256 } from '../helpers/mint-jwt';
import { JWT_SECRET, STORE_MODES } from '../helpers/modes';
import { startStack, type Stack } from '../helpers/start-stack';

/**
 * JWT trust boundaries through the real server: OIDC mode insists on an issuer and an audience
 * (else any token the IdP minted for any other application would do), and a JWT without `exp`
 * is refused in every mode.
 */

const NO_EXPIRY = /JWT has no expiry \("exp" claim\)/;

interface Refusal {
  code?: string;
  detail?: string;
  error?: { code?: string; message?: string };
}

function expectUnauthorized(ex: Exchange, message: RegExp): void {
  const body = ex.json as Refusal;
  expect({ status: ex.status, code: body.code ?? body.error?.code }).toEqual({
    status: 401,
    code: 'unauthorized',
  });
  expect(body.detail ?? body.error?.message).toMatch(message);
}

const chat = { model: 'cerebras/double-small', messages: [{ role: 'user', content: 'hi' }] };

describe('OIDC mode (AUTH_JWKS_URI), on embedded defaults', () => {
  let jwks: JwksServer;
  let stack: Stack | undefined;
  const ISSUER = 'https://issuer.test/';
  const AUDIENCE = 'byok-proxy';

  beforeAll(async () => {
    jwks = await startJwksServer();
  });

  afterAll(async () => {
    await stack?.close();
    await jwks.close();
  });

  it.each([
    [{}, 'AUTH_ISSUER and AUTH_AUDIENCE are required'],
    [{ AUTH_ISSUER: ISSUER }, 'AUTH_AUDIENCE is required'],
    [{ AUTH_AUDIENCE: AUDIENCE }, 'AUTH_ISSUER is required'],
  ])('refuses to start without issuer and audience (%j)', async (extra, missing) => {
    const starting = startStack({ env: { AUTH_JWKS_URI: jwks.jwksUri, ...extra } });
    await expect(starting).rejects.toThrow(ConfigError);
    await expect(starting).rejects.toThrow(
      `${missing} when AUTH_JWKS_URI is set: without them any token your identity provider signed for any other application would be accepted`,
    );
  });

  it('starts with both, and refuses tokens for another audience and tokens without exp', async () => {
    stack = await startStack({
      env: { AUTH_JWKS_URI: jwks.jwksUri, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE },
    });
    const api = new ApiClient(stack.url);
    const good = { sub: 'alice', iss: ISSUER, aud: AUDIENCE };

    const ok = await api.as(jwks.sign(good, 'RS256')).get('/api/user/api-keys');
    expect(ok.status).toBe(200);

    // A token the same IdP minted for another application.
    const other = jwks.sign({ ...good, aud: 'another-app' }, 'ES256');
    expectUnauthorized(await api.as(other).get('/api/user/api-keys'), /audience invalid/);

    for (const alg of ['RS256', 'ES256'] as const) {
      const forever = jwks.sign({ ...good, exp: undefined }, alg);
      expectUnauthorized(await api.as(forever).get('/api/user/api-keys'), NO_EXPIRY);
      expectUnauthorized(await api.as(forever).post('/v1/chat/completions', chat), NO_EXPIRY);
    }
  });
});

describe.each(STORE_MODES)('dev mode (HS256) refuses a JWT without exp: $name', (mode) => {
  let stack: Stack | undefined;
  let api: ApiClient;

  beforeAll(async () => {
    stack = await startStack({ mode });
    api = new ApiClient(stack.url);
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('on /api and on the proxy, while the same token with exp works', async () => {
    const forever = mintHs256(JWT_SECRET, { sub: 'alice', exp: undefined });
    expect(
      JSON.parse(Buffer.from(forever.split('.')[1], 'base64url').toString()),
    ).not.toHaveProperty('exp');
    expectUnauthorized(await api.as(forever).get('/api/user/api-keys'), NO_EXPIRY);
    expectUnauthorized(await api.as(forever).post('/v1/chat/completions', chat), NO_EXPIRY);
    // Not even an administrator's.
    const root = mintHs256(JWT_SECRET, { sub: 'root', byok_admin: true, exp: undefined });
    expectUnauthorized(await api.as(root).get('/api/admin/audit'), NO_EXPIRY);

    const expiring = mintHs256(JWT_SECRET, { sub: 'alice' });
    expect((await api.as(expiring).get('/api/user/api-keys')).status).toBe(200);
  });
});
