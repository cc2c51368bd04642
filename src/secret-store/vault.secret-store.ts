import { Logger } from '@nestjs/common';
import { SecretValue } from '../common/secret-value';
import { SecretStoreError } from './secret-store.error';
import type { SecretRef, SecretStore } from './secret-store.port';
import {
  createVaultClient,
  describeVaultError,
  field,
  VaultAuth,
  type VaultClient,
  type VaultConfig,
  type VaultLogger,
  vaultStatus,
} from './vault-auth';

const HINTS: Record<number, string> = {
  400: 'bad request',
  403: 'permission denied: check the Vault policy for this path',
  404: 'not found',
  405: 'method not allowed: is the mount KV version 2?',
  429: 'rate limited',
  500: 'Vault internal error',
  503: 'Vault sealed or unavailable',
};

/**
 * The secret's path inside the mount. ownerId is percent-encoded into one segment (a dot-only
 * id too, which Vault would refuse as a relative path), so `org_2abc/..?x` stays one owner's
 * folder: `byok/org/org_2abc%2F..%3Fx/<keyId>`.
 */
export function vaultSecretPath(prefix: string, ref: SecretRef): string {
  return [prefix.replace(/^\/+|\/+$/g, ''), ref.ownerType, segment(ref.ownerId), segment(ref.keyId)]
    .filter((s) => s !== '')
    .join('/');
}

function segment(id: string): string {
  const encoded = encodeURIComponent(id);
  return /^\.+$/.test(encoded) ? encoded.replace(/\./g, '%2E') : encoded;
}

/**
 * Vault decodes the URL path once before using it as the storage path, so each segment is
 * encoded again for the wire; otherwise `%2F` in an owner id would become a real `/`.
 */
function wire(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/**
 * KV v2 in HashiCorp Vault or OpenBao via node-vault: one secret per key holding
 * `{apiKey}`. Errors carry the status and path only: node-vault errors can hold the request
 * body, which is the raw key.
 *
 * The policy it needs (mount `secret`, prefix `byok`):
 *   path "secret/data/byok/*"     { capabilities = ["create", "update", "read"] }
 *   path "secret/metadata/byok/*" { capabilities = ["read", "delete"] }
 *   path "secret/destroy/byok/*"  { capabilities = ["update"] }
 */
export class VaultSecretStore implements SecretStore {
  readonly kind = 'vault' as const;

  constructor(
    private readonly client: VaultClient,
    private readonly auth: VaultAuth,
    private readonly cfg: VaultConfig,
  ) {}

  /** Creates the client and logs in; a bad credential rejects with a message naming the variable. */
  static async connect(
    cfg: VaultConfig,
    logger: VaultLogger = new Logger('VaultSecretStore'),
  ): Promise<VaultSecretStore> {
    const client = createVaultClient(cfg);
    const auth = new VaultAuth(client, cfg, logger);
    await auth.login();
    return new VaultSecretStore(client, auth, cfg);
  }

  async put(ref: SecretRef, value: SecretValue): Promise<{ version: number }> {
    const path = this.path('data', ref);
    const res = await this.call('write', path, () =>
      this.client.write(wire(path), { data: { apiKey: value.reveal() } }),
    );
    const version = field(field(res, 'data'), 'version');
    if (typeof version !== 'number')
      throw new SecretStoreError(`Vault write ${path} answered without a version`);
    return { version };
  }

  async get(ref: SecretRef, version?: number): Promise<SecretValue> {
    try {
      return await this.read(ref, version);
    } catch (err) {
      if (version !== undefined || vaultStatusOf(err) !== 404) throw err;
    }
    // The current version was destroyed (an undone put): fall back to the newest live one,
    // as the local store does.
    const live = await this.liveVersions(ref);
    if (!live.length)
      throw new SecretStoreError(`Vault read ${this.path('data', ref)}: not found`, 404);
    return this.read(ref, Math.max(...live));
  }

  async destroy(ref: SecretRef): Promise<void> {
    const path = this.path('metadata', ref);
    await this.call('delete', path, () => this.client.delete(wire(path)));
  }

  async destroyVersion(ref: SecretRef, version: number): Promise<void> {
    const path = this.path('destroy', ref);
    await this.call('destroy', path, () => this.client.write(wire(path), { versions: [version] }));
    // Nothing may be left behind when the undone put created the secret.
    if (!(await this.liveVersions(ref)).length) await this.destroy(ref);
  }

  async ping(): Promise<void> {
    const health = await this.call('health', 'sys/health', () => this.client.health());
    if (field(health, 'initialized') === false)
      throw new SecretStoreError(`Vault at ${this.cfg.addr} is not initialized`, 501);
    if (field(health, 'sealed') === true)
      throw new SecretStoreError(`Vault at ${this.cfg.addr} is sealed`, 503);
    await this.call('token lookup', 'auth/token/lookup-self', () => this.client.tokenLookupSelf());
  }

  /** Stops token renewal; the module calls it on shutdown. */
  close(): void {
    this.auth.close();
  }

  private async read(ref: SecretRef, version?: number): Promise<SecretValue> {
    const path = this.path('data', ref);
    const query = version === undefined ? '' : `?version=${version}`;
    const res = await this.call('read', path, () => this.client.read(`${wire(path)}${query}`));
    const apiKey = field(field(field(res, 'data'), 'data'), 'apiKey');
    if (typeof apiKey !== 'string')
      throw new SecretStoreError(`Vault secret ${path} has no apiKey field`, 404);
    return new SecretValue(apiKey);
  }

  /** Versions neither destroyed nor deleted; empty when the metadata is gone. */
  private async liveVersions(ref: SecretRef): Promise<number[]> {
    const path = this.path('metadata', ref);
    let res: unknown;
    try {
      res = await this.call('read', path, () => this.client.read(wire(path)));
    } catch (err) {
      if (vaultStatusOf(err) === 404) return [];
      throw err;
    }
    const versions = field(field(res, 'data'), 'versions');
    if (typeof versions !== 'object' || versions === null) return [];
    return Object.entries(versions)
      .filter(([, v]) => field(v, 'destroyed') !== true && !field(v, 'deletion_time'))
      .map(([n]) => Number(n));
  }

  private path(kind: 'data' | 'metadata' | 'destroy', ref: SecretRef): string {
    return `${this.cfg.kvMount}/${kind}/${vaultSecretPath(this.cfg.prefix, ref)}`;
  }

  /** Runs one Vault call; after a 403 from a dead token it logs in again and retries once. */
  private async call<T>(op: string, path: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (vaultStatus(err) !== 403) throw storeError(op, path, err);
      let recovered: boolean;
      try {
        recovered = await this.auth.recover();
      } catch (loginErr) {
        if (loginErr instanceof SecretStoreError) throw loginErr;
        throw storeError(op, path, err);
      }
      if (!recovered) throw storeError(op, path, err);
      try {
        return await fn();
      } catch (retryErr) {
        throw storeError(op, path, retryErr);
      }
    }
  }
}

function vaultStatusOf(err: unknown): number | undefined {
  return err instanceof SecretStoreError ? err.status : vaultStatus(err);
}

/** Status and path only, never the node-vault error (its config holds the request body). */
function storeError(op: string, path: string, err: unknown): SecretStoreError {
  if (err instanceof SecretStoreError) return err;
  const status = vaultStatus(err);
  const what = describeVaultError(err);
  const hint = status !== undefined ? (HINTS[status] ?? 'error') : 'no response from Vault';
  return new SecretStoreError(
    `Vault ${op} ${path} failed (${what}): ${hint}`,
    status,
    status === undefined ? what : undefined,
  );
}
