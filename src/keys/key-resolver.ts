import { Inject, Injectable } from '@nestjs/common';
import type { Caller } from '../auth/caller';
import { DependencyError } from '../common/errors/dependency-error';
import type { ResilientCache } from '../common/resilient-cache';
import { DatabaseBreaker } from '../database/database-breaker';
import type { SecretValue } from '../common/secret-value';
import type { Limits } from '../limits/limits';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { DatabaseUnavailableError } from '../common/errors/database-unavailable';
import { InvalidationBus } from '../redis/invalidation-bus';
import { ProviderRegistryService } from '../providers/provider-registry.service';
import { isSecretNotFound } from '../secret-store/secret-store.error';
import { SECRET_STORE, type SecretStore } from '../secret-store/secret-store.port';
import { KeyRepository, type Owner } from './key.repository';

export type KeySource = 'user' | 'org' | 'env';

/** One key the proxy may try, in order. `keyId` is absent for the operator's env key. */
export interface KeyCandidate {
  source: KeySource;
  provider: string;
  keyId?: string;
  /** The user or organisation that owns the key ('' for env). */
  ownerId: string;
  keyName: string;
  hint: string;
  /**
   * The raw key: fetched from the store (and decrypted) the first time a request tries this
   * key, then kept with the cached candidate. Keys never tried are never fetched. Rejects with
   * a SecretStoreError (404 when the secret is gone).
   */
  secret: () => Promise<SecretValue>;
  /** The key's own limits, when it has any. */
  limits?: Limits | null;
  /** The secret version the metadata names (stored keys only). */
  version?: number;
  /** The key's non-secret parameters (region, resource, …), for kinds that take them. */
  params?: Record<string, string> | null;
}

/**
 * A candidate's secret, or undefined when it is gone from the store (a half-finished delete):
 * that key is skipped. A store that is down is an error, never a silent fall-through to the next
 * owner's or the operator's key.
 */
export async function readSecret(c: KeyCandidate): Promise<SecretValue | undefined> {
  try {
    return await c.secret();
  } catch (e) {
    if (isSecretNotFound(e)) return undefined;
    throw e;
  }
}

/** Loads once; a failed load is forgotten, so the next request tries again. */
function once(load: () => Promise<SecretValue>): () => Promise<SecretValue> {
  let loading: Promise<SecretValue> | undefined;
  return () =>
    (loading ??= load().catch((e: unknown) => {
      loading = undefined;
      throw e;
    }));
}

const ownerKey = (o: Owner): string => `${o.ownerType}\u0000${o.ownerId}`;

/**
 * Resolves (caller, provider) to candidate keys: the caller's own keys, then its organisation's,
 * then the provider's env key when fallback is allowed. Key metadata is cached per replica for
 * KEY_CACHE_TTL_MS and dropped at once by writes here; a secret is fetched the first time a
 * request tries its key and cached with it, so the proxy's hot path does no database or Vault
 * round trip, and a key that is never tried is never read from the store.
 *
 * When the database or the store cannot be reached, the last key set loaded keeps serving for
 * up to KEY_STALE_MAX_MS (ResilientCache: a short wait, then stale; a circuit breaker so no
 * request waits on a dead dependency), and secrets already read are carried over to reloaded
 * sets. Never a silent fall-through: an owner whose keys cannot be loaded at all is a 503.
 */
@Injectable()
export class KeyResolver {
  private readonly cache: ResilientCache<KeyCandidate[]>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly keys: KeyRepository,
    @Inject(SECRET_STORE) private readonly store: SecretStore,
    private readonly registry: ProviderRegistryService,
    private readonly bus: InvalidationBus,
    breaker: DatabaseBreaker,
  ) {
    this.cache = breaker.cache(50_000);
    // Another replica changed an owner's keys: drop our copy at once (REDIS_URL set).
    this.bus.on('owner', (k) => this.dropOwner(k));
  }

  /** Whether key sets are being served stale because loads fail (for /readyz). */
  get degraded(): boolean {
    return this.cache.failing;
  }

  /** How many key sets this replica holds. */
  get known(): number {
    return this.cache.size;
  }

  async resolve(caller: Caller, provider: string): Promise<KeyCandidate[]> {
    const owners: Owner[] = [{ ownerType: 'user', ownerId: caller.sub }];
    if (caller.orgId) owners.push({ ownerType: 'org', ownerId: caller.orgId });
    const groups = await Promise.all(owners.map((o) => this.ownerKeys(o, provider)));
    const out = groups.flat();
    const envKey = this.registry.envFallbackAvailable(provider) && this.registry.envKey(provider);
    if (envKey)
      out.push({
        source: 'env',
        provider,
        ownerId: '',
        keyName: this.registry.require(provider).envKey,
        hint: envKey.hint,
        secret: () => Promise.resolve(envKey),
      });
    return out;
  }

  /** Drops an owner's cached keys; every write calls it. */
  invalidate(owner: Owner): void {
    const k = ownerKey({ ownerType: owner.ownerType, ownerId: owner.ownerId });
    this.dropOwner(k);
    this.bus.publish('owner', k);
  }

  private dropOwner(k: string): void {
    for (const provider of this.registry.ids()) this.cache.delete(`${k}\u0000${provider}`);
  }

  clear(): void {
    this.cache.clear();
  }

  private ownerKeys(owner: Owner, provider: string): Promise<KeyCandidate[]> {
    return this.cache
      .get(`${ownerKey(owner)}\u0000${provider}`, (previous) =>
        this.load(owner, provider, previous),
      )
      .catch((e: unknown) => {
        throw e instanceof DependencyError
          ? e
          : new DatabaseUnavailableError(`Loading keys failed: ${(e as Error).message}`);
      });
  }

  private async load(
    owner: Owner,
    provider: string,
    previous: KeyCandidate[] | undefined,
  ): Promise<KeyCandidate[]> {
    const rows = (await this.keys.listActive(owner, provider)).filter((r) => !r.invalid);
    // A secret already read is kept when the key's version is unchanged: a reload while the
    // store is away must not lose the keys that were working.
    const read = new Map(previous?.map((c) => [`${c.keyId}@${c.version}`, c.secret]));
    return rows.map((r) => ({
      source: owner.ownerType,
      provider,
      ownerId: owner.ownerId,
      keyId: r.id,
      keyName: r.keyName,
      hint: r.keyHint,
      limits: r.limits,
      version: r.version,
      params: r.params,
      secret:
        read.get(`${r.id}@${r.version}`) ??
        once(() =>
          this.store.get({ ownerType: r.ownerType, ownerId: r.ownerId, keyId: r.id }, r.version),
        ),
    }));
  }
}
