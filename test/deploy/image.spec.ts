import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { freePort } from '../helpers/free-port';
import { httpStatus } from '../helpers/http-status';
import { providersAt } from '../helpers/http';
import { mintHs256 } from '../helpers/mint-jwt';
import { startUpstreamDouble, type UpstreamDouble } from '../helpers/upstream-double';

/**
 * The image itself, built with podman from docker/Dockerfile unchanged (scripts/image/build.sh;
 * `npm test` builds it in its `image` step before jest, on the local stand-in base of
 * scripts/image/build-base.sh): run read-only, as its own non-root user, with every capability
 * dropped, on embedded defaults (embedded database and local store in the /data tmpfs). It
 * serves /readyz, proxies a request to a double on the host with the user's key, and drains and
 * exits 0 on SIGTERM (tini forwards it to node).
 *
 * The container shares the host's network namespace, so every byte stays on loopback.
 */

const ROOT = join(__dirname, '..', '..');
const IMAGE = process.env.BYOK_TEST_IMAGE ?? 'localhost/byok-proxy:test';
const PODMAN = join(ROOT, 'scripts', 'image', 'podman.sh');
const USER_KEY = `csk-image-${randomBytes(6).toString('hex')}`;
const NAME = `byok-image-test-${randomBytes(4).toString('hex')}`;

function podman(args: string[]): string {
  const r = spawnSync(PODMAN, args, { encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(`podman ${args.join(' ')} exited ${r.status}:\n${r.stderr}${r.stdout}`);
  return r.stdout.trim();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ImageConfig {
  User: string;
  Entrypoint: string[];
  Cmd: string[];
}

describe('the image (podman, docker/Dockerfile)', () => {
  let double: UpstreamDouble;
  let base: string;
  const jwtSecret = randomBytes(32).toString('hex');

  beforeAll(async () => {
    const exists = spawnSync(PODMAN, ['image', 'exists', IMAGE]);
    if (exists.status !== 0)
      throw new Error(`${IMAGE} is not built: run scripts/image/build.sh (npm test does)`);
    double = await startUpstreamDouble();
  });

  afterAll(async () => {
    spawnSync(PODMAN, ['rm', '--force', '--time', '0', NAME]);
    await double?.close();
  });

  it('is Node.js 24 as the non-root user 1000, under tini, with a HEALTHCHECK', () => {
    const [inspected] = JSON.parse(podman(['image', 'inspect', IMAGE])) as {
      Config: ImageConfig;
      Healthcheck?: { Test: string[] };
      Size: number;
    }[];
    const { Config: config, Size: size } = inspected;
    expect(config.User).toBe('1000:1000');
    expect(config.Entrypoint).toEqual(['/usr/bin/tini', '--']);
    expect(config.Cmd).toEqual(['node', 'dist/main.js']);
    // Kept because the image is built in the docker format (the OCI format drops HEALTHCHECK).
    expect(inspected.Healthcheck?.Test.join(' ')).toContain('/healthz');
    const version = podman(['run', '--rm', '--network', 'none', IMAGE, 'node', '--version']);
    expect(version).toMatch(/^v24\./);
    process.stderr.write(`image: ${IMAGE} is ${(size / 1e6).toFixed(0)} MB (${version})\n`);
  });

  it('runs read-only without capabilities, proxies with the user key, drains on SIGTERM', async () => {
    const port = await freePort();
    const metricsPort = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env = {
      HOST: '127.0.0.1',
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      SHUTDOWN_TIMEOUT_MS: '10000',
      AUTH_JWT_SECRET: jwtSecret,
      LOCAL_MASTER_KEY: randomBytes(32).toString('base64'),
      ...providersAt(double.url),
    };
    const started = Date.now();
    podman([
      ...['run', '--detach', '--name', NAME, '--network', 'host'],
      ...['--read-only', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges'],
      ...['--tmpfs', '/tmp', '--tmpfs', '/data:rw,U'],
      ...Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
      IMAGE,
    ]);
    let ready: number | string = 'not tried';
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      ready = await httpStatus(`${base}/readyz`);
      if (ready === 200) break;
      if (podman(['inspect', '--format', '{{.State.Running}}', NAME]) !== 'true') break;
      await sleep(100);
    }
    if (ready !== 200) throw new Error(`/readyz never 200 (${ready}):\n${podman(['logs', NAME])}`);
    const startMs = Date.now() - started;

    // The process is the image's user, with nothing effective, on a read-only root.
    const top = podman(['top', NAME, 'user', 'capeff', 'args']);
    expect(top).toMatch(/^node\s+none\s+node dist\/main\.js$/m);
    expect(top).not.toMatch(/^root/m);
    const write = spawnSync(PODMAN, ['exec', NAME, 'touch', '/app/x'], { encoding: 'utf8' });
    expect(write.stderr).toContain('Read-only file system');

    const headers = {
      authorization: `Bearer ${mintHs256(jwtSecret, { sub: 'image-user' })}`,
      'content-type': 'application/json',
    };
    const saved = await fetch(`${base}/api/user/api-keys`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ provider: 'cerebras', keyName: 'image', apiKey: USER_KEY }),
    });
    expect(saved.status).toBe(201);
    double.options.reply = 'hello from the double';
    const res = await fetch(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        model: 'cerebras/double-small',
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    const body = (await res.json()) as { choices: { message: { content: string } }[] };
    expect(res.status).toBe(200);
    expect(body.choices[0].message.content).toBe('hello from the double');
    const upstream = double.requests.find((r) => r.path.endsWith('/chat/completions'));
    expect(upstream?.key).toBe(USER_KEY);

    // `podman stop` sends the image's STOPSIGNAL (SIGTERM) to tini, which passes it to node.
    podman(['stop', '--time', '30', NAME]);
    expect(podman(['inspect', '--format', '{{.State.ExitCode}}', NAME])).toBe('0');
    const logs = podman(['logs', NAME]);
    expect(logs).toMatch(/SIGTERM: draining/);
    expect(logs).not.toContain(USER_KEY);
    process.stderr.write(`image: /readyz 200 ${startMs} ms after podman run\n`);
  }, 180_000);
});
