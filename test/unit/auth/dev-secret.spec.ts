import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateDevSecret, resolveJwtSecret } from '../../../src/auth/dev-secret';
import { loadConfig } from '../../../src/config/app-config';

describe('dev JWT secret', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'byok-dev-secret-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is generated once, mode 0600, and read back afterwards', () => {
    const first = loadOrCreateDevSecret(join(dir, 'nested'));
    expect(first.source).toBe('generated');
    expect(Buffer.from(first.secret, 'base64url')).toHaveLength(32);
    expect(statSync(first.path as string).mode & 0o777).toBe(0o600);
    const second = loadOrCreateDevSecret(join(dir, 'nested'));
    expect(second).toEqual({ ...first, source: 'file' });
  });

  it('refuses a truncated file rather than sign with it', () => {
    writeFileSync(join(dir, 'dev-jwt.secret'), 'short');
    expect(() => loadOrCreateDevSecret(dir)).toThrow(/shorter than 32 characters/);
  });

  it('prefers AUTH_JWT_SECRET and then writes no file', () => {
    const secret = 's'.repeat(40);
    const config = loadConfig({ DATA_DIR: dir, AUTH_JWT_SECRET: secret });
    expect(resolveJwtSecret(config)).toEqual({ secret, source: 'env' });
    expect(() => statSync(join(dir, 'dev-jwt.secret'))).toThrow();
  });
});
