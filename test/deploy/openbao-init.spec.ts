import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { findBaoBinary, vaultRequest } from '../helpers/start-openbao';
import { requireTestServers } from '../helpers/test-env';

/**
 * docker/openbao-init.sh, which configures compose's dev OpenBao, against the test OpenBao:
 * it must be idempotent and leave an AppRole that can use its prefix and nothing else.
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

function runInit() {
  const { vaultAddr, vaultToken } = requireTestServers();
  return spawnSync('sh', [SCRIPT], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      BAO: findBaoBinary(),
      BAO_ADDR: vaultAddr,
      BAO_TOKEN: vaultToken,
      ...names,
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
