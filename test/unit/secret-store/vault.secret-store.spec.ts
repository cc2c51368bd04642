import { inspect } from 'node:util';
import { SecretValue } from '../../../src/common/secret-value';
import { loadConfig } from '../../../src/config/app-config';
import { apiError, FakeVault } from '../../helpers/fake-vault';
import { SecretStoreError } from '../../../src/secret-store/secret-store.error';
import type { SecretRef } from '../../../src/secret-store/secret-store.port';
import { VaultAuth } from '../../../src/secret-store/vault-auth';
import { vaultSecretPath, VaultSecretStore } from '../../../src/secret-store/vault.secret-store';

const cfg = loadConfig({
  VAULT_ADDR: 'http://127.0.0.1:8200',
  VAULT_AUTH: 'approle',
  VAULT_ROLE_ID: 'r',
  VAULT_SECRET_ID: 's',
}).vault;
const quiet = { log: jest.fn(), warn: jest.fn(), error: jest.fn(), debug: jest.fn() };
const ref: SecretRef = { ownerType: 'user', ownerId: 'u/1', keyId: 'k1' };

function setup() {
  const vault = new FakeVault('hvs.current');
  const auth = new VaultAuth(vault, cfg, quiet);
  return { vault, auth, store: new VaultSecretStore(vault, auth, cfg) };
}

describe('vaultSecretPath', () => {
  it('percent-encodes the owner id into one segment', () => {
    expect(
      vaultSecretPath('byok', { ownerType: 'org', ownerId: 'org_2abc/..?x', keyId: 'k' }),
    ).toBe('byok/org/org_2abc%2F..%3Fx/k');
    expect(
      vaultSecretPath('/team/byok/', { ownerType: 'user', ownerId: 'a@b.c', keyId: 'k' }),
    ).toBe('team/byok/user/a%40b.c/k');
  });

  it('encodes dot-only ids, which Vault would take as relative paths', () => {
    expect(vaultSecretPath('p', { ownerType: 'user', ownerId: '..', keyId: '.' })).toBe(
      'p/user/%2E%2E/%2E',
    );
  });
});

describe('VaultSecretStore', () => {
  it('writes {data: {apiKey}} at the double-encoded KV v2 path and returns the version', async () => {
    const { vault, store } = setup();
    vault.write.mockResolvedValue({ data: { version: 7 } });
    await expect(store.put(ref, new SecretValue('sk-put'))).resolves.toEqual({ version: 7 });
    expect(vault.write).toHaveBeenCalledWith('secret/data/byok/user/u%252F1/k1', {
      data: { apiKey: 'sk-put' },
    });
  });

  it('reads ?version=N and returns a SecretValue', async () => {
    const { vault, store } = setup();
    vault.read.mockResolvedValue({ data: { data: { apiKey: 'sk-v2' } } });
    const got = await store.get(ref, 2);
    expect(vault.read).toHaveBeenCalledWith('secret/data/byok/user/u%252F1/k1?version=2');
    expect(got).toBeInstanceOf(SecretValue);
    expect(got.reveal()).toBe('sk-v2');
  });

  it('keeps the request body of a failed call out of the error', async () => {
    const { vault, store } = setup();
    const secret = 'sk-should-never-leak-0123456789';
    // What axios rejects with on a network failure: its config holds the JSON body.
    vault.write.mockRejectedValue(
      Object.assign(new Error(`connect ECONNREFUSED`), {
        code: 'ECONNREFUSED',
        config: { data: JSON.stringify({ data: { apiKey: secret } }) },
      }),
    );
    const err = (await store
      .put(ref, new SecretValue(secret))
      .catch((e: unknown) => e)) as SecretStoreError;
    expect(err).toBeInstanceOf(SecretStoreError);
    expect(err.code).toBe('ECONNREFUSED');
    expect(err.status).toBeUndefined();
    expect(err.message).toBe(
      'Vault write secret/data/byok/user/u%2F1/k1 failed (ECONNREFUSED): no response from Vault',
    );
    expect(inspect(err, { showHidden: true, depth: 10 })).not.toContain('never-leak');
    expect(JSON.stringify(err)).not.toContain('never-leak');
  });

  it('logs in again and retries once after a 403 from a dead token', async () => {
    const { vault, store } = setup();
    vault.write
      .mockRejectedValueOnce(apiError(403, ['permission denied']))
      .mockResolvedValue({ data: { version: 1 } });
    vault.tokenLookupSelf.mockRejectedValue(apiError(403));
    vault.approleLogin.mockResolvedValue({
      auth: { client_token: 'hvs.new', lease_duration: 3600, renewable: true },
    });
    await expect(store.put(ref, new SecretValue('sk-retry'))).resolves.toEqual({ version: 1 });
    expect(vault.write).toHaveBeenCalledTimes(2);
    expect(vault.token).toBe('hvs.new');
    store.close();
  });

  it('does not retry a 403 when the token is alive (the policy said no)', async () => {
    const { vault, store } = setup();
    vault.write.mockRejectedValue(apiError(403, ['permission denied']));
    vault.tokenLookupSelf.mockResolvedValue({ data: { ttl: 100 } });
    await expect(store.put(ref, new SecretValue('sk-denied'))).rejects.toMatchObject({
      status: 403,
      message: expect.stringMatching(/permission denied/),
    });
    expect(vault.write).toHaveBeenCalledTimes(1);
    expect(vault.approleLogin).not.toHaveBeenCalled();
  });

  it('falls back to the newest live version when the current one was destroyed', async () => {
    const { vault, store } = setup();
    vault.read.mockImplementation((path) => {
      if (path.includes('/metadata/'))
        return Promise.resolve({
          data: {
            versions: {
              1: { destroyed: false, deletion_time: '' },
              2: { destroyed: false, deletion_time: '' },
              3: { destroyed: true, deletion_time: '' },
            },
          },
        });
      if (path.endsWith('?version=2'))
        return Promise.resolve({ data: { data: { apiKey: 'sk-v2' } } });
      return Promise.reject(apiError(404));
    });
    expect((await store.get(ref)).reveal()).toBe('sk-v2');
  });

  it('fails ping with a reason when Vault is sealed', async () => {
    const { vault, store } = setup();
    vault.health.mockResolvedValue({ initialized: true, sealed: true });
    await expect(store.ping()).rejects.toThrow(/is sealed/);
  });
});
