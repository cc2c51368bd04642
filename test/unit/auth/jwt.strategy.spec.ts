import { Logger } from '@nestjs/common';
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JwtStrategy } from '../../../src/auth/jwt.strategy';
import { loadConfig } from '../../../src/config/app-config';
import { startJwksServer, type JwksServer } from '../../helpers/jwks-server';
import { forgeSignature, mintAlgNone, mintHs256 } from '../../helpers/mint-jwt';

const SECRET = 'unit-test-secret-that-is-long-enough-0123456789';
const rejection = (message: RegExp, status = 401): unknown =>
  expect.objectContaining({
    code: status === 401 ? 'unauthorized' : 'upstream_unavailable',
    status,
    message: expect.stringMatching(message),
  });

describe('JwtStrategy, dev mode (HS256)', () => {
  let dataDir: string;
  let strategy: JwtStrategy;
  const nowSec = () => Math.floor(Date.now() / 1000);

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'byok-jwt-'));
    strategy = new JwtStrategy(loadConfig({ DATA_DIR: dataDir, AUTH_JWT_SECRET: SECRET }));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('accepts a good token and maps its claims', async () => {
    const token = mintHs256(SECRET, { sub: 'alice', org_id: 'acme', org_role: 'admin' });
    const { caller, expiresAt } = await strategy.verify(token);
    expect(caller).toEqual({
      kind: 'jwt',
      sub: 'alice',
      orgId: 'acme',
      orgAdmin: true,
      admin: false,
    });
    expect(expiresAt).toBeGreaterThan(Date.now() + 3500_000);
  });

  it('rejects an expired token, saying when it expired', async () => {
    const token = mintHs256(SECRET, { sub: 'alice', exp: nowSec() - 60 });
    await expect(strategy.verify(token)).rejects.toEqual(rejection(/^JWT expired at \d{4}-/));
  });

  it('rejects a token that is not valid yet', async () => {
    const token = mintHs256(SECRET, { sub: 'alice' }, { notBefore: '10m' });
    await expect(strategy.verify(token)).rejects.toEqual(rejection(/^JWT not valid before /));
  });

  it('rejects a forged signature and a token signed with another secret', async () => {
    const good = mintHs256(SECRET, { sub: 'alice' });
    const other = mintHs256('another-secret-that-is-also-long-enough!!', {
      sub: 'admin',
      byok_admin: true,
    });
    await expect(strategy.verify(forgeSignature(other, good))).rejects.toEqual(
      rejection(/^JWT signature invalid$/),
    );
    await expect(strategy.verify(other)).rejects.toEqual(rejection(/^JWT signature invalid$/));
  });

  it('rejects alg none and asymmetric algorithms by name', async () => {
    await expect(strategy.verify(mintAlgNone({ sub: 'alice', byok_admin: true }))).rejects.toEqual(
      rejection(/^JWT algorithm none is not accepted: tokens must be signed with HS256$/),
    );
    const jwks = await startJwksServer();
    try {
      await expect(strategy.verify(jwks.sign({ sub: 'alice' }, 'RS256'))).rejects.toEqual(
        rejection(/JWT algorithm RS256 is not accepted/),
      );
    } finally {
      await jwks.close();
    }
  });

  it('rejects a token without an expiry', async () => {
    const forever = mintHs256(SECRET, { sub: 'alice', exp: undefined });
    await expect(strategy.verify(forever)).rejects.toEqual(
      rejection(/^JWT has no expiry \("exp" claim\)/),
    );
  });

  it('rejects a token without sub, and garbage', async () => {
    await expect(strategy.verify(mintHs256(SECRET, { org_id: 'acme' }))).rejects.toEqual(
      rejection(/"sub"/),
    );
    await expect(strategy.verify('not-a-jwt')).rejects.toEqual(rejection(/^JWT malformed/));
    await expect(strategy.verify('e30.e30')).rejects.toEqual(rejection(/^JWT malformed/));
  });

  it('checks issuer and audience when configured', async () => {
    const strict = new JwtStrategy(
      loadConfig({
        DATA_DIR: dataDir,
        AUTH_JWT_SECRET: SECRET,
        AUTH_ISSUER: 'me',
        AUTH_AUDIENCE: 'byok',
      }),
    );
    const ok = mintHs256(SECRET, { sub: 'a' }, { issuer: 'me', audience: 'byok' });
    await expect(strict.verify(ok)).resolves.toMatchObject({ caller: { sub: 'a' } });
    await expect(
      strict.verify(mintHs256(SECRET, { sub: 'a' }, { issuer: 'evil', audience: 'byok' })),
    ).rejects.toEqual(rejection(/^JWT issuer invalid: expected me$/));
    await expect(
      strict.verify(mintHs256(SECRET, { sub: 'a' }, { issuer: 'me', audience: 'other' })),
    ).rejects.toEqual(rejection(/^JWT audience invalid: expected byok$/));
  });

  it('generates a dev secret when none is configured, with a loud warning', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'byok-jwt-gen-'));
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const dev = new JwtStrategy(loadConfig({ DATA_DIR: dir }));
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('npm run token -- --sub alice'));
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('development only'));
      // One line, not a banner that becomes a JSON string full of \n.
      expect(warn.mock.calls.some(([m]) => String(m).includes('\n'))).toBe(false);
      const secret = readFileSync(join(dir, 'dev-jwt.secret'), 'utf8').trim();
      await expect(dev.verify(mintHs256(secret, { sub: 'alice' }))).resolves.toMatchObject({
        caller: { sub: 'alice' },
      });
    } finally {
      warn.mockRestore();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('JwtStrategy, OIDC mode (JWKS)', () => {
  let jwks: JwksServer;
  let strategy: JwtStrategy;
  const dataDir = join(tmpdir(), 'byok-jwks-unused');

  beforeAll(async () => {
    jwks = await startJwksServer();
    strategy = new JwtStrategy(
      loadConfig({
        DATA_DIR: dataDir,
        AUTH_JWKS_URI: jwks.jwksUri,
        AUTH_ISSUER: 'https://issuer.test',
        AUTH_AUDIENCE: 'byok-proxy',
        AUTH_ORG_CLAIM: 'o.id',
        AUTH_ORG_ROLE_CLAIM: 'o.rol',
      }),
    );
  });
  afterAll(() => jwks.close());

  const good = { iss: 'https://issuer.test', aud: 'byok-proxy' };

  it.each(['RS256', 'ES256'] as const)('accepts %s tokens from the JWKS', async (alg) => {
    const token = jwks.sign({ ...good, sub: 'user_1', o: { id: 'org_1', rol: 'admin' } }, alg);
    await expect(strategy.verify(token)).resolves.toMatchObject({
      caller: { kind: 'jwt', sub: 'user_1', orgId: 'org_1', orgAdmin: true },
    });
  });

  it('caches the JWKS document instead of fetching it per token', async () => {
    const before = jwks.fetches();
    for (let i = 0; i < 5; i += 1)
      await strategy.verify(jwks.sign({ ...good, sub: `u${i}` }, 'ES256'));
    expect(jwks.fetches() - before).toBe(0);
  });

  it('rejects a wrong issuer or audience', async () => {
    await expect(
      strategy.verify(
        jwks.sign({ sub: 'u', iss: 'https://evil.test', aud: 'byok-proxy' }, 'RS256'),
      ),
    ).rejects.toEqual(rejection(/^JWT issuer invalid/));
    await expect(
      strategy.verify(jwks.sign({ sub: 'u', iss: 'https://issuer.test', aud: 'other' }, 'ES256')),
    ).rejects.toEqual(rejection(/^JWT audience invalid/));
  });

  it('rejects HS256, including one keyed with the public key (algorithm confusion)', async () => {
    await expect(strategy.verify(mintHs256(SECRET, { ...good, sub: 'u' }))).rejects.toEqual(
      rejection(/^JWT algorithm HS256 is not accepted: tokens must be signed with RS256 or ES256$/),
    );
    const jwk = (await (await fetch(jwks.jwksUri)).json()) as { keys: Record<string, string>[] };
    const pem = createPublicKey({ key: jwk.keys[0], format: 'jwk' })
      .export({ format: 'pem', type: 'spki' })
      .toString();
    await expect(strategy.verify(mintHs256(pem, { ...good, sub: 'u' }))).rejects.toEqual(
      rejection(/HS256 is not accepted/),
    );
    await expect(strategy.verify(mintAlgNone({ ...good, sub: 'u' }))).rejects.toEqual(
      rejection(/^JWT algorithm none is not accepted/),
    );
  });

  it.each(['RS256', 'ES256'] as const)('rejects a %s token without an expiry', async (alg) => {
    const forever = jwks.sign({ ...good, sub: 'u', exp: undefined }, alg);
    await expect(strategy.verify(forever)).rejects.toEqual(
      rejection(/^JWT has no expiry \("exp" claim\)/),
    );
  });

  it('rejects an expired token and an unknown key id', async () => {
    await expect(
      strategy.verify(jwks.sign({ ...good, sub: 'u' }, 'RS256', { expiresIn: -10 })),
    ).rejects.toEqual(rejection(/^JWT expired at /));
    await expect(
      strategy.verify(jwks.sign({ ...good, sub: 'u' }, 'RS256', { keyid: 'rotated-away' })),
    ).rejects.toEqual(rejection(/signing key not found/));
  });

  it('answers 401 saying the identity provider could not be reached when the JWKS cannot be fetched', async () => {
    const down = new JwtStrategy(
      loadConfig({
        DATA_DIR: dataDir,
        AUTH_JWKS_URI: 'http://127.0.0.1:9/jwks.json',
        AUTH_ISSUER: 'https://issuer.test',
        AUTH_AUDIENCE: 'byok-proxy',
      }),
    );
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      await expect(down.verify(jwks.sign({ sub: 'u' }, 'RS256'))).rejects.toEqual(
        rejection(
          /identity provider could not be reached.*AUTH_JWKS_URI could not be fetched/,
          401,
        ),
      );
    } finally {
      warn.mockRestore();
    }
  });
});
