import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { freePort } from '../helpers/free-port';
import { httpStatus } from '../helpers/http-status';
import { providersAt } from '../helpers/http';
import { mintHs256 } from '../helpers/mint-jwt';
import { vaultRequest } from '../helpers/start-openbao';
import { createTestDatabase } from '../helpers/start-postgres';
import { requireTestServers } from '../helpers/test-env';
import { startUpstreamDouble, type UpstreamDouble } from '../helpers/upstream-double';

/**
 * The image's start command as Kubernetes runs it: `node dist/main.js` (docker/Dockerfile CMD)
 * with NODE_ENV=production against PostgreSQL and OpenBao with AppRole auth, after the hook
 * Job's `node dist/bin/migrate.js`; then SIGTERM in the middle of a streamed completion.
 *
 * It runs the compiled dist/: `npm test` builds before jest; run alone, it builds when a
 * source file is newer than its output. The production-only install (`npm ci --omit=dev`) is
 * checked by scripts/check-prod-install.sh.
 */

const ROOT = join(__dirname, '..', '..');
const START_COMMAND = ['dist/main.js'];
const MIGRATE_COMMAND = ['dist/bin/migrate.js'];
const SHUTDOWN_TIMEOUT_MS = 15_000;
const CHUNK_DELAY_MS = 250;
const WORDS = 'one two three four five six seven eight'.split(' ');
const USER_KEY = `csk-deploy-${randomBytes(6).toString('hex')}`;
const id = randomBytes(4).toString('hex');
const kvMount = `kv-deploy-${id}`;
const approleMount = `approle-deploy-${id}`;

/** A source file newer than its compiled output (tsc --incremental rewrites changed files only). */
function staleOutput(dir = join(ROOT, 'src')): string | undefined {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const stale = staleOutput(path);
      if (stale) return stale;
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
      const out = join(ROOT, 'dist', relative(join(ROOT, 'src'), path)).replace(/\.ts$/, '.js');
      if (!existsSync(out) || statSync(out).mtimeMs < statSync(path).mtimeMs) return path;
    }
  }
  return undefined;
}

/** `npm test` has built already; a run of this file alone builds when dist/ is stale. */
function ensureBuilt(): void {
  const stale = staleOutput();
  if (!stale) return;
  const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0)
    throw new Error(
      `dist/ is stale (${relative(ROOT, stale)}) and npm run build failed:\n${build.stdout}\n${build.stderr}`,
    );
}

async function bao<T = Record<string, unknown>>(method: string, path: string, body?: unknown) {
  const res = await vaultRequest<T & { errors?: string[] }>(method, `/v1/${path}`, body);
  if (res.status >= 300)
    throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body.errors)}`);
  return res.body;
}

/** What an operator does once per installation: a KV mount, a policy and an AppRole. */
async function setUpAppRole(): Promise<{ roleId: string; secretId: string }> {
  await bao('POST', `sys/mounts/${kvMount}`, { type: 'kv', options: { version: '2' } });
  await bao('POST', `sys/auth/${approleMount}`, { type: 'approle' });
  await bao('PUT', `sys/policies/acl/${approleMount}`, {
    policy: [
      `path "${kvMount}/data/byok/*" { capabilities = ["create", "update", "read"] }`,
      `path "${kvMount}/metadata/byok/*" { capabilities = ["read", "delete"] }`,
      `path "${kvMount}/destroy/byok/*" { capabilities = ["update"] }`,
    ].join('\n'),
  });
  await bao('POST', `auth/${approleMount}/role/byok-proxy`, {
    token_policies: [approleMount],
    token_ttl: '1h',
  });
  const role = await bao<{ data: { role_id: string } }>(
    'GET',
    `auth/${approleMount}/role/byok-proxy/role-id`,
  );
  const secret = await bao<{ data: { secret_id: string } }>(
    'POST',
    `auth/${approleMount}/role/byok-proxy/secret-id`,
  );
  return { roleId: role.data.role_id, secretId: secret.data.secret_id };
}

interface Exited {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

function run(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: 'pipe' });
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr.on('data', (b: Buffer) => (output += b.toString()));
  const exited = new Promise<Exited>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  return { child, exited, output: () => output };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('production start: node dist/main.js with NODE_ENV=production, PostgreSQL and Vault AppRole', () => {
  let double: UpstreamDouble;
  let server: ReturnType<typeof run> | undefined;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let base: string;
  const jwtSecret = randomBytes(32).toString('hex');

  beforeAll(async () => {
    ensureBuilt();
    const { vaultAddr } = requireTestServers();
    double = await startUpstreamDouble();
    const { roleId, secretId } = await setUpAppRole();
    dataDir = mkdtempSync(join(tmpdir(), 'deploy-start-'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    // Only what a pod gets: no NODE_OPTIONS, nothing of jest's environment.
    env = {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      DATABASE_URL: await createTestDatabase('production_start'),
      MIGRATIONS_RUN: 'false',
      VAULT_ADDR: vaultAddr,
      VAULT_AUTH: 'approle',
      VAULT_APPROLE_MOUNT: approleMount,
      VAULT_ROLE_ID: roleId,
      VAULT_SECRET_ID: secretId,
      VAULT_KV_MOUNT: kvMount,
      AUTH_JWT_SECRET: jwtSecret,
      ...providersAt(double.url),
    };
  }, 120_000);

  afterAll(async () => {
    if (server && server.child.exitCode === null && server.child.signalCode === null) {
      server.child.kill('SIGKILL');
      await server.exited;
    }
    await double?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('migrates, serves, and on SIGTERM drains a stream to its end and exits 0', async () => {
    const migrate = run(MIGRATE_COMMAND, env);
    const migrated = await migrate.exited;
    expect({ code: migrated.code, output: migrate.output() }).toEqual({
      code: 0,
      output: expect.stringMatching(/^applied: /) as unknown,
    });

    server = run(START_COMMAND, env);
    const { child } = server;
    const deadline = Date.now() + 60_000;
    let ready: number | string = 'not tried';
    while (Date.now() < deadline && child.exitCode === null) {
      ready = await httpStatus(`${base}/readyz`);
      if (ready === 200) break;
      await sleep(200);
    }
    if (ready !== 200) throw new Error(`/readyz never 200 (${ready}):\n${server.output()}`);

    const jwt = mintHs256(jwtSecret, { sub: 'deploy-user' });
    const headers = { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' };
    const saved = await fetch(`${base}/api/user/api-keys`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ provider: 'cerebras', keyName: 'deploy', apiKey: USER_KEY }),
    });
    expect(saved.status).toBe(201);
    // The key went to Vault, not to the database.
    const listed = await vaultRequest<{ data?: { keys?: string[] } }>(
      'LIST',
      `/v1/${kvMount}/metadata/byok/user/deploy-user`,
    );
    expect(listed.body.data?.keys).toHaveLength(1);

    double.options.reply = WORDS.join(' ');
    double.options.chunkDelayMs = CHUNK_DELAY_MS;
    const res = await fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        model: 'cerebras/double-small',
        stream: true,
        messages: [{ role: 'user', content: 'count to eight' }],
      }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const first = await reader.read();
    text += decoder.decode(first.value, { stream: true });

    // Mid-stream: the first word is out, seven more are ~250 ms apart.
    child.kill('SIGTERM');
    const termAt = Date.now();
    await sleep(300);
    const readyAfterTerm = await httpStatus(`${base}/readyz`);

    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    const streamEndAt = Date.now();
    const exited = await server.exited;

    expect(readyAfterTerm).not.toBe(200);
    const events = text
      .split('\n\n')
      .filter((e) => e.startsWith('data: '))
      .map((e) => e.slice('data: '.length));
    expect(events.at(-1)).toBe('[DONE]');
    const content = events
      .slice(0, -1)
      .map((e) => JSON.parse(e) as { choices: { delta?: { content?: string } }[] })
      .map((e) => e.choices[0]?.delta?.content ?? '')
      .join('');
    expect(content).toBe(WORDS.join(' '));
    expect(text).not.toMatch(/"error"/);
    // The upstream got the user's key from Vault; the caller's JWT never left the proxy.
    const upstream = double.requests.find((r) => r.path.endsWith('/chat/completions'));
    expect(upstream?.key).toBe(USER_KEY);

    const timeline =
      `/readyz after SIGTERM: ${readyAfterTerm}; stream ended ${streamEndAt - termAt} ms and ` +
      `the process exited (${exited.code ?? exited.signal}) ${exited.at - termAt} ms after SIGTERM`;
    if (exited.code !== 0) {
      const lastLines = server.output().trim().split('\n').slice(-6).join('\n');
      throw new Error(`expected exit code 0 after SIGTERM; ${timeline}. Last lines:\n${lastLines}`);
    }
    // It waited for the stream (not a hard stop), and finished well inside the grace period.
    expect(streamEndAt - termAt).toBeGreaterThan(CHUNK_DELAY_MS * 4);
    expect(exited.at - termAt).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
    expect(server.output()).toMatch(/SIGTERM: draining/);
    expect(server.output()).not.toContain(USER_KEY);
    process.stderr.write(`production-start: ${timeline}\n`);
  }, 120_000);
});

describe('production start command', () => {
  it('runs the same commands as the image and the chart', () => {
    const dockerfile = readFileSync(join(ROOT, 'docker', 'Dockerfile'), 'utf8');
    const cmd = /^CMD (\[.*\])$/m.exec(dockerfile)?.[1];
    expect(JSON.parse(cmd ?? 'null')).toEqual(['node', ...START_COMMAND]);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts['migration:run']).toBe(`node ${MIGRATE_COMMAND.join(' ')}`);
  });
});
