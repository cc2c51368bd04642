import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import type { Server } from 'node:http';
import { type AppConfig, ConfigError, loadConfig } from './config/app-config';
import { secureDataDir, usesDataDir } from './config/data-dir';
import { startEmbeddedPostgres } from './database/embedded-postgres';

function config(): AppConfig {
  try {
    return loadConfig(process.env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`byok-proxy cannot start. ${e.message}\n`);
    process.exit(1);
  }
}

async function main(): Promise<void> {
  const cfg = config();
  // The embedded database starts in its worker thread first, while the application loads: its
  // modules take as long to load as Postgres takes to start.
  if (usesDataDir(cfg)) secureDataDir(cfg.dataDir);
  const embedded = cfg.database.url ? undefined : startEmbeddedPostgres(cfg.dataDir);
  embedded?.catch(() => undefined); // its failure is reported where createApp awaits it
  const [{ createApp }, { ShutdownState }] = await Promise.all([
    import('./app.factory.js'),
    import('./health/shutdown-state.js'),
  ]);
  const app = await createApp(cfg, { embedded });
  const logger = new Logger('Main');
  await app.listen({ port: cfg.port, host: cfg.host });
  logger.log(`byok-proxy listening on http://${cfg.host}:${cfg.port} (docs at /docs)`);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal}: draining; in-flight requests have ${cfg.shutdownTimeoutMs} ms`);
    app.get(ShutdownState).draining = true;
    // close() waits for every open connection; a keep-alive client whose stream just ended
    // holds an idle one until its timeout, so idle connections are closed as they appear.
    const server: Server = app.getHttpServer();
    setInterval(() => server.closeIdleConnections(), 250).unref();
    setTimeout(() => {
      logger.error('Shutdown deadline passed; exiting with requests still open');
      process.exit(1);
    }, cfg.shutdownTimeoutMs).unref();
    app.close().then(
      () => process.exit(0),
      (e: unknown) => {
        logger.error(`Shutdown failed: ${(e as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((e: unknown) => {
  process.stderr.write(`byok-proxy failed to start: ${(e as Error).message}\n`);
  process.exit(1);
});
