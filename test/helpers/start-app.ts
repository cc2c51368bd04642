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
  /** Every log line written since this app started, raw. */
  readonly logs: string[];
  close(): Promise<void>;
}

/**
 * One sink per test process: nestjs-pino keeps a process-wide root logger built from the first
 * app's options, so every app started here writes to this one sink and each app's `logs` is the
 * part written since it started (lines of apps running at the same time mix, which only makes a
 * "nothing leaked" check stricter).
 */
const lines: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, cb) {
    lines.push(chunk.toString());
    cb();
  },
});

/**
 * Starts the real application on 127.0.0.1 with the given environment (embedded defaults
 * otherwise: PGlite and the local store in a fresh DATA_DIR), capturing its JSON logs.
 */
export async function startApp(env: Record<string, string | undefined> = {}): Promise<RunningApp> {
  const dataDir = env.DATA_DIR ?? mkdtempSync(join(tmpdir(), 'byok-app-'));
  const from = lines.length;
  const config = loadConfig({ LOG_LEVEL: 'debug', ...env, DATA_DIR: dataDir });
  const app = await createApp(config, { logDestination: sink });
  try {
    await app.listen({ port: 0, host: '127.0.0.1' });
  } catch (err) {
    // Nothing left open (database, timers, Redis) when the app cannot listen.
    await app.close();
    if (!env.DATA_DIR) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    dataDir,
    get logs() {
      return lines.slice(from);
    },
    close: async () => {
      await app.close();
      if (!env.DATA_DIR) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
