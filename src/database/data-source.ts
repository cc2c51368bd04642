import type { DataSourceOptions } from 'typeorm';
import type { AppConfig } from '../config/app-config';
import { type EmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';

/** A database to connect to: PostgreSQL from DATABASE_URL, or embedded PGlite served in-process. */
export interface DatabaseHandle {
  options: DataSourceOptions;
  embedded: boolean;
  close(): Promise<void>;
}

const common = {
  type: 'postgres' as const,
  entities: ENTITIES,
  migrations: MIGRATIONS,
  migrationsRun: false,
  synchronize: false,
  logging: false,
};

/**
 * Opens the metadata database. Without DATABASE_URL, PGlite keeps its files under DATA_DIR and
 * is served over the Postgres wire protocol on a loopback port (from a worker thread), so TypeORM, `pg` and the
 * migrations are one code path in both modes. PGlite serves one transaction at a time, hence
 * one pooled connection. `forMigrations`: statements are not bounded (the migration command
 * may build an index on a large table); the service's own statements always are.
 */
export async function openDatabase(
  config: AppConfig,
  {
    forMigrations = false,
    embedded: started,
  }: { forMigrations?: boolean; embedded?: Promise<EmbeddedPostgres> } = {},
): Promise<DatabaseHandle> {
  if (config.database.url) {
    const statementMs = config.database.statementTimeoutMs;
    const bounds = forMigrations
      ? {}
      : { statement_timeout: statementMs, query_timeout: statementMs + 1000 };
    return {
      options: {
        ...common,
        url: config.database.url,
        poolSize: 10,
        // Bounded, so a database that is away fails a call within seconds instead of holding
        // it: connecting, and each statement. The server ends a statement that runs too long;
        // the client stops waiting a second later, which is what bounds a frozen server (one
        // that holds the connection open and never answers).
        connectTimeoutMS: 3000,
        extra: { connectionTimeoutMillis: 3000, ...bounds },
      },
      embedded: false,
      close: () => Promise.resolve(),
    };
  }
  const embedded = await (started ?? startEmbeddedPostgres(config.dataDir));
  return {
    options: {
      ...common,
      url: `postgres://postgres:postgres@${embedded.address}/postgres`,
      poolSize: 1,
      connectTimeoutMS: 10000,
      extra: { connectionTimeoutMillis: 10000, max: 1 },
    },
    embedded: true,
    close: () => embedded.close(),
  };
}
