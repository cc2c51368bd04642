import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { Logger } from '@nestjs/common';
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
 * Postgres memory sized for a small metadata store rather than a server (PGlite starts with
 * 128 MB of shared buffers): PGlite's WebAssembly heap never gives back memory it once used, so
 * every buffer here is resident for the life of the process.
 */
const PGLITE_CONF = [
  'shared_buffers=8MB',
  'work_mem=1MB',
  'maintenance_work_mem=8MB',
  'temp_buffers=1MB',
  'wal_buffers=256kB',
];

/**
 * Opens the metadata database. Without DATABASE_URL, PGlite keeps its files under DATA_DIR and
 * is served over the Postgres wire protocol on a loopback port, so TypeORM, `pg` and the
 * migrations are one code path in both modes. PGlite serves one transaction at a time, hence
 * one pooled connection. `forMigrations`: statements are not bounded (the migration command
 * may build an index on a large table); the service's own statements always are.
 */
export async function openDatabase(
  config: AppConfig,
  { forMigrations = false } = {},
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
  // PGlite is a 9 MB WebAssembly build of Postgres: V8's optimising tier compiles its hot
  // functions a second time and keeps both (about 80 MB more resident, and seconds of start-up);
  // the baseline compiler alone starts it in a fraction of the time and writes usage rows as
  // fast in the bench. Set before the first WebAssembly module is compiled.
  setFlagsFromString('--liftoff-only');
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const dir = join(config.dataDir, 'pgdata');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const open = async () =>
    PGlite.create({ fs: await privateNodeFs(dir), postgresqlconf: PGLITE_CONF });
  // A first start creates the database (initdb) in the same heap, which then stays resident
  // (about 200 MB); reopened, the process holds only what serving needs.
  if (!existsSync(join(dir, 'PG_VERSION'))) await (await open()).close();
  const db = await open();
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

/** Emscripten's FS, as far as privateNodeFs needs it (not in PGlite's typings). */
interface EmscriptenChmod {
  doChmod?: (stream: unknown, node: unknown, mode: number, dontFollow: unknown) => void;
}

/**
 * PGlite's own Node file system (Emscripten's NODEFS under DATA_DIR/pgdata), except that no file
 * or folder it writes gets a group or other permission bit. Emscripten chmods each file it
 * creates to the mode Postgres asked for, 0666 in PGlite's WASM build, whatever the process
 * umask: so its chmod (FS.doChmod, behind chmod, fchmod and every create) is masked with ~0077.
 * Should a PGlite upgrade rename that internal, the proxy says so and still restricts the whole
 * of DATA_DIR on every start (secureDataDir).
 */
async function privateNodeFs(dir: string) {
  const { NodeFS } = await import('@electric-sql/pglite/nodefs');
  type Init = InstanceType<typeof NodeFS>['init'];
  class PrivateNodeFS extends NodeFS {
    override async init(...args: Parameters<Init>): ReturnType<Init> {
      const result = await super.init(...args);
      const preRun = result.emscriptenOpts.preRun ?? [];
      result.emscriptenOpts.preRun = [...preRun, (mod) => maskChmod(mod.FS)];
      return result;
    }
  }
  return new PrivateNodeFS(dir);
}

function maskChmod(fs: unknown): void {
  const emscripten = fs as EmscriptenChmod;
  const doChmod = emscripten.doChmod;
  if (typeof doChmod !== 'function') {
    new Logger('Database').warn(
      'PGlite files cannot be kept private as they are created (FS.doChmod not found): DATA_DIR is restricted at each start only',
    );
    return;
  }
  emscripten.doChmod = (stream, node, mode, dontFollow) =>
    doChmod.call(emscripten, stream, node, mode & ~0o077, dontFollow);
}
