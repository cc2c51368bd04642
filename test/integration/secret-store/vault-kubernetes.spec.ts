import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretValue } from '../../../src/common/secret-value';
import { loadConfig, type AppConfig } from '../../../src/config/app-config';
import type { SecretRef } from '../../../src/secret-store/secret-store.port';
import { VaultSecretStore } from '../../../src/secret-store/vault.secret-store';
import { vaultRequest } from '../../helpers/start-openbao';
import { requireTestServers } from '../../helpers/test-env';
import {
  mintServiceAccountJwt,
  startTokenReviewDouble,
  type ServiceAccount,
  type TokenReviewDouble,
} from '../../helpers/tokenreview-double';

const id = randomBytes(4).toString('hex');
const mount = `kv-k8s-${id}`;
const authMount = `k8s-${id}`;
const prefix = 'byok';
const quiet = { log: jest.fn(), warn: jest.fn(), error: jest.fn(), debug: jest.fn() };

async function bao<T = Record<string, unknown>>(method: string, path: string, body?: unknown) {
  const res = await vaultRequest<T & { errors?: string[] }>(method, `/v1/${path}`, body);
  if (res.status >= 300)
    throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body.errors)}`);
  return res;
}

const proxySa: ServiceAccount = { namespace: 'byok', name: 'byok-proxy', uid: randomUUID() };
const otherSa: ServiceAccount = { namespace: 'byok', name: 'someone-else', uid: randomUUID() };

describe('VaultSecretStore with Kubernetes auth (real OpenBao, TokenReview double)', () => {
  let double: TokenReviewDouble;
  let dir: string;
  const proxyJwt = mintServiceAccountJwt(proxySa);
  const otherJwt = mintServiceAccountJwt(otherSa);

  function config(jwt: string | undefined, env: Record<string, string> = {}): AppConfig {
    const tokenPath = join(dir, `token-${randomUUID()}`);
    if (jwt !== undefined) writeFileSync(tokenPath, `${jwt}\n`);
    return loadConfig({
      VAULT_ADDR: requireTestServers().vaultAddr,
      VAULT_AUTH: 'kubernetes',
      VAULT_K8S_ROLE: 'byok-proxy',
      VAULT_K8S_MOUNT: authMount,
      VAULT_K8S_TOKEN_PATH: tokenPath,
      VAULT_KV_MOUNT: mount,
      VAULT_PREFIX: prefix,
      ...env,
    });
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'byok-k8s-'));
    double = await startTokenReviewDouble(
      new Map([
        [proxyJwt, proxySa],
        [otherJwt, otherSa],
      ]),
    );
    await bao('POST', `sys/mounts/${mount}`, { type: 'kv', options: { version: '2' } });
    await bao('POST', `sys/auth/${authMount}`, { type: 'kubernetes' });
    // No token_reviewer_jwt and no local CA/JWT: OpenBao reviews each login with the
    // caller's own JWT as the bearer, against the double.
    await bao('POST', `auth/${authMount}/config`, {
      kubernetes_host: double.url,
      kubernetes_ca_cert: double.caCert,
      disable_local_ca_jwt: true,
    });
    await bao('PUT', `sys/policies/acl/k8s-${id}`, {
      policy: [
        `path "${mount}/data/${prefix}/*" { capabilities = ["create", "update", "read"] }`,
        `path "${mount}/metadata/${prefix}/*" { capabilities = ["read", "delete"] }`,
      ].join('\n'),
    });
    await bao('POST', `auth/${authMount}/role/byok-proxy`, {
      bound_service_account_names: [proxySa.name],
      bound_service_account_namespaces: [proxySa.namespace],
      token_policies: [`k8s-${id}`],
      token_ttl: '1h',
    });
  });

  afterAll(async () => {
    await double?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs in with the service-account JWT from the token file and works', async () => {
    const before = double.reviews.length;
    const store = await VaultSecretStore.connect(config(proxyJwt).vault, quiet);
    try {
      const r: SecretRef = { ownerType: 'org', ownerId: 'acme', keyId: randomUUID() };
      expect(await store.put(r, new SecretValue('sk-k8s-one'))).toEqual({ version: 1 });
      expect((await store.get(r)).reveal()).toBe('sk-k8s-one');
      await store.destroy(r);
      await expect(store.ping()).resolves.toBeUndefined();
      const review = double.reviews.slice(before).find((rv) => rv.token === proxyJwt);
      expect(review?.authorization).toBe(`Bearer ${proxyJwt}`);
    } finally {
      store.close();
    }
  });

  it('refuses a service account the role does not bind, naming VAULT_K8S_ROLE', async () => {
    const err = await VaultSecretStore.connect(config(otherJwt).vault, quiet).catch(
      (e: unknown) => e,
    );
    expect((err as Error).message).toMatch(
      /^Vault Kubernetes login failed \(403\).*service account name not authorized.*VAULT_K8S_ROLE/,
    );
    expect((err as Error).message).not.toContain(otherJwt);
  });

  it('refuses a JWT the TokenReview API no longer authenticates', async () => {
    const stale = mintServiceAccountJwt(proxySa);
    double.revoke(stale);
    await expect(VaultSecretStore.connect(config(stale).vault, quiet)).rejects.toThrow(
      /Vault Kubernetes login failed \(403\)/,
    );
  });

  it('names VAULT_K8S_TOKEN_PATH when the token file is missing', async () => {
    await expect(VaultSecretStore.connect(config(undefined).vault, quiet)).rejects.toThrow(
      /cannot read the Kubernetes service-account token at .* \(ENOENT\): check VAULT_K8S_TOKEN_PATH/,
    );
  });
});
