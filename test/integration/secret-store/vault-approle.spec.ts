import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { randomBytes, randomUUID } from 'node:crypto';
import { SecretValue } from '../../../src/common/secret-value';
import { loadConfig, type AppConfig } from '../../../src/config/app-config';
import { ConfigModule } from '../../../src/config/config.module';
import { SecretStoreModule } from '../../../src/secret-store/secret-store.module';
import type { SecretRef } from '../../../src/secret-store/secret-store.port';
import { VaultSecretStore } from '../../../src/secret-store/vault.secret-store';
import { vaultRequest } from '../../helpers/start-openbao';
import { requireTestServers } from '../../helpers/test-env';

const id = randomBytes(4).toString('hex');
const mount = `kv-approle-${id}`;
const authMount = `approle-${id}`;
const prefix = 'byok';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function bao<T = Record<string, unknown>>(method: string, path: string, body?: unknown) {
  const res = await vaultRequest<T & { errors?: string[] }>(method, `/v1/${path}`, body);
  if (res.status >= 300)
    throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body.errors)}`);
  return res;
}

function config(roleId: string, secretId: string): AppConfig {
  const { vaultAddr } = requireTestServers();
  return loadConfig({
    VAULT_ADDR: vaultAddr,
    VAULT_AUTH: 'approle',
    VAULT_ROLE_ID: roleId,
    VAULT_SECRET_ID: secretId,
    VAULT_APPROLE_MOUNT: authMount,
    VAULT_KV_MOUNT: mount,
    VAULT_PREFIX: prefix,
  });
}

function recordingLogger() {
  const lines: string[] = [];
  const push = (m: unknown) => void lines.push(String(m));
  return {
    lines,
    log: jest.fn(push),
    warn: jest.fn(push),
    error: jest.fn(push),
    debug: jest.fn(push),
  };
}

const ref = (): SecretRef => ({ ownerType: 'user', ownerId: 'approle-user', keyId: randomUUID() });

describe('VaultSecretStore with AppRole auth (real OpenBao)', () => {
  let roleId: string;
  let secretId: string;

  beforeAll(async () => {
    await bao('POST', `sys/mounts/${mount}`, { type: 'kv', options: { version: '2' } });
    await bao('POST', `sys/auth/${authMount}`, { type: 'approle' });
    await bao('PUT', `sys/policies/acl/approle-${id}`, {
      policy: [
        `path "${mount}/data/${prefix}/*" { capabilities = ["create", "update", "read"] }`,
        `path "${mount}/metadata/${prefix}/*" { capabilities = ["read", "delete"] }`,
        `path "${mount}/destroy/${prefix}/*" { capabilities = ["update"] }`,
      ].join('\n'),
    });
    // Short TTLs so one test sees renewals, the max-TTL cap and fresh logins.
    await bao('POST', `auth/${authMount}/role/proxy`, {
      token_policies: [`approle-${id}`],
      token_ttl: '3s',
      token_max_ttl: '6s',
    });
    roleId = (
      await bao<{ data: { role_id: string } }>('GET', `auth/${authMount}/role/proxy/role-id`)
    ).body.data.role_id;
    secretId = (
      await bao<{ data: { secret_id: string } }>('POST', `auth/${authMount}/role/proxy/secret-id`)
    ).body.data.secret_id;
  });

  it('logs in, renews and logs in again, and keeps working past the max TTL', async () => {
    const logger = recordingLogger();
    const store = await VaultSecretStore.connect(config(roleId, secretId).vault, logger);
    try {
      const r = ref();
      const started = Date.now();
      for (let i = 1; Date.now() - started < 9000; i++) {
        await store.put(r, new SecretValue(`sk-approle-${i}`));
        expect((await store.get(r)).reveal()).toBe(`sk-approle-${i}`);
        await sleep(400);
      }
      await expect(store.ping()).resolves.toBeUndefined();
      // Login, renewals until the 6 s max TTL caps the lease, then a fresh login; no failed call.
      const logins = logger.lines.filter((l) => l.startsWith('Vault AppRole auth ready'));
      expect(logins.length).toBeGreaterThanOrEqual(2);
      expect(logger.lines.some((l) => l.startsWith('Vault token renewed'))).toBe(true);
      expect(logger.error).not.toHaveBeenCalled();
    } finally {
      store.close();
    }
  });

  it('logs in again and retries once when its token was revoked under it', async () => {
    const logger = recordingLogger();
    const store = await VaultSecretStore.connect(config(roleId, secretId).vault, logger);
    try {
      const r = ref();
      await store.put(r, new SecretValue('sk-before-revoke'));
      await bao('PUT', `sys/leases/revoke-prefix/auth/${authMount}/login`);
      expect((await store.get(r)).reveal()).toBe('sk-before-revoke');
      expect(logger.lines).toContain('Vault token was rejected: logging in again');
    } finally {
      store.close();
    }
  });

  it('fails with a message naming VAULT_ROLE_ID/VAULT_SECRET_ID and never the secret id', async () => {
    const wrong = randomUUID();
    const err = await VaultSecretStore.connect(
      config(roleId, wrong).vault,
      recordingLogger(),
    ).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(
      /^Vault AppRole login failed \(\d{3}\).*check VAULT_ROLE_ID\/VAULT_SECRET_ID/,
    );
    expect((err as Error).message).not.toContain(wrong);
  });

  it('SecretStoreModule stops start-up on a bad AppRole credential', async () => {
    @Module({
      imports: [ConfigModule.forRoot(config(roleId, 'nope')), SecretStoreModule],
    })
    class Root {}
    await expect(
      NestFactory.createApplicationContext(Root, { logger: false, abortOnError: false }),
    ).rejects.toThrow(/Vault AppRole login failed .*VAULT_ROLE_ID\/VAULT_SECRET_ID/);
  });
});
