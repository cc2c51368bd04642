import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OpenBaoServer } from './start-openbao';
import type { PostgresServer } from './start-postgres';

/** Every process of a PostgreSQL server: the postmaster and the backends it forked. */
function postgresPids(server: PostgresServer): number[] {
  const postmaster = Number(
    readFileSync(join(server.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0],
  );
  let children: number[] = [];
  try {
    children = execFileSync('pgrep', ['-P', String(postmaster)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    children = []; // pgrep exits 1 when there are none
  }
  return [postmaster, ...children];
}

/**
 * Freezes a server as a hung host would look (SIGSTOP): connections stay open, nothing answers.
 * Returns the function that thaws it (SIGCONT).
 */
export function pausePostgres(server: PostgresServer): () => void {
  const pids = postgresPids(server);
  for (const pid of pids) process.kill(pid, 'SIGSTOP');
  return () => {
    for (const pid of [...pids].reverse()) process.kill(pid, 'SIGCONT');
  };
}

export function pauseOpenBao(server: OpenBaoServer): () => void {
  const pid = server.child.pid!;
  process.kill(pid, 'SIGSTOP');
  return () => process.kill(pid, 'SIGCONT');
}
