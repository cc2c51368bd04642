import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ApiClient } from '../helpers/http';
import { mintHs256 } from '../helpers/mint-jwt';
import { startApp } from '../helpers/start-app';

/**
 * DATA_DIR holds the embedded database, the generated master key and the dev JWT secret: on
 * embedded defaults (no DATABASE_URL, no LOCAL_MASTER_KEY, no AUTH_JWT_SECRET) nothing in it
 * may be readable, writable or searchable by group or others, whether the proxy created it or
 * found it already there, and including what the database writes after start.
 */

/** Every path under `root` (root included) whose mode has a group or other bit, with its mode. */
function exposed(root: string): string[] {
  const found: string[] = [];
  const walk = (path: string): void => {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return;
    if ((st.mode & 0o077) !== 0)
      found.push(`${relative(root, path) || '.'} ${(st.mode & 0o777).toString(8)}`);
    if (st.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(root);
  return found;
}

function count(root: string): number {
  const st = lstatSync(root);
  return st.isDirectory()
    ? 1 + readdirSync(root).reduce((n, name) => n + count(join(root, name)), 0)
    : 1;
}

/** Starts the app on embedded defaults in `dataDir`, uses it (so the database writes), stops it. */
async function runIn(dataDir: string): Promise<void> {
  const app = await startApp({ DATA_DIR: dataDir });
  try {
    const secret = readFileSync(join(dataDir, 'dev-jwt.secret'), 'utf8').trim();
    const api = new ApiClient(app.url, mintHs256(secret, { sub: 'alice' }));
    for (let i = 0; i < 5; i++) {
      const saved = await api.post('/api/user/api-keys', {
        provider: 'cerebras',
        keyName: `k${i}`,
        apiKey: `csk-data-dir-${i}-0123456789`,
      });
      expect(saved.status).toBeLessThan(300); // 201 the first run, 200 (new version) after
    }
    expect((await api.get('/api/user/api-keys')).status).toBe(200);
    // Files the database creates after start must be private too.
    expect(exposed(dataDir)).toEqual([]);
  } finally {
    await app.close();
  }
}

describe('DATA_DIR is private to the proxy (embedded defaults)', () => {
  let parent: string;
  let umask: number;

  beforeAll(() => {
    parent = mkdtempSync(join(tmpdir(), 'byok-trust-data-'));
    // The most permissive umask a container may hand us: files 0666, folders 0777 unless the
    // proxy says otherwise.
    umask = process.umask(0);
  });

  afterAll(() => {
    process.umask(umask);
    rmSync(parent, { recursive: true, force: true });
  });

  it('creates a fresh DATA_DIR 0700 with nothing inside readable by group or others', async () => {
    process.umask(0);
    const dataDir = join(parent, 'fresh', 'data');
    await runIn(dataDir);
    expect(lstatSync(dataDir).mode & 0o777).toBe(0o700);
    for (const file of ['master.key', 'dev-jwt.secret', 'pgdata'])
      expect(existsSync(join(dataDir, file))).toBe(true);
    expect(count(join(dataDir, 'pgdata'))).toBeGreaterThan(10);
    expect(exposed(dataDir)).toEqual([]);
  });

  it('restricts a DATA_DIR that already exists with open modes, on every start', async () => {
    process.umask(0);
    const dataDir = join(parent, 'existing');
    mkdirSync(join(dataDir, 'old', 'deeper'), { recursive: true });
    writeFileSync(join(dataDir, 'notes.txt'), 'left here by hand\n');
    writeFileSync(join(dataDir, 'old', 'deeper', 'dump.sql'), 'select 1;\n');
    chmodSync(dataDir, 0o755);
    chmodSync(join(dataDir, 'old'), 0o777);
    chmodSync(join(dataDir, 'old', 'deeper'), 0o755);
    chmodSync(join(dataDir, 'notes.txt'), 0o644);
    chmodSync(join(dataDir, 'old', 'deeper', 'dump.sql'), 0o666);
    expect(exposed(dataDir)).toHaveLength(5);

    await runIn(dataDir);
    expect(exposed(dataDir)).toEqual([]);

    // Loosened again between runs (a restore from backup, a careless chmod -R): fixed at start.
    chmodSync(dataDir, 0o755);
    chmodSync(join(dataDir, 'master.key'), 0o644);
    chmodSync(join(dataDir, 'pgdata'), 0o755);
    process.umask(0);
    await runIn(dataDir);
    expect(lstatSync(dataDir).mode & 0o777).toBe(0o700);
    expect(lstatSync(join(dataDir, 'notes.txt')).mode & 0o777).toBe(0o600);
    expect(lstatSync(join(dataDir, 'old')).mode & 0o777).toBe(0o700);
    expect(exposed(dataDir)).toEqual([]);
  });
});
