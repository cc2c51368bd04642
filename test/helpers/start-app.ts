import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createApp } from '../../src/app.factory';
import { loadConfig } from '../../src/config/app-config';

export interface RunningApp {
  url: string;
  app: NestFastifyApplication;
  dataDir: string;
  /** Every log line the app wrote, raw. */
  logs: string[];
  close(): Promise<void>;
}

/**
 * Starts the real application on 127.0.0.1 with the given environment (embedded defaults
 * otherwise: PGlite and the local store in a fresh DATA_DIR), capturing its JSON logs.
 */
export async function startApp(env: Record<string, string | undefined> = {}): Promise<RunningApp> {
  const dataDir = env.DATA_DIR ?? mkdtempSync(join(tmpdir(), 'byok-app-'));
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString());
      cb();
    },
  });
  const config = loadConfig({ LOG_LEVEL: 'debug', ...env, DATA_DIR: dataDir });
  const app = await createApp(config, { logDestination: sink });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    dataDir,
    logs,
    close: async () => {
      await app.close();
      if (!env.DATA_DIR) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
