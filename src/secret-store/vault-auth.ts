import { Logger } from '@nestjs/common';
import { readFile } from 'node:fs/promises';
import nodeVault from 'node-vault';
import type { AppConfig } from '../config/app-config';
import { SecretStoreError } from './secret-store.error';

export type VaultConfig = AppConfig['vault'];

/** The part of node-vault we use, typed with `unknown` results that we check before use. */
export interface VaultClient {
  token: string;
  read(path: string): Promise<unknown>;
  write(path: string, data: unknown): Promise<unknown>;
  delete(path: string): Promise<unknown>;
  health(): Promise<unknown>;
  tokenLookupSelf(): Promise<unknown>;
  tokenRenewSelf(): Promise<unknown>;
  approleLogin(args: {
    mount_point: string;
    role_id: string;
    secret_id?: string;
  }): Promise<unknown>;
  kubernetesLogin(args: { mount_point: string; role: string; jwt: string }): Promise<unknown>;
}

export type VaultLogger = Pick<Logger, 'log' | 'warn' | 'error' | 'debug'>;

/** Every call to Vault: a frozen server fails a key write within seconds, not minutes. */
const REQUEST_TIMEOUT_MS = 5_000;
const RETRY_MS = 5_000;

/**
 * A node-vault client that depends on our config only. node-vault falls back to
 * process.env (VAULT_PREFIX becomes a URL prefix, VAULT_TOKEN a header) and, with DEBUG set,
 * prints request bodies: each of those is pinned here.
 */
export function createVaultClient(cfg: VaultConfig): VaultClient {
  const client = nodeVault({
    endpoint: cfg.addr,
    token: cfg.auth === 'token' ? cfg.token : undefined,
    namespace: cfg.namespace,
    debug: () => undefined,
    requestOptions: { timeout: REQUEST_TIMEOUT_MS },
  });
  Object.assign(client, {
    pathPrefix: '',
    namespace: cfg.namespace ?? '',
    token: cfg.auth === 'token' ? (cfg.token ?? '') : '',
  });
  return client;
}

export function field(obj: unknown, key: string): unknown {
  return typeof obj === 'object' && obj !== null
    ? (obj as Record<string, unknown>)[key]
    : undefined;
}

/** The HTTP status of a node-vault ApiResponseError, if the call got an answer. */
export function vaultStatus(err: unknown): number | undefined {
  const status = field(field(err, 'response'), 'statusCode');
  return typeof status === 'number' ? status : undefined;
}

/** "403", or a transport code like "ECONNREFUSED" when no answer came. */
export function describeVaultError(err: unknown): string {
  const status = vaultStatus(err);
  if (status !== undefined) return String(status);
  const code = field(err, 'code');
  return typeof code === 'string' ? code : 'no response';
}

/**
 * Vault's own first error line, for login failures only ("invalid role or secret ID"),
 * dropped when it would repeat a credential we sent.
 */
function vaultReason(err: unknown, credentials: string[]): string {
  const errors = field(field(field(err, 'response'), 'body'), 'errors');
  const first = Array.isArray(errors) && typeof errors[0] === 'string' ? errors[0] : '';
  const line = first.replace(/\s+/g, ' ').trim().slice(0, 200);
  if (!line || credentials.some((c) => c.length > 0 && line.includes(c))) return '';
  return `: ${line}`;
}

interface Lease {
  ttl: number;
  renewable: boolean;
}

function leaseFrom(auth: unknown, ttlKey: 'lease_duration' | 'ttl'): Lease {
  const ttl = field(auth, ttlKey);
  return { ttl: typeof ttl === 'number' ? ttl : 0, renewable: field(auth, 'renewable') === true };
}

/**
 * Obtains and keeps a Vault token per VAULT_AUTH: renews it at ~2/3 of its TTL, logs in again
 * (AppRole, Kubernetes) when renewal is refused or capped by the max TTL, and re-logs in
 * after a 403 when the token itself turns out to be dead.
 */
export class VaultAuth {
  private timer?: NodeJS.Timeout;
  private pending?: Promise<void>;
  private fullTtl = 0;
  private closed = false;

  constructor(
    private readonly client: VaultClient,
    private readonly cfg: VaultConfig,
    private readonly logger: VaultLogger = new Logger('VaultAuth'),
  ) {}

  private get canLogin(): boolean {
    return this.cfg.auth !== 'token';
  }

  /** Logs in (or checks VAULT_TOKEN); one attempt at a time, shared by concurrent callers. */
  login(): Promise<void> {
    this.pending ??= this.doLogin().finally(() => (this.pending = undefined));
    return this.pending;
  }

  /**
   * Called after a 403. True when the token was dead and a fresh login succeeded, so the
   * call is worth one retry; false when the token is fine and the policy said no.
   */
  async recover(): Promise<boolean> {
    if (!this.canLogin) return false;
    try {
      await this.client.tokenLookupSelf();
      return false;
    } catch (err) {
      if (vaultStatus(err) !== 403) return false;
    }
    this.logger.warn('Vault token was rejected: logging in again');
    await this.login();
    return true;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async doLogin(): Promise<void> {
    const { cfg } = this;
    const unreachable = (err: unknown) =>
      vaultStatus(err) === undefined
        ? new SecretStoreError(
            `Vault at ${cfg.addr} unreachable (${describeVaultError(err)}): check VAULT_ADDR`,
            undefined,
            describeVaultError(err),
          )
        : undefined;
    switch (cfg.auth) {
      case 'token': {
        try {
          this.client.token = cfg.token ?? '';
          const lease = leaseFrom(field(await this.client.tokenLookupSelf(), 'data'), 'ttl');
          return this.started('token', lease);
        } catch (err) {
          throw (
            unreachable(err) ??
            new SecretStoreError(
              `Vault token lookup failed (${describeVaultError(err)})${vaultReason(err, [cfg.token ?? ''])}: check VAULT_TOKEN`,
              vaultStatus(err),
            )
          );
        }
      }
      case 'approle': {
        const creds = { role_id: cfg.roleId ?? '', secret_id: cfg.secretId ?? '' };
        try {
          const res = await this.client.approleLogin({ mount_point: cfg.approleMount, ...creds });
          return this.loggedIn('AppRole', field(res, 'auth'));
        } catch (err) {
          throw (
            unreachable(err) ??
            new SecretStoreError(
              `Vault AppRole login failed (${describeVaultError(err)}) at auth/${cfg.approleMount}/login${vaultReason(err, [creds.role_id, creds.secret_id])}: ` +
                'check VAULT_ROLE_ID/VAULT_SECRET_ID (and VAULT_APPROLE_MOUNT)',
              vaultStatus(err),
            )
          );
        }
      }
      case 'kubernetes': {
        const jwt = await this.readServiceAccountToken();
        try {
          const res = await this.client.kubernetesLogin({
            mount_point: cfg.k8sMount,
            role: cfg.k8sRole ?? '',
            jwt,
          });
          return this.loggedIn('Kubernetes', field(res, 'auth'));
        } catch (err) {
          throw (
            unreachable(err) ??
            new SecretStoreError(
              `Vault Kubernetes login failed (${describeVaultError(err)}) at auth/${cfg.k8sMount}/login${vaultReason(err, [jwt])}: ` +
                'check VAULT_K8S_ROLE (and VAULT_K8S_MOUNT) and that the role binds this service account',
              vaultStatus(err),
            )
          );
        }
      }
    }
  }

  /** Read on every login: projected service-account tokens are rotated by the kubelet. */
  private async readServiceAccountToken(): Promise<string> {
    try {
      return (await readFile(this.cfg.k8sTokenPath, 'utf8')).trim();
    } catch (err) {
      const code = field(err, 'code');
      throw new SecretStoreError(
        `cannot read the Kubernetes service-account token at ${this.cfg.k8sTokenPath} (${typeof code === 'string' ? code : 'error'}): check VAULT_K8S_TOKEN_PATH`,
      );
    }
  }

  private loggedIn(method: string, auth: unknown): void {
    const token = field(auth, 'client_token');
    if (typeof token !== 'string' || !token)
      throw new SecretStoreError(`Vault ${method} login answered without a client token`);
    this.client.token = token;
    this.started(method, leaseFrom(auth, 'lease_duration'));
  }

  private started(method: string, lease: Lease): void {
    this.fullTtl = lease.ttl;
    this.logger.log(
      `Vault ${method} auth ready (${lease.ttl > 0 ? `ttl ${lease.ttl}s${lease.renewable ? ', renewable' : ''}` : 'no expiry'})`,
    );
    this.schedule(lease);
  }

  private schedule(lease: Lease): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed || lease.ttl <= 0) return;
    // A lease shorter than the one we logged in with was capped by the max TTL: renewing
    // again cannot outlive it, so the next step is a fresh login.
    const relogin = this.canLogin && (!lease.renewable || lease.ttl < this.fullTtl);
    if (!relogin && !lease.renewable) {
      this.logger.warn(`VAULT_TOKEN is not renewable and expires in ${lease.ttl}s`);
      return;
    }
    this.later((lease.ttl * 1000 * 2) / 3, relogin);
  }

  private later(ms: number, relogin: boolean): void {
    if (this.closed) return;
    this.timer = setTimeout(() => void this.refresh(relogin), Math.max(ms, 200));
    // Renewal must never keep the process alive on its own.
    this.timer.unref();
  }

  private async refresh(relogin: boolean): Promise<void> {
    if (!relogin) {
      try {
        const lease = leaseFrom(
          field(await this.client.tokenRenewSelf(), 'auth'),
          'lease_duration',
        );
        this.logger.debug(`Vault token renewed (ttl ${lease.ttl}s)`);
        return this.schedule(lease);
      } catch (err) {
        const dead = vaultStatus(err) === 403;
        if (!this.canLogin) {
          this.logger.error(
            `Vault token renewal failed (${describeVaultError(err)})${dead ? ': VAULT_TOKEN is no longer valid, supply a new one' : ''}`,
          );
          if (!dead) this.later(RETRY_MS, false);
          return;
        }
        this.logger.warn(
          `Vault token renewal refused (${describeVaultError(err)}): logging in again`,
        );
      }
    }
    try {
      await this.login();
    } catch (err) {
      this.logger.error(
        `${err instanceof Error ? err.message : 'Vault login failed'}; retrying in ${RETRY_MS / 1000}s`,
      );
      this.later(RETRY_MS, true);
    }
  }
}
