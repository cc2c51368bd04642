import { sign } from 'jsonwebtoken';
import { generateKeyPairSync } from 'node:crypto';
import { ApiClient } from '../helpers/http';
import { startJwksServer, type JwksServer } from '../helpers/jwks-server';
import { startStack, type Stack } from '../helpers/start-stack';

const ISSUER = 'https://idp.test';
const AUDIENCE = 'byok-proxy';
const claims = (sub: string) => ({ sub, iss: ISSUER, aud: AUDIENCE });

/** The identity provider's JWKS endpoint going away, and never having been there. */
describe('identity provider outage', () => {
  let jwks: JwksServer;
  let stack: Stack;

  beforeAll(async () => {
    jwks = await startJwksServer();
    stack = await startStack({
      env: { AUTH_JWKS_URI: jwks.jwksUri, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE },
    });
  });
  afterAll(async () => {
    await stack?.close();
    await jwks?.close().catch(() => undefined);
  });

  const keys = (token: string) => new ApiClient(stack.url, token).get('/api/user/api-keys');

  it('keeps accepting JWTs signed with keys already fetched; an unknown key id is a 401 that says why', async () => {
    expect((await keys(jwks.sign(claims('before'), 'RS256'))).status).toBe(200);
    await jwks.close();
    // A JWT never seen before, signed with the key fetched before the outage.
    expect((await keys(jwks.sign(claims('during'), 'RS256'))).status).toBe(200);
    // A rotated key the proxy has not fetched cannot be checked while the IdP is away.
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rotated = sign(claims('rotated'), privateKey, {
      algorithm: 'RS256',
      keyid: 'rotated-key',
      expiresIn: 600,
    });
    const res = await keys(rotated);
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({ code: 'unauthorized' });
    expect(res.text).toMatch(/identity provider could not be reached/);
  });

  it('starts without the JWKS endpoint and answers 401 until it can be reached', async () => {
    const down = await startStack({
      env: {
        AUTH_JWKS_URI: 'http://127.0.0.1:9/.well-known/jwks.json',
        AUTH_ISSUER: ISSUER,
        AUTH_AUDIENCE: AUDIENCE,
      },
    });
    try {
      const res = await new ApiClient(down.url, jwks.sign(claims('x'), 'RS256')).get(
        '/api/user/api-keys',
      );
      expect(res.status).toBe(401);
      expect(res.text).toMatch(/identity provider could not be reached/);
      expect((await new ApiClient(down.url).get('/healthz')).status).toBe(200);
    } finally {
      await down.close();
    }
  });
});
