import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { DatabaseBreaker } from '../database/database-breaker';
import { KeyResolver } from '../keys/key-resolver';
import { MetricsService } from '../metrics/metrics.service';
import { COUNTER_STORE, type CounterStore } from '../limits/counter-store';
import { ProviderRegistryService } from '../providers/provider-registry.service';
import { SECRET_STORE, type SecretStore } from '../secret-store/secret-store.port';
import { ShutdownState } from './shutdown-state';

const CHECK_TIMEOUT_MS = 2000;

export type DependencyState = 'up' | 'degraded' | 'down';

export interface Readiness {
  /** ok: all up; degraded: serving with something down; error: this replica cannot serve. */
  status: 'ok' | 'degraded' | 'error';
  info: Record<string, { status: DependencyState } & Record<string, unknown>>;
}

function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/**
 * Whether this replica can serve proxied requests, and the state of each dependency. A
 * dependency being down does not make the replica unready while it can still serve with the
 * keys it knows: taking every replica out of its Service because Vault or PostgreSQL is away
 * would turn a partial outage into a total one. Unready only while draining, or with no key
 * source at all (database down, no key set known, no operator key).
 */
@Injectable()
export class ReadinessService implements OnModuleInit {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(SECRET_STORE) private readonly store: SecretStore,
    @Inject(COUNTER_STORE) private readonly counters: CounterStore,
    private readonly resolver: KeyResolver,
    private readonly registry: ProviderRegistryService,
    private readonly shutdown: ShutdownState,
    private readonly dbBreaker: DatabaseBreaker,
    private readonly metrics: MetricsService,
  ) {}

  /** byok_dependency_up is this check, at each scrape. */
  onModuleInit(): void {
    this.metrics.watchDependencies(async () => {
      const { info } = await this.check();
      const up = (d: { status: DependencyState }) => d.status === 'up';
      return {
        database: up(info.database),
        secret_store: up(info.secretStore),
        limits: up(info.limits),
      };
    });
  }

  async check(): Promise<Readiness> {
    const [database, secretStore] = await Promise.all([
      this.probe(() => this.db.query('SELECT 1'), this.dbBreaker),
      this.probe(() => this.store.ping()),
    ]);
    const limits = this.counters.status();
    const envKeys = this.registry.list().filter((p) => this.registry.envFallbackAvailable(p.id));
    const keys = {
      status: (this.resolver.degraded ? 'degraded' : 'up') as DependencyState,
      knownKeySets: this.resolver.known,
      operatorKeys: envKeys.length,
    };
    const info = {
      lifecycle: { status: (this.shutdown.draining ? 'down' : 'up') as DependencyState },
      database,
      secretStore: { ...secretStore, kind: this.store.kind },
      limits: {
        status: (limits.mode === 'memory-fallback' ? 'degraded' : 'up') as DependencyState,
        ...limits,
      },
      keys,
    };
    const noKeySource =
      database.status === 'down' && this.resolver.known === 0 && envKeys.length === 0;
    const allUp = Object.values(info).every((d) => d.status === 'up');
    return {
      status: this.shutdown.draining || noKeySource ? 'error' : allUp ? 'ok' : 'degraded',
      info,
    };
  }

  /** `breaker`: told the outcome, so a probe's success resumes reloads at once. */
  private async probe(check: () => Promise<unknown>, breaker?: DatabaseBreaker) {
    try {
      await within(CHECK_TIMEOUT_MS, check());
      breaker?.succeeded();
      return { status: 'up' as DependencyState };
    } catch (e) {
      breaker?.failed(e);
      return { status: 'down' as DependencyState, message: (e as Error).message.slice(0, 200) };
    }
  }
}
