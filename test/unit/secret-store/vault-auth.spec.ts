import { loadConfig } from '../../../src/config/app-config';
import { apiError, FakeVault } from '../../helpers/fake-vault';
import { SecretStoreError } from '../../../src/secret-store/secret-store.error';
import {
  createVaultClient,
  VaultAuth,
  type VaultClient,
  type VaultConfig,
} from '../../../src/secret-store/vault-auth';

const login = (ttl: number, token = 'hvs.login') => ({
  auth: { client_token: token, lease_duration: ttl, renewable: true },
});

function cfg(env: Record<string, string>): VaultConfig {
  return loadConfig({ VAULT_ADDR: 'http://127.0.0.1:8200', ...env }).vault;
}
const approle = cfg({ VAULT_AUTH: 'approle', VAULT_ROLE_ID: 'role-1', VAULT_SECRET_ID: 'sid-42' });
const logger = () => ({ log: jest.fn(), warn: jest.fn(), error: jest.fn(), debug: jest.fn() });

describe('VaultAuth', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('renews at 2/3 of the TTL, then logs in again once the max TTL caps the lease', async () => {
    const vault = new FakeVault();
    vault.approleLogin.mockResolvedValue(login(30));
    vault.tokenRenewSelf
      .mockResolvedValueOnce(login(30))
      .mockResolvedValueOnce({ auth: { lease_duration: 9, renewable: true } });
    const auth = new VaultAuth(vault, approle, logger());
    await auth.login();
    expect(vault.token).toBe('hvs.login');
    expect(vault.approleLogin).toHaveBeenCalledWith({
      mount_point: 'approle',
      role_id: 'role-1',
      secret_id: 'sid-42',
    });

    await jest.advanceTimersByTimeAsync(19_900);
    expect(vault.tokenRenewSelf).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(200);
    expect(vault.tokenRenewSelf).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(20_000);
    expect(vault.tokenRenewSelf).toHaveBeenCalledTimes(2);
    // The capped 9 s lease is not renewed again: a fresh login comes at 6 s.
    await jest.advanceTimersByTimeAsync(6_000);
    expect(vault.tokenRenewSelf).toHaveBeenCalledTimes(2);
    expect(vault.approleLogin).toHaveBeenCalledTimes(2);
    auth.close();
  });

  it('logs in again when renewal is refused', async () => {
    const vault = new FakeVault();
    vault.approleLogin
      .mockResolvedValueOnce(login(3, 'hvs.a'))
      .mockResolvedValue(login(3, 'hvs.b'));
    vault.tokenRenewSelf.mockRejectedValue(apiError(403, ['permission denied']));
    const log = logger();
    const auth = new VaultAuth(vault, approle, log);
    await auth.login();
    await jest.advanceTimersByTimeAsync(2_000);
    expect(vault.approleLogin).toHaveBeenCalledTimes(2);
    expect(vault.token).toBe('hvs.b');
    expect(log.warn).toHaveBeenCalledWith(expect.stringMatching(/renewal refused \(403\)/));
    auth.close();
  });

  it('retries a failed re-login later instead of giving up', async () => {
    const vault = new FakeVault();
    vault.approleLogin
      .mockResolvedValueOnce({ auth: { client_token: 't', lease_duration: 3, renewable: false } })
      .mockRejectedValueOnce(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }))
      .mockResolvedValue(login(3));
    const log = logger();
    const auth = new VaultAuth(vault, approle, log);
    await auth.login();
    await jest.advanceTimersByTimeAsync(2_000);
    expect(log.error).toHaveBeenCalledWith(expect.stringMatching(/unreachable \(ECONNREFUSED\)/));
    await jest.advanceTimersByTimeAsync(5_000);
    expect(vault.approleLogin).toHaveBeenCalledTimes(3);
    auth.close();
  });

  it('does not schedule anything for a non-expiring token, and stops on close()', async () => {
    const vault = new FakeVault();
    vault.tokenLookupSelf.mockResolvedValue({ data: { ttl: 0, renewable: false } });
    const auth = new VaultAuth(vault, cfg({ VAULT_TOKEN: 'root' }), logger());
    await auth.login();
    expect(jest.getTimerCount()).toBe(0);

    vault.tokenLookupSelf.mockResolvedValue({ data: { ttl: 60, renewable: true } });
    await auth.login();
    expect(jest.getTimerCount()).toBe(1);
    auth.close();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('tells a dead token from a policy denial after a 403', async () => {
    const vault = new FakeVault();
    vault.approleLogin.mockResolvedValue(login(3600));
    const auth = new VaultAuth(vault, approle, logger());
    await auth.login();
    vault.tokenLookupSelf.mockResolvedValueOnce({ data: { ttl: 100 } });
    await expect(auth.recover()).resolves.toBe(false);
    vault.tokenLookupSelf.mockRejectedValueOnce(apiError(403));
    await expect(auth.recover()).resolves.toBe(true);
    expect(vault.approleLogin).toHaveBeenCalledTimes(2);
    auth.close();
  });

  it('shares one login between concurrent callers', async () => {
    const vault = new FakeVault();
    vault.approleLogin.mockResolvedValue(login(3600));
    const auth = new VaultAuth(vault, approle, logger());
    await Promise.all([auth.login(), auth.login(), auth.login()]);
    expect(vault.approleLogin).toHaveBeenCalledTimes(1);
    auth.close();
  });

  it('names the variables to check and never echoes a credential', async () => {
    const vault = new FakeVault();
    vault.approleLogin.mockRejectedValue(apiError(400, ['invalid secret id sid-42']));
    const err = (await new VaultAuth(vault, approle, logger())
      .login()
      .catch((e: unknown) => e)) as SecretStoreError;
    expect(err).toBeInstanceOf(SecretStoreError);
    expect(err.status).toBe(400);
    expect(err.message).toMatch(
      /^Vault AppRole login failed \(400\).*VAULT_ROLE_ID\/VAULT_SECRET_ID/,
    );
    expect(err.message).not.toContain('sid-42');

    vault.tokenLookupSelf.mockRejectedValue(apiError(403, ['permission denied']));
    const tokenAuth = new VaultAuth(vault, cfg({ VAULT_TOKEN: 'hvs.bad' }), logger());
    await expect(tokenAuth.login()).rejects.toThrow(
      'Vault token lookup failed (403): permission denied: check VAULT_TOKEN',
    );
  });
});

describe('createVaultClient', () => {
  const saved = { ...process.env };
  afterEach(() => (process.env = { ...saved }));

  it('ignores node-vault environment fallbacks', () => {
    process.env.VAULT_PREFIX = 'byok';
    process.env.VAULT_TOKEN = 'from-env';
    process.env.VAULT_NAMESPACE = 'env-ns';
    const client = createVaultClient(approle) as VaultClient & {
      pathPrefix: string;
      namespace: string;
    };
    expect(client.pathPrefix).toBe('');
    expect(client.token).toBe('');
    expect(client.namespace).toBe('');
    const ns = createVaultClient(cfg({ VAULT_TOKEN: 't', VAULT_NAMESPACE: 'team-a' }));
    expect((ns as VaultClient & { namespace: string }).namespace).toBe('team-a');
    expect(ns.token).toBe('t');
  });
});
