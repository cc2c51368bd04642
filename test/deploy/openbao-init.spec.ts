import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/free-port';
import { findBaoBinary, vaultRequest } from '../helpers/start-openbao';
import { requireTestServers } from '../helpers/test-env';

/**
 * docker/openbao-init.sh, which configures compose's OpenBao, against the test OpenBao: it must
 * be idempotent and leave an AppRole that can use its prefix and nothing else. And compose's
 * server itself (docker/openbao.hcl: raft storage, static unseal key), initialized by the script
 * and restarted: the AppRole must still log in, with no second init (dev mode forgot it).
 */

const SCRIPT = join(__dirname, '..', '..', 'docker', 'openbao-init.sh');
const id = randomBytes(4).toString('hex');
const names = {
  APPROLE_MOUNT: `approle-init-${id}`,
  ROLE_NAME: `byok-init-${id}`,
  PREFIX: `byok-init-${id}`,
  KV_MOUNT: `kv-init-${id}`,
  BYOK_ROLE_ID: `role-${id}`,
  BYOK_SECRET_ID: `secret-${randomBytes(12).toString('hex')}`,
};

function runInit(env: Record<string, string> = {}) {
  const { vaultAddr, vaultToken } = requireTestServers();
  return spawnSync('sh', [SCRIPT], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      BAO: findBaoBinary(),
      BAO_ADDR: vaultAddr,
      BAO_TOKEN: vaultToken,
      ...names,
      ...env,
    },
  });
}

describe('docker/openbao-init.sh', () => {
  it('creates a working AppRole, twice without error, scoped to its prefix', async () => {
    for (let i = 0; i < 2; i++) {
      const r = runInit();
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
      expect(r.stdout).toContain(`AppRole ${names.APPROLE_MOUNT}/role/${names.ROLE_NAME} ready`);
    }

    const login = await vaultRequest<{ auth?: { client_token: string } }>(
      'POST',
      `/v1/auth/${names.APPROLE_MOUNT}/login`,
      { role_id: names.BYOK_ROLE_ID, secret_id: names.BYOK_SECRET_ID },
    );
    expect(login.status).toBe(200);
    const token = login.body.auth!.client_token;

    const kv = `/v1/${names.KV_MOUNT}`;
    const put = (path: string) => vaultRequest('POST', path, { data: { apiKey: 'x' } }, token);
    expect((await put(`${kv}/data/${names.PREFIX}/user/alice/1`)).status).toBe(200);
    expect(
      (await vaultRequest('GET', `${kv}/data/${names.PREFIX}/user/alice/1`, undefined, token))
        .status,
    ).toBe(200);
    expect(
      (
        await vaultRequest(
          'DELETE',
          `${kv}/metadata/${names.PREFIX}/user/alice/1`,
          undefined,
          token,
        )
      ).status,
    ).toBe(204);
    expect((await put(`${kv}/data/elsewhere/1`)).status).toBe(403);
  });
});

describe('compose OpenBao (docker/openbao.hcl)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'compose-openbao-'));
  let server: ChildProcess | undefined;

  const stop = async () => {
    if (!server || server.exitCode !== null) return;
    const exited = new Promise((r) => server!.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  };

  afterAll(async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the AppRole across a restart: persistent storage, unsealed by its static key', async () => {
    const [port, clusterPort] = [await freePort(), await freePort()];
    const addr = `http://127.0.0.1:${port}`;
    // compose's file, with its container paths and addresses moved here.
    const config = readFileSync(join(__dirname, '..', '..', 'docker', 'openbao.hcl'), 'utf8')
      .replace('/openbao/file', join(dir, 'data'))
      .replace('file:///openbao/keys/unseal.key', `file://${join(dir, 'unseal.key')}`)
      .replace('0.0.0.0:8200', `127.0.0.1:${port}`)
      .replace('http://openbao:8200', addr)
      .replace('http://openbao:8201', `http://127.0.0.1:${clusterPort}`);
    expect(config).not.toMatch(/\/openbao\/|openbao:82/);
    writeFileSync(join(dir, 'openbao.hcl'), config);
    writeFileSync(join(dir, 'unseal.key'), randomBytes(32), { mode: 0o600 });
    rmSync(join(dir, 'data'), { recursive: true, force: true });
    spawnSync('mkdir', ['-p', join(dir, 'data')]);
    const start = () => {
      server = spawn(findBaoBinary(), ['server', `-config=${join(dir, 'openbao.hcl')}`], {
        stdio: 'ignore',
      });
    };
    const login = () =>
      fetch(`${addr}/v1/auth/${names.APPROLE_MOUNT}/login`, {
        method: 'POST',
        body: JSON.stringify({ role_id: names.BYOK_ROLE_ID, secret_id: names.BYOK_SECRET_ID }),
      });

    start();
    const tokenFile = join(dir, 'root-token');
    const env = { BAO_ADDR: addr, BAO_TOKEN: '', BAO_TOKEN_FILE: tokenFile };
    const first = runInit(env);
    expect({ status: first.status, stderr: first.stderr }).toEqual({ status: 0, stderr: '' });
    expect(first.stdout).toContain(`initialized ${addr}`);
    expect(readFileSync(tokenFile, 'utf8')).toMatch(/^s\.\w+/);
    // Again, as at every `docker compose up`: no second init, the same AppRole.
    const again = runInit(env);
    expect({ status: again.status, stderr: again.stderr }).toEqual({ status: 0, stderr: '' });
    expect(again.stdout).not.toContain('initialized');
    expect((await login()).status).toBe(200);

    await stop();
    start();
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      status = await login().then(
        (r) => r.status,
        () => 0,
      );
      if (status !== 200) await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toBe(200);
  }, 60_000);
});
