import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decryptSecret,
  encryptSecret,
  loadMasterKey,
  masterKeyId,
} from '../../../src/secret-store/local.secret-store';
import { SecretStoreError } from '../../../src/secret-store/secret-store.error';

const KEY_ID = '0b6f7c1e-4c3a-4d2e-9a7b-1f2e3d4c5b6a';

describe('local store crypto', () => {
  const master = randomBytes(32);

  it('round-trips with a fresh 12-byte nonce each time', () => {
    const a = encryptSecret(master, KEY_ID, 1, 'sk-unit-secret');
    const b = encryptSecret(master, KEY_ID, 1, 'sk-unit-secret');
    expect(a.nonce).toHaveLength(12);
    expect(a.authTag).toHaveLength(16);
    expect(a.nonce.equals(b.nonce)).toBe(false);
    expect(a.ciphertext.equals(b.ciphertext)).toBe(false);
    expect(a.ciphertext.includes('sk-unit-secret')).toBe(false);
    expect(decryptSecret(master, KEY_ID, 1, a)).toBe('sk-unit-secret');
  });

  it('binds the ciphertext to its key id and version (AAD)', () => {
    const enc = encryptSecret(master, KEY_ID, 3, 'sk-bound');
    expect(() => decryptSecret(master, KEY_ID.replace('0b', '0c'), 3, enc)).toThrow(
      SecretStoreError,
    );
    expect(() => decryptSecret(master, KEY_ID, 4, enc)).toThrow(/failed authentication/);
    expect(() => decryptSecret(randomBytes(32), KEY_ID, 3, enc)).toThrow(/failed authentication/);
  });

  it('reports tampering without the plaintext', () => {
    const enc = encryptSecret(master, KEY_ID, 1, 'sk-tampered-secret');
    enc.ciphertext[0] ^= 1;
    let message = '';
    try {
      decryptSecret(master, KEY_ID, 1, enc);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/failed authentication/);
    expect(message).not.toContain('sk-tampered');
  });

  it('ids a master key by the first 16 hex chars of its SHA-256', () => {
    expect(masterKeyId(Buffer.alloc(32))).toBe('66687aadf862bd77');
    expect(masterKeyId(master)).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('loadMasterKey', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'byok-mk-unit-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('prefers LOCAL_MASTER_KEY and writes no file', () => {
    const key = randomBytes(32);
    const logger = { warn: jest.fn() };
    const got = loadMasterKey(
      { localMasterKey: key.toString('base64'), dataDir: dir, production: false },
      logger,
    );
    expect(got.equals(key)).toBe(true);
    expect(() => statSync(join(dir, 'master.key'))).toThrow();
    expect(logger.warn).not.toHaveBeenCalled();
  });

  it('generates a 0600 file once, warns loudly, and reuses it', () => {
    const logger = { warn: jest.fn() };
    const sub = join(dir, 'nested', 'data');
    const first = loadMasterKey({ dataDir: sub, production: false }, logger);
    const file = join(sub, 'master.key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64').equals(first)).toBe(true);
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(String(logger.warn.mock.calls[0][0])).toMatch(/GENERATED A NEW LOCAL MASTER KEY/);
    // One line, not a banner that becomes a JSON string full of \n.
    expect(String(logger.warn.mock.calls[0][0])).not.toContain('\n');
    const second = loadMasterKey({ dataDir: sub, production: false }, logger);
    expect(second.equals(first)).toBe(true);
    expect(logger.warn).toHaveBeenCalledTimes(1);
  });

  it('warns when an existing key file is readable by others', () => {
    const file = join(dir, 'master.key');
    writeFileSync(file, randomBytes(32).toString('base64'));
    chmodSync(file, 0o644);
    const logger = { warn: jest.fn() };
    loadMasterKey({ dataDir: dir, production: false }, logger);
    expect(String(logger.warn.mock.calls[0][0])).toMatch(/chmod 600/);
  });

  it('refuses a key file that is not 32 bytes, naming it', () => {
    writeFileSync(join(dir, 'master.key'), randomBytes(16).toString('base64'), { mode: 0o600 });
    expect(() => loadMasterKey({ dataDir: dir, production: false }, { warn: jest.fn() })).toThrow(
      /master\.key must hold base64 of exactly 32 bytes, got 16/,
    );
  });

  it('refuses to generate a key in production', () => {
    expect(() => loadMasterKey({ dataDir: dir, production: true }, { warn: jest.fn() })).toThrow(
      /LOCAL_MASTER_KEY is required in production/,
    );
  });
});
