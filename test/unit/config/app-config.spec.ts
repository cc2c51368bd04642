import { ConfigError, loadConfig } from '../../../src/config/app-config';

describe('loadConfig', () => {
  it('runs on embedded defaults with no environment', () => {
    const c = loadConfig({});
    expect(c.port).toBe(8080);
    expect(c.secretStore).toBe('local');
    expect(c.database.url).toBeUndefined();
    expect(c.defaultProvider).toBe('cerebras');
  });

  it('picks vault when VAULT_ADDR is set and names missing variables', () => {
    expect(() => loadConfig({ VAULT_ADDR: 'http://127.0.0.1:8200' })).toThrow(/VAULT_TOKEN/);
    expect(loadConfig({ VAULT_ADDR: 'http://127.0.0.1:8200', VAULT_TOKEN: 't' }).secretStore).toBe(
      'vault',
    );
  });

  it('names the variable and the problem for a bad value', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ LOCAL_MASTER_KEY: Buffer.alloc(16).toString('base64') })).toThrow(
      /LOCAL_MASTER_KEY must be base64 of exactly 32 bytes/,
    );
  });

  it('refuses generated secrets in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/LOCAL_MASTER_KEY is required/);
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/AUTH_JWKS_URI/);
  });

  it('refuses OIDC mode without an issuer and an audience, saying why', () => {
    const jwks = { AUTH_JWKS_URI: 'https://idp.test/.well-known/jwks.json' };
    expect(() => loadConfig(jwks)).toThrow(ConfigError);
    expect(() => loadConfig(jwks)).toThrow(
      /AUTH_ISSUER and AUTH_AUDIENCE are required when AUTH_JWKS_URI is set: without them any token your identity provider signed for any other application would be accepted/,
    );
    expect(() => loadConfig({ ...jwks, AUTH_ISSUER: 'https://idp.test/' })).toThrow(
      /AUTH_AUDIENCE is required when AUTH_JWKS_URI is set/,
    );
    expect(() => loadConfig({ ...jwks, AUTH_AUDIENCE: 'byok' })).toThrow(
      /AUTH_ISSUER is required when AUTH_JWKS_URI is set/,
    );
    const ok = loadConfig({ ...jwks, AUTH_ISSUER: 'https://idp.test/', AUTH_AUDIENCE: 'byok' });
    expect(ok.auth).toMatchObject({ issuer: 'https://idp.test/', audience: 'byok' });
    // Dev mode (HS256) keeps both optional.
    expect(() => loadConfig({ AUTH_JWT_SECRET: 'x'.repeat(32) })).not.toThrow();
  });

  it('collects per-provider variables for the registry', () => {
    const c = loadConfig({ CEREBRAS_API_KEY: 'k', OPENAI_BASE_URL: 'http://x', OTHER: 'y' });
    expect(c.providerEnv).toEqual({ CEREBRAS_API_KEY: 'k', OPENAI_BASE_URL: 'http://x' });
  });
});
