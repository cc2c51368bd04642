import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { loadConfig } from '../config/app-config';
import { openDatabase } from '../database/data-source';

/**
 * Migration drift check: runs every migration on a fresh database (DATABASE_URL, or a throwaway
 * PGlite) and prints the SQL TypeORM would still need to match the entities. Exit 1 when any:
 * an entity changed without a migration.
 */
async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'byok-drift-'));
  const config = loadConfig({ ...process.env, DATA_DIR: dataDir });
  const handle = await openDatabase(config, { forMigrations: true });
  const ds = new DataSource(handle.options);
  try {
    await ds.initialize();
    await ds.runMigrations({ transaction: 'each' });
    const sql = await ds.driver.createSchemaBuilder().log();
    const pending = sql.upQueries.map((q) => q.query);
    if (pending.length) {
      process.stdout.write(
        `Migration drift: the entities need SQL that no migration runs:\n${pending.join(';\n')};\n`,
      );
      process.exitCode = 1;
    } else {
      process.stdout.write('migrations match the entities\n');
    }
  } finally {
    await ds.destroy();
    await handle.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

void main();
