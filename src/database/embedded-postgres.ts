import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { Logger } from '@nestjs/common';

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

/** Beside this file: src/ under the tests, dist/ once built (the build copies it). */
const WORKER_FILE = join(__dirname, 'pglite-worker.mjs');

export interface EmbeddedPostgres {
  /** `host:port` of the wire-protocol server on loopback. */
  address: string;
  close(): Promise<void>;
}

/**
 * PGlite under DATA_DIR/pgdata, in a worker thread (pglite-worker.mjs) that serves it over the
 * Postgres wire protocol on a loopback port. Its WebAssembly runs beside the request path, on
 * another core, instead of inside it; and a first start creates the database in a worker of its
 * own, which exits and takes the memory initdb used with it.
 */
export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedPostgres> {
  const dir = join(dataDir, 'pgdata');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let wasmModule: CompiledModule;
  if (!existsSync(join(dir, 'PG_VERSION'))) {
    const creator = run(dir, true);
    creator.thread.on('message', (m: { wasmModule?: CompiledModule }) => {
      wasmModule = m.wasmModule ?? wasmModule;
    });
    await creator.exited;
  }
  const worker = run(dir, false, wasmModule);
  const address = await ready(worker);
  let closing = false;
  void worker.exited.then(
    () => closing || logger.error('The embedded database stopped; database calls will fail'),
    (e: Error) => logger.error(`The embedded database failed: ${e.message}`),
  );
  return {
    address,
    close: async () => {
      closing = true;
      worker.thread.postMessage('close');
      // A worker that does not stop by itself is ended: the process must be able to exit.
      const stuck = setTimeout(() => void worker.thread.terminate(), CLOSE_TIMEOUT_MS);
      await worker.exited.catch(() => undefined);
      clearTimeout(stuck);
    },
  };
}

const logger = new Logger('Database');
/** Postgres' compiled WebAssembly.Module, passed from one worker to the next as it is. */
type CompiledModule = unknown;
const CLOSE_TIMEOUT_MS = 5000;

type Thread = ReturnType<typeof run>;

function run(dir: string, create: boolean, wasmModule?: CompiledModule) {
  const thread = new Worker(WORKER_FILE, {
    workerData: { dir, conf: PGLITE_CONF, create, wasmModule },
  });
  const exited = new Promise<void>((resolve, reject) => {
    thread.once('error', reject);
    thread.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`exit code ${code}`)),
    );
  });
  thread.on('message', (m: { warn?: string }) => m.warn && logger.warn(m.warn));
  return { thread, exited };
}

/** The server's address once the worker serves, or why it never will. */
function ready({ thread, exited }: Thread): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    thread.on('message', (m: { ready?: string }) => m.ready && resolve(m.ready));
    exited.then(
      () => reject(new Error('the embedded database exited before it was ready')),
      (e: Error) => reject(new Error(`the embedded database could not start: ${e.message}`)),
    );
  });
}
