import { Inject, Logger, Module, type OnModuleDestroy } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { LocalSecretEntity } from '../database/entities/local-secret.entity';
import { LocalSecretStore } from './local.secret-store';
import { SecretStoreError } from './secret-store.error';
import { SECRET_STORE, type SecretStore } from './secret-store.port';
import { Tracing } from '../tracing/tracing';
import { VaultSecretStore } from './vault.secret-store';

/**
 * Builds the store SECRET_STORE names: Vault (logging in now, so a bad credential stops
 * start-up with a message naming the variable) or the local AES-GCM store.
 */
export async function createSecretStore(
  config: AppConfig,
  dataSource: DataSource | undefined,
): Promise<SecretStore> {
  switch (config.secretStore) {
    case 'vault':
      return VaultSecretStore.connect(config.vault, new Logger('VaultSecretStore'));
    case 'local':
      if (!dataSource)
        throw new SecretStoreError(
          'SECRET_STORE=local keeps ciphertext in the database, but no TypeORM DataSource is registered',
        );
      return LocalSecretStore.create(
        dataSource.getRepository(LocalSecretEntity),
        config,
        new Logger('LocalSecretStore'),
      );
  }
}

/**
 * SECRET_STORE for the modules that import this one (keys, health). It needs APP_CONFIG (the
 * global ConfigModule) and, for the local store, TypeORM's DataSource; with Tracing (the global
 * TracingModule) its calls are spans while tracing is on.
 */
@Module({
  providers: [
    {
      provide: SECRET_STORE,
      // Optional so a vault-only context (tests, tools) needs no database.
      inject: [
        APP_CONFIG,
        { token: getDataSourceToken(), optional: true },
        { token: Tracing, optional: true },
      ],
      useFactory: async (config: AppConfig, dataSource?: DataSource, tracing?: Tracing) => {
        const store = await createSecretStore(config, dataSource);
        return tracing ? tracing.secretStore(store) : store;
      },
    },
  ],
  exports: [SECRET_STORE],
})
export class SecretStoreModule implements OnModuleDestroy {
  constructor(@Inject(SECRET_STORE) private readonly store: SecretStore) {}

  /** Stops Vault token renewal timers so shutdown is not held up or followed by stray calls. */
  onModuleDestroy(): void {
    this.store.close?.();
  }
}
