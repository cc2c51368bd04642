import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import type { AppConfig } from '../config/app-config';
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
 * is served over the Postgres wire protocol on a loopback port, so TypeORM, `pg` and the
 * migrations are one code path in both modes. PGlite serves one transaction at a time, hence
 * one pooled connection.
 */
export async function openDatabase(config: AppConfig): Promise<DatabaseHandle> {
  if (config.database.url) {
    return {
      options: {
        ...common,
        url: config.database.url,
        poolSize: 10,
        connectTimeoutMS: 10000,
        extra: { connectionTimeoutMillis: 10000 },
      },
      embedded: false,
      close: () => Promise.resolve(),
    };
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const dir = join(config.dataDir, 'pgdata');
  mkdirSync(dir, { recursive: true });
  const db = await PGlite.create(dir);
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 1 });
  await server.start();
  return {
    options: {
      ...common,
      url: `postgres://postgres:postgres@${server.getServerConn()}/postgres`,
      poolSize: 1,
      connectTimeoutMS: 10000,
      extra: { connectionTimeoutMillis: 10000, max: 1 },
    },
    embedded: true,
    close: async () => {
      await server.stop();
      await db.close();
    },
  };
}
