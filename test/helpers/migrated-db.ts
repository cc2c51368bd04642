import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { loadConfig } from '../../src/config/app-config';
import { openDatabase } from '../../src/database/data-source';
import { createTestDatabase, dropTestDatabase } from './start-postgres';

export interface MigratedDb {
  ds: DataSource;
  close(): Promise<void>;
}

/** A migrated database: a fresh one on the shared test PostgreSQL, or PGlite in a temp dir. */
export async function openMigrated(postgres: boolean, name: string): Promise<MigratedDb> {
  const dataDir = mkdtempSync(join(tmpdir(), `byok-${name}-`));
  const url = postgres ? await createTestDatabase(name) : undefined;
  const handle = await openDatabase(loadConfig({ DATABASE_URL: url, DATA_DIR: dataDir }));
  const ds = new DataSource(handle.options);
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  return {
    ds,
    close: async () => {
      await ds.destroy();
      await handle.close();
      if (url) await dropTestDatabase(url);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
