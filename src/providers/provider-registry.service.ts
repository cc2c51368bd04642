import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { AppError } from '../common/errors/app-error';
import type { SecretValue } from '../common/secret-value';
import { loadProviders, type ProviderEntry } from './provider-loader';
import type { ProviderRecord } from './provider.schema';

/** The provider records, validated once at start-up; every read is a map lookup. */
@Injectable()
export class ProviderRegistryService {
  readonly defaultProvider: string;
  readonly #entries: Map<string, ProviderEntry>;
  readonly #list: readonly ProviderRecord[];

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.#entries = loadProviders(config);
    this.#list = Object.freeze([...this.#entries.values()].map((e) => e.record));
    this.defaultProvider = config.defaultProvider;
  }

  get(id: string): ProviderRecord | undefined {
    return this.#entries.get(id)?.record;
  }

  require(id: string): ProviderRecord {
    const record = this.get(id);
    if (record) return record;
    const known = this.ids();
    const message = `Unknown provider "${id}". Known providers: ${known.join(', ')}.`;
    throw new AppError('provider_unknown', message, { details: { knownProviders: known } });
  }

  list(): ProviderRecord[] {
    return [...this.#list];
  }

  ids(): string[] {
    return [...this.#entries.keys()];
  }

  /** The operator's fallback key, only when its variable is set; never put it in a DTO or log. */
  envKey(id: string): SecretValue | undefined {
    return this.#entries.get(id)?.envKey;
  }

  envFallbackAvailable(id: string): boolean {
    const entry = this.#entries.get(id);
    return !!entry && entry.record.envFallback && entry.envKey !== undefined;
  }
}
