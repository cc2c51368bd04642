import { mintHs256 } from './mint-jwt';
import { randomBytes } from 'node:crypto';
import { createTestDatabase } from './start-postgres';
import { requireTestServers } from './test-env';

/** The two ways the whole app runs in e2e tests: embedded defaults, and Postgres + OpenBao. */
export interface StoreMode {
  name: string;
  vault: boolean;
  env(): Promise<Record<string, string>>;
}

export const EMBEDDED: StoreMode = {
  name: 'PGlite + local store',
  vault: false,
  env: () => Promise.resolve({}),
};

export const POSTGRES_VAULT: StoreMode = {
  name: 'PostgreSQL + OpenBao',
  vault: true,
  env: async () => {
    const s = requireTestServers();
    return {
      DATABASE_URL: await createTestDatabase('e2e'),
      VAULT_ADDR: s.vaultAddr,
      VAULT_TOKEN: s.vaultToken,
      VAULT_PREFIX: `e2e-${randomBytes(4).toString('hex')}`,
    };
  },
};

export const STORE_MODES = [EMBEDDED, POSTGRES_VAULT];

export const JWT_SECRET = 'e2e-jwt-secret-that-is-long-enough-0123456789';

/** A dev-mode JWT for the apps the e2e tests start with AUTH_JWT_SECRET = JWT_SECRET. */
export const testJwt = (sub: string, claims: Record<string, unknown> = {}, expiresIn = 600) =>
  mintHs256(JWT_SECRET, { sub, ...claims }, { expiresIn });
