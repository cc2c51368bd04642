import { NestFactory } from '@nestjs/core';
import { Module } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import { SecretValue } from '../../../src/common/secret-value';
import { loadConfig, type AppConfig } from '../../../src/config/app-config';
import { ConfigModule } from '../../../src/config/config.module';
import { SecretStoreError } from '../../../src/secret-store/secret-store.error';
import { SecretStoreModule } from '../../../src/secret-store/secret-store.module';
import {
  SECRET_STORE,
  type SecretRef,
  type SecretStore,
} from '../../../src/secret-store/secret-store.port';
import { VaultSecretStore } from '../../../src/secret-store/vault.secret-store';
import { vaultRequest } from '../../helpers/start-openbao';
import { requireTestServers } from '../../helpers/test-env';

const id = randomBytes(4).toString('hex');
const mount = `kv-token-${id}`;
const prefix = 'byok';
const quiet = { log: jest.fn(), warn: jest.fn(), error: jest.fn(), debug: jest.fn() };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function bao<T = Record<string, unknown>>(method: string, path: string, body?: unknown) {
  const res = await vaultRequest<T & { errors?: string[] }>(method, `/v1/${path}`, body);
  if (res.status >= 300 && res.status !== 404)
    throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body.errors)}`);
  return res;
}

function config(env: Record<string, string>): AppConfig {
  const { vaultAddr, vaultToken } = requireTestServers();
  return loadConfig({
    VAULT_ADDR: vaultAddr,
    VAULT_TOKEN: vaultToken,
    VAULT_KV_MOUNT: mount,
    VAULT_PREFIX: prefix,
    ...env,
  });
}

/** A child token with the given policy and TTL: what an operator hands the proxy. */
async function tokenWith(policy: string, ttl: string): Promise<string> {
  const res = await bao<{ auth: { client_token: string } }>('POST', 'auth/token/create', {
    policies: [policy],
    ttl,
  });
  return res.body.auth.client_token;
}

function expectNoPartOf(secret: string, err: unknown): void {
  const text = [
    String(err),
    (err as Error).stack ?? '',
    JSON.stringify(err),
    inspect(err, { depth: 10, showHidden: true }),
  ].join('\n');
  for (let i = 0; i + 6 <= secret.length; i++) expect(text).not.toContain(secret.slice(i, i + 6));
}

const ref = (ownerId = 'alice'): SecretRef => ({ ownerType: 'user', ownerId, keyId: randomUUID() });
const metadataPath = (r: SecretRef) =>
  `${mount}/metadata/${prefix}/${r.ownerType}/${encodeURIComponent(encodeURIComponent(r.ownerId))}/${r.keyId}`;

describe('VaultSecretStore with token auth (real OpenBao)', () => {
  let store: VaultSecretStore;

  beforeAll(async () => {
    await bao('POST', `sys/mounts/${mount}`, { type: 'kv', options: { version: '2' } });
    await bao('PUT', `sys/policies/acl/rw-${id}`, {
      policy: [
        `path "${mount}/data/${prefix}/*" { capabilities = ["create", "update", "read"] }`,
        `path "${mount}/metadata/${prefix}/*" { capabilities = ["read", "delete"] }`,
        `path "${mount}/destroy/${prefix}/*" { capabilities = ["update"] }`,
      ].join('\n'),
    });
    await bao('PUT', `sys/policies/acl/ro-${id}`, {
      policy: `path "${mount}/*" { capabilities = ["read"] }`,
    });
    store = await VaultSecretStore.connect(config({}).vault, quiet);
  });

  afterAll(() => store?.close());

  it('puts versions and reads each one', async () => {
    const r = ref();
    expect(store.kind).toBe('vault');
    expect(await store.put(r, new SecretValue('sk-vault-one'))).toEqual({ version: 1 });
    expect(await store.put(r, new SecretValue('sk-vault-two'))).toEqual({ version: 2 });
    expect((await store.get(r)).reveal()).toBe('sk-vault-two');
    expect((await store.get(r, 1)).reveal()).toBe('sk-vault-one');
    expect((await store.get(r, 2)).reveal()).toBe('sk-vault-two');
    await expect(store.ping()).resolves.toBeUndefined();
  });

  it('reports a missing secret as a 404 SecretStoreError', async () => {
    const err = await store.get(ref()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretStoreError);
    expect(err).toMatchObject({ status: 404, notFound: true });
  });

  it('destroy removes every version and the metadata, and tolerates a missing secret', async () => {
    const r = ref();
    await store.put(r, new SecretValue('sk-destroy-a'));
    await store.put(r, new SecretValue('sk-destroy-b'));
    expect((await bao('GET', metadataPath(r))).status).toBe(200);
    await store.destroy(r);
    expect((await bao('GET', metadataPath(r))).status).toBe(404);
    await expect(store.get(r, 1)).rejects.toMatchObject({ status: 404 });
    await expect(store.destroy(r)).resolves.toBeUndefined();
  });

  it('destroyVersion destroys one version, and the metadata when none is left', async () => {
    const r = ref();
    await store.put(r, new SecretValue('sk-keep-v1'));
    await store.put(r, new SecretValue('sk-undo-v2'));
    await store.destroyVersion(r, 2);
    await expect(store.get(r, 2)).rejects.toMatchObject({ status: 404 });
    expect((await store.get(r)).reveal()).toBe('sk-keep-v1');
    const meta = await bao<{ data: { versions: Record<string, { destroyed: boolean }> } }>(
      'GET',
      metadataPath(r),
    );
    expect(meta.body.data.versions['2'].destroyed).toBe(true);
    expect(meta.body.data.versions['1'].destroyed).toBe(false);

    const only = ref();
    await store.put(only, new SecretValue('sk-only-version'));
    await store.destroyVersion(only, 1);
    expect((await bao('GET', metadataPath(only))).status).toBe(404);
  });

  it('keeps an owner id with / .. ? percent-encoded in one path segment', async () => {
    const odd: SecretRef = { ownerType: 'org', ownerId: 'org_2abc/..?x', keyId: randomUUID() };
    const dots: SecretRef = { ownerType: 'org', ownerId: '..', keyId: odd.keyId };
    await store.put(odd, new SecretValue('sk-odd-owner'));
    await store.put(dots, new SecretValue('sk-dots-owner'));
    const list = await bao<{ data: { keys: string[] } }>('LIST', `${mount}/metadata/${prefix}/org`);
    expect(list.body.data.keys).toEqual(expect.arrayContaining(['org_2abc%2F..%3Fx/', '%2E%2E/']));
    expect(list.body.data.keys).not.toContain('org_2abc/');
    const raw = await bao<{ data: { data: { apiKey: string } } }>(
      'GET',
      `${mount}/data/${prefix}/org/org_2abc%252F..%253Fx/${odd.keyId}`,
    );
    expect(raw.body.data.data.apiKey).toBe('sk-odd-owner');
    expect((await store.get(odd)).reveal()).toBe('sk-odd-owner');
    expect((await store.get(dots)).reveal()).toBe('sk-dots-owner');
  });

  it('renews a renewable short-TTL token and keeps working past its TTL', async () => {
    const token = await tokenWith(`rw-${id}`, '3s');
    const short = await VaultSecretStore.connect(config({ VAULT_TOKEN: token }).vault, quiet);
    try {
      const r = ref();
      const started = Date.now();
      for (let i = 1; Date.now() - started < 6000; i++) {
        await short.put(r, new SecretValue(`sk-renewed-${i}`));
        expect((await short.get(r)).reveal()).toBe(`sk-renewed-${i}`);
        await sleep(500);
      }
      await expect(short.ping()).resolves.toBeUndefined();
      const look = await vaultRequest<{ data: { ttl: number } }>(
        'GET',
        '/v1/auth/token/lookup-self',
        undefined,
        token,
      );
      expect(look.status).toBe(200);
      expect(look.body.data.ttl).toBeGreaterThan(0);
    } finally {
      short.close();
    }
  });

  it('fails a denied write with a 403 SecretStoreError that holds no part of the key', async () => {
    const readOnly = await VaultSecretStore.connect(
      config({ VAULT_TOKEN: await tokenWith(`ro-${id}`, '1h') }).vault,
      quiet,
    );
    const secret = `sk-${randomBytes(20).toString('hex')}`;
    try {
      const err = await readOnly.put(ref(), new SecretValue(secret)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SecretStoreError);
      expect((err as SecretStoreError).status).toBe(403);
      expect((err as Error).message).toMatch(/permission denied/);
      expectNoPartOf(secret, err);
    } finally {
      readOnly.close();
    }
  });

  it('fails readiness with a reason once the token is revoked', async () => {
    const token = await tokenWith(`rw-${id}`, '1h');
    const revoked = await VaultSecretStore.connect(config({ VAULT_TOKEN: token }).vault, quiet);
    try {
      await expect(revoked.ping()).resolves.toBeUndefined();
      await bao('POST', 'auth/token/revoke', { token });
      await expect(revoked.ping()).rejects.toThrow(/token lookup .*403/);
    } finally {
      revoked.close();
    }
  });

  it('SecretStoreModule provides the vault store, and a bad VAULT_TOKEN stops start-up', async () => {
    const make = (cfg: AppConfig) => {
      @Module({ imports: [ConfigModule.forRoot(cfg), SecretStoreModule] })
      class Root {}
      return NestFactory.createApplicationContext(Root, { logger: false, abortOnError: false });
    };
    const app = await make(config({}));
    try {
      expect(app.get<SecretStore>(SECRET_STORE)).toBeInstanceOf(VaultSecretStore);
    } finally {
      await app.close();
    }

    const bad = 'hvs.not-a-real-token-4711';
    const err = await make(config({ VAULT_TOKEN: bad })).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/Vault token lookup failed \(403\).*check VAULT_TOKEN/);
    expect((err as Error).message).not.toContain(bad);
  });
});
