import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { startOpenBao, stopOpenBao, type OpenBaoServer } from './start-openbao';
import { startPostgres, stopPostgres, type PostgresServer } from './start-postgres';

export interface RunningServers {
  postgres?: PostgresServer;
  openbao?: OpenBaoServer;
}

// Jest runs global setup and teardown in one process but may load them as separate module
// instances; a global is what its docs promise teardown can read.
const holder = globalThis as typeof globalThis & { byokTestServers?: RunningServers };

export function runningServers(): RunningServers {
  holder.byokTestServers ??= {};
  return holder.byokTestServers;
}

export async function stopServers(servers: RunningServers): Promise<void> {
  const { postgres, openbao } = servers;
  servers.postgres = undefined;
  servers.openbao = undefined;
  await Promise.all([postgres && stopPostgres(postgres), openbao && stopOpenBao(openbao)]);
}

/** Last resort when jest dies without teardown: nothing async runs on 'exit'. */
function stopServersSync(servers: RunningServers): void {
  const { postgres, openbao } = servers;
  if (openbao) {
    openbao.child.kill('SIGKILL');
    rmSync(openbao.baseDir, { recursive: true, force: true });
  }
  if (postgres) {
    const pgCtl = [join(postgres.binDir, 'pg_ctl'), '-D', postgres.dataDir, '-m', 'immediate'];
    const asRoot = process.getuid?.() === 0;
    const [cmd, ...args] = asRoot ? ['runuser', '-u', 'postgres', '--', ...pgCtl] : pgCtl;
    spawnSync(cmd, [...args, 'stop'], { stdio: 'ignore' });
    rmSync(postgres.baseDir, { recursive: true, force: true });
  }
  servers.postgres = undefined;
  servers.openbao = undefined;
}

function installExitHooks(servers: RunningServers): void {
  process.once('exit', () => stopServersSync(servers));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stopServersSync(servers);
      process.kill(process.pid, signal);
    });
  }
}

/** One throwaway PostgreSQL and one OpenBao dev server for the whole run, shared by workers. */
export default async function globalSetup(): Promise<void> {
  if (process.env.TEST_NO_SERVERS === '1') {
    process.stderr.write('TEST_NO_SERVERS=1: not starting PostgreSQL or OpenBao\n');
    return;
  }
  const started = Date.now();
  const servers = runningServers();
  installExitHooks(servers);
  const [pg, bao] = await Promise.allSettled([startPostgres(), startOpenBao()]);
  if (pg.status === 'fulfilled') servers.postgres = pg.value;
  if (bao.status === 'fulfilled') servers.openbao = bao.value;
  if (pg.status === 'rejected' || bao.status === 'rejected') {
    await stopServers(servers);
    const reasons = [pg, bao].flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
    throw new Error(`Could not start the test servers:\n${reasons.join('\n\n')}`);
  }
  const { postgres, openbao } = servers as Required<RunningServers>;
  // Workers are forked after global setup, so they inherit these.
  process.env.TEST_PG_URL = postgres.url;
  process.env.TEST_PG_BIN = postgres.binDir;
  process.env.TEST_PG_DATA = postgres.dataDir;
  process.env.TEST_VAULT_ADDR = openbao.addr;
  process.env.TEST_VAULT_TOKEN = openbao.token;
  process.stderr.write(
    `\ntest servers: postgres ${postgres.url}, openbao ${openbao.addr} ` +
      `(started in ${Date.now() - started} ms)\n`,
  );
}
