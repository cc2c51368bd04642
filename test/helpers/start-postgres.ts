import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { freePort } from './free-port';
import { requireTestServers } from './test-env';

const run = promisify(execFile);
const DEBIAN_PG_ROOT = '/usr/lib/postgresql';

export interface PostgresServer {
  /** Superuser URL (trust auth, no password). */
  url: string;
  port: number;
  binDir: string;
  dataDir: string;
  /** Temp dir holding the data dir, the socket and the log; removed by stopPostgres. */
  baseDir: string;
  logFile: string;
  /** The server options it was started with, so it can be started again on the same port. */
  options: string;
}

/** Debian keeps the server binaries off PATH; pick the newest major version installed. */
export function findPgBinDir(): string {
  const versions = existsSync(DEBIAN_PG_ROOT)
    ? readdirSync(DEBIAN_PG_ROOT)
        .filter((v) => /^\d+$/.test(v) && existsSync(join(DEBIAN_PG_ROOT, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions.length) {
    throw new Error(
      `No PostgreSQL server found under ${DEBIAN_PG_ROOT}/<version>/bin: run scripts/install-test-deps.sh`,
    );
  }
  return join(DEBIAN_PG_ROOT, versions[0], 'bin');
}

const isRoot = (): boolean => process.getuid?.() === 0;

/** initdb and pg_ctl refuse to run as root, so as root they run as the postgres user. */
function runPg(binDir: string, tool: string, args: string[]): Promise<unknown> {
  const cmd = join(binDir, tool);
  return isRoot() ? run('runuser', ['-u', 'postgres', '--', cmd, ...args]) : run(cmd, args);
}

function logTail(file: string, lines = 30): string {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n') : '';
}

function describeFailure(what: string, err: unknown, logFile: string): Error {
  const stderr = (err as { stderr?: string }).stderr ?? '';
  const message = err instanceof Error ? err.message : String(err);
  return new Error(
    `${what} failed: ${message}\n${stderr}\n--- ${logFile} (tail) ---\n${logTail(logFile)}`,
  );
}

/** Starts a throwaway cluster on a free loopback port; durability is off, it is a test server. */
export async function startPostgres(): Promise<PostgresServer> {
  const binDir = findPgBinDir();
  const baseDir = mkdtempSync(join(tmpdir(), 'byok-pg-'));
  const dataDir = join(baseDir, 'data');
  const logFile = join(baseDir, 'postgres.log');
  if (isRoot()) await run('chown', ['postgres:postgres', baseDir]);
  try {
    const args = ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C'];
    await runPg(binDir, 'initdb', [...args, '--no-sync']);
  } catch (err) {
    rmSync(baseDir, { recursive: true, force: true });
    throw describeFailure('initdb', err, logFile);
  }
  let lastError: unknown;
  // The free port can be taken between freePort() and the bind: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const options = [
      `-p ${port}`,
      `-k ${baseDir}`,
      '-c listen_addresses=127.0.0.1',
      '-c fsync=off',
      '-c full_page_writes=off',
      '-c synchronous_commit=off',
      '-c max_connections=200',
    ].join(' ');
    try {
      await runPg(binDir, 'pg_ctl', [
        '-D',
        dataDir,
        '-l',
        logFile,
        '-o',
        options,
        '-w',
        '-t',
        '60',
        'start',
      ]);
      const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
      return { url, port, binDir, dataDir, baseDir, logFile, options };
    } catch (err) {
      lastError = err;
    }
  }
  const error = describeFailure('pg_ctl start', lastError, logFile);
  rmSync(baseDir, { recursive: true, force: true });
  throw error;
}

/** Stops the server as an outage would (fast shutdown), keeping its data for startAgain. */
export async function stopKeepingData(server: PostgresServer): Promise<void> {
  await runPg(server.binDir, 'pg_ctl', ['-D', server.dataDir, '-m', 'fast', '-w', 'stop']);
}

export async function startAgain(server: PostgresServer): Promise<void> {
  const args = ['-D', server.dataDir, '-l', server.logFile, '-o', server.options, '-w', 'start'];
  await runPg(server.binDir, 'pg_ctl', args);
}

export async function stopPostgres(server: PostgresServer): Promise<void> {
  try {
    await runPg(server.binDir, 'pg_ctl', ['-D', server.dataDir, '-m', 'immediate', '-w', 'stop']);
  } finally {
    rmSync(server.baseDir, { recursive: true, force: true });
  }
}

async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh, uniquely named database on the shared test server; returns its URL. */
export async function createTestDatabase(name = 'test'): Promise<string> {
  const { pgUrl } = requireTestServers();
  const base = name
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 40);
  const dbName = `t_${base}_${randomBytes(5).toString('hex')}`;
  await withClient(pgUrl, (c) => c.query(`CREATE DATABASE ${c.escapeIdentifier(dbName)}`));
  const url = new URL(pgUrl);
  url.pathname = `/${dbName}`;
  return url.toString();
}

/** Drops a database made by createTestDatabase, closing any connection still open to it. */
export async function dropTestDatabase(url: string): Promise<void> {
  const { pgUrl } = requireTestServers();
  const dbName = decodeURIComponent(new URL(url).pathname.slice(1));
  await withClient(pgUrl, (c) =>
    c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(dbName)} WITH (FORCE)`),
  );
}
