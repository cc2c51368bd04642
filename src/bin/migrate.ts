import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { ConfigError, loadConfig } from '../config/app-config';
import { secureDataDir } from '../config/data-dir';
import { openDatabase } from '../database/data-source';

/** `npm run migration:run`: applies pending migrations and exits (the Helm pre-upgrade hook). */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  if (!config.database.url) secureDataDir(config.dataDir);
  const handle = await openDatabase(config, { forMigrations: true });
  const ds = new DataSource(handle.options);
  try {
    await ds.initialize();
    const ran = await ds.runMigrations({ transaction: 'each' });
    process.stdout.write(
      ran.length ? `applied: ${ran.map((m) => m.name).join(', ')}\n` : 'no pending migrations\n',
    );
  } finally {
    await ds.destroy();
    await handle.close();
  }
}

main().catch((e: unknown) => {
  const message =
    e instanceof ConfigError ? e.message : `migration failed: ${(e as Error).message}`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
});
