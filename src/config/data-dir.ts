import { Logger } from '@nestjs/common';
import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import type { AppConfig } from './app-config';

const PRIVATE_DIR = 0o700;
const PRIVATE_FILE = 0o600;

/**
 * True when this configuration keeps anything in DATA_DIR: the embedded database, a generated
 * master key or a generated dev JWT secret. With PostgreSQL, LOCAL_MASTER_KEY (or Vault) and
 * an IdP or AUTH_JWT_SECRET, DATA_DIR is never created (read-only root filesystems stay so).
 */
export function usesDataDir(config: AppConfig): boolean {
  return (
    !config.database.url ||
    (config.secretStore === 'local' && !config.localMasterKey) ||
    (!config.auth.jwksUri && !config.auth.jwtSecret)
  );
}

/**
 * Makes DATA_DIR private to the user the proxy runs as, on every start: creates it 0700, then
 * walks it and sets every folder to 0700 and every file to 0600 (no group or world bits), so a
 * directory made by hand, copied in, or created by an older version is fixed too.
 *
 * Files created afterwards must be private as well. Chosen: the process umask is set to 0077
 * (process-wide; byok-proxy writes no files outside DATA_DIR, so nothing else is affected), the
 * secret files are written with an explicit 0600, and PGlite, which chmods the files it creates
 * to 0666 whatever the umask, has that chmod masked (PrivateNodeFS in database/pglite-worker.mjs).
 *
 * Symbolic links are left alone (chmod would follow them out of DATA_DIR). A folder or file we
 * cannot chmod (another owner, e.g. a volume prepared by root) is logged, not fatal: the
 * folder's own 0700 is what keeps others out.
 */
export function secureDataDir(
  dir: string,
  logger: Pick<Logger, 'warn'> = new Logger('DataDir'),
): void {
  // Worker threads may not change the umask (it throws); the walk and PGlite's mask still apply.
  if (isMainThread) process.umask(0o077);
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR });
  restrict(dir, logger);
}

function restrict(path: string, logger: Pick<Logger, 'warn'>): void {
  const stat = lstatSync(path);
  if (stat.isSymbolicLink()) return;
  const dir = stat.isDirectory();
  const wanted = dir ? PRIVATE_DIR : PRIVATE_FILE;
  if ((stat.mode & 0o777) !== wanted) {
    try {
      chmodSync(path, wanted);
    } catch (err) {
      logger.warn(
        `Cannot make ${path} private (chmod ${wanted.toString(8)}): ${(err as Error).message}`,
      );
    }
  }
  if (dir) for (const name of readdirSync(path)) restrict(join(path, name), logger);
}
