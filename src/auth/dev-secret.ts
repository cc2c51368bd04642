import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AppConfig } from '../config/app-config';

export const DEV_SECRET_FILE = 'dev-jwt.secret';

/** Where the HS256 secret came from; `file` and `generated` are dev-only and refused in production. */
export type JwtSecretSource = 'env' | 'file' | 'generated';

export interface JwtSecret {
  secret: string;
  source: JwtSecretSource;
  /** The file holding a dev secret, when there is one. */
  path?: string;
}

/**
 * Reads DATA_DIR/dev-jwt.secret, creating it (32 random bytes, base64url, mode 0600) the first
 * time. The server and `npm run token` both call this, so a minted token verifies without any
 * setup. `wx` makes creation atomic: when the server and the mint script race, one writes and
 * the other reads what it wrote.
 */
export function loadOrCreateDevSecret(dataDir: string): JwtSecret {
  const path = join(dataDir, DEV_SECRET_FILE);
  const existing = readSecretFile(path);
  if (existing) return { secret: existing, source: 'file', path };
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString('base64url');
  try {
    writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return { secret, source: 'generated', path };
  } catch (err) {
    const raced =
      (err as NodeJS.ErrnoException).code === 'EEXIST' ? readSecretFile(path) : undefined;
    if (raced) return { secret: raced, source: 'file', path };
    throw err;
  }
}

/** AUTH_JWT_SECRET when set, else the dev secret file (config already refuses that in production). */
export function resolveJwtSecret(config: AppConfig): JwtSecret {
  if (config.auth.jwtSecret) return { secret: config.auth.jwtSecret, source: 'env' };
  return loadOrCreateDevSecret(config.dataDir);
}

function readSecretFile(path: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  // A truncated or hand-edited file would silently weaken every token signed with it.
  if (text.length < 32) {
    throw new Error(
      `${path} holds a secret shorter than 32 characters: delete it to generate a new one, or set AUTH_JWT_SECRET`,
    );
  }
  return text;
}
