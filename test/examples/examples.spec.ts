import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { freePort } from '../helpers/free-port';
import { ApiClient } from '../helpers/http';
import { mintHs256 } from '../helpers/mint-jwt';
import type { RunningApp } from '../helpers/start-app';
import { startStack, type Stack } from '../helpers/start-stack';
import type { UpstreamDouble } from '../helpers/upstream-double';

/**
 * Every client example in examples/ run for real against the app and the upstream double: the
 * answer it prints, the key source, and the fallback to CEREBRAS_API_KEY (sent to the double,
 * never to Cerebras) when the proxy is unreachable or has no key for the caller.
 */
const ROOT = resolve(__dirname, '..', '..');
const EXAMPLES = join(ROOT, 'examples');
const SECRET = 'examples-jwt-secret-0123456789abcdefghij';
const ANSWER = 'Hello from the upstream double';

interface Example {
  name: string;
  cmd: string;
  args: string[];
  cwd: string;
  /** Why it cannot run here, if it cannot; the test then fails with this. */
  missing?: () => string | undefined;
}

const has = (cmd: string, args: string[]): boolean =>
  spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;

const examples: Example[] = [
  {
    name: 'curl',
    cmd: 'bash',
    args: [join(EXAMPLES, 'curl.sh')],
    cwd: ROOT,
    missing: () =>
      ['curl', 'jq'].every((t) => has('sh', ['-c', `command -v ${t}`]))
        ? undefined
        : 'examples/curl.sh needs curl and jq: scripts/install-test-deps.sh must `apt-get install -y curl jq`',
  },
  {
    name: 'node (openai SDK)',
    cmd: process.execPath,
    args: [join(EXAMPLES, 'node', 'chat.mjs')],
    cwd: ROOT,
  },
  {
    name: 'python (openai package)',
    cmd: 'python3',
    args: [join(EXAMPLES, 'python', 'chat.py')],
    cwd: ROOT,
    missing: () =>
      has('python3', ['-c', 'import openai'])
        ? undefined
        : 'The Python `openai` package is not importable by python3: scripts/install-test-deps.sh must `python3 -m pip install openai`',
  },
  {
    name: 'go (standard library)',
    cmd: 'go',
    args: ['run', '.'],
    cwd: join(EXAMPLES, 'go'),
    missing: () =>
      has('go', ['version'])
        ? undefined
        : 'No `go` on PATH: scripts/install-test-deps.sh must install Go (Debian: apt-get install -y golang-go)',
  },
];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Variables the examples read, and ones that could send their requests elsewhere. */
const SCRUB =
  /^(BACKEND_URL|BYOK_TOKEN|MODEL|CEREBRAS_.*|OPENAI_.*|(HTTPS?|ALL|NO)_PROXY|(https?|all|no)_proxy)$/;

function run(example: Example, env: Record<string, string>): Promise<Run> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !SCRUB.test(k)));
  // Go must build offline with the toolchain at hand: no module proxy, no toolchain download.
  const childEnv = { ...base, GOTOOLCHAIN: 'local', GOPROXY: 'off', ...env };
  return new Promise((done) => {
    execFile(
      example.cmd,
      example.args,
      { cwd: example.cwd, env: childEnv, timeout: 90_000, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

let stack: Stack | undefined;
let double: UpstreamDouble;
let running: RunningApp;
let api: ApiClient;

beforeAll(async () => {
  stack = await startStack({ env: { AUTH_JWT_SECRET: SECRET } });
  ({ app: running, double } = stack);
  api = new ApiClient(running.url);
});

afterAll(async () => {
  await stack?.close();
});

/** A fresh user with one Cerebras key, and a byok_ token for it. */
async function userWithKey(label: string): Promise<{ key: string; token: string }> {
  const sub = `${label}-${randomBytes(4).toString('hex')}`;
  const owner = api.as(mintHs256(SECRET, { sub }));
  const key = `csk-${sub}-${randomBytes(6).toString('hex')}`;
  const saved = await owner.post('/api/user/api-keys', {
    provider: 'cerebras',
    keyName: 'default',
    apiKey: key,
  });
  expect(saved.status).toBe(201);
  const created = await owner.post('/api/user/tokens', { name: 'example' });
  return { key, token: (created.json as { token: string }).token };
}

const chatCalls = (key: string) =>
  double.requests.filter((r) => r.key === key && r.path === '/v1/chat/completions');

describe.each(examples)('examples: $name', (example) => {
  beforeAll(() => {
    const why = example.missing?.();
    if (why) throw new Error(why);
  });

  test('answers through the proxy with the user key and names the key source', async () => {
    const { key, token } = await userWithKey('user');
    const out = await run(example, { BACKEND_URL: running.url, BYOK_TOKEN: token });
    expect(out).toMatchObject({ code: 0, stderr: '' });
    expect(out.stdout).toBe(`answer: ${ANSWER}\nkey source: user (byok-proxy at ${running.url})\n`);
    // The proxy stripped its provider prefix and sent the stored key, not the token.
    expect(chatCalls(key).map((r) => r.json?.model)).toEqual(['llama-3.3-70b']);
    expect(double.requests.some((r) => r.key === token)).toBe(false);
  });

  test('falls back to CEREBRAS_API_KEY when the proxy says provider_key_missing', async () => {
    const direct = `direct-${randomBytes(6).toString('hex')}`;
    const out = await run(example, {
      BACKEND_URL: running.url,
      BYOK_TOKEN: mintHs256(SECRET, { sub: `nokey-${randomBytes(4).toString('hex')}` }),
      CEREBRAS_API_KEY: direct,
      CEREBRAS_BASE_URL: double.url,
    });
    expect(out.code).toBe(0);
    expect(out.stderr).toBe(
      `byok-proxy has no Cerebras key for this token (provider_key_missing); falling back to CEREBRAS_API_KEY at ${double.url}\n`,
    );
    expect(out.stdout).toBe(
      `answer: ${ANSWER}\nkey source: CEREBRAS_API_KEY (direct to ${double.url}, not through byok-proxy)\n`,
    );
    expect(chatCalls(direct).map((r) => r.json?.model)).toEqual(['llama-3.3-70b']);
  });

  test('falls back to CEREBRAS_API_KEY when the proxy is unreachable', async () => {
    const down = `http://127.0.0.1:${await freePort()}`;
    const direct = `direct-${randomBytes(6).toString('hex')}`;
    const out = await run(example, {
      BACKEND_URL: down,
      BYOK_TOKEN: 'byok_whatever',
      CEREBRAS_API_KEY: direct,
      CEREBRAS_BASE_URL: double.url,
    });
    expect(out.code).toBe(0);
    expect(out.stderr).toMatch(
      new RegExp(
        `^byok-proxy at ${down} is unreachable \\(.+\\); falling back to CEREBRAS_API_KEY at ${double.url}\\n$`,
      ),
    );
    expect(out.stdout).toContain(`answer: ${ANSWER}\nkey source: CEREBRAS_API_KEY (direct to`);
    expect(chatCalls(direct)).toHaveLength(1);
  });

  test('says clearly when the stored key is rejected, and does not fall back', async () => {
    const { key, token } = await userWithKey('rejected');
    double.rejectKey(key);
    const out = await run(example, {
      BACKEND_URL: running.url,
      BYOK_TOKEN: token,
      CEREBRAS_API_KEY: 'must-not-be-used',
      CEREBRAS_BASE_URL: double.url,
    });
    expect(out.code).toBe(1);
    expect(out.stdout).toBe('');
    expect(out.stderr).toMatch(/^error: Cerebras rejected .*…[\w-]{4}.* 401/);
    expect(double.requests.some((r) => r.key === 'must-not-be-used')).toBe(false);
  });

  test('tells the caller to set BYOK_TOKEN when the proxy refuses it', async () => {
    const out = await run(example, { BACKEND_URL: running.url, BYOK_TOKEN: 'not-a-jwt' });
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/^error: byok-proxy did not accept BYOK_TOKEN: .+\nSet BYOK_TOKEN/);
  });
});
