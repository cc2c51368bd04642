import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { SETTINGS_PAGE_ROOT } from '../../src/web/settings-page';
import { ApiClient } from '../helpers/http';
import { mintHs256 } from '../helpers/mint-jwt';
import type { RunningApp } from '../helpers/start-app';
import { launchChromium, requireChromium } from '../helpers/chromium';
import { startStack, type Stack } from '../helpers/start-stack';
import type { UpstreamDouble } from '../helpers/upstream-double';

/**
 * The settings page at `/`, driven in Debian's headless Chromium through playwright-core against
 * the real app and the upstream double. Never a downloaded browser (test/helpers/chromium.ts).
 */
const ROOT = resolve(__dirname, '..', '..');
const SCREENSHOT = join(ROOT, 'docs', 'settings.png');
const SECRET = 'settings-page-jwt-secret-0123456789abcdef';
const jwt = (sub: string): string => mintHs256(SECRET, { sub });
/** A key whose every character but the last four must never appear on the page. */
const rawKey = (tail: string): string => `csk-SECRET${randomBytes(8).toString('hex')}${tail}`;

jest.setTimeout(120_000);

function newestMtime(dir: string): number {
  return Math.max(
    ...readdirSync(dir, { withFileTypes: true }).map((e) =>
      e.isDirectory() ? newestMtime(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs,
    ),
  );
}

/** Builds the bundle with Vite when it is missing or older than web/. */
function ensureBundle(): void {
  const index = join(SETTINGS_PAGE_ROOT, 'index.html');
  if (existsSync(index) && statSync(index).mtimeMs >= newestMtime(join(ROOT, 'web'))) return;
  const vite = join(ROOT, 'node_modules', '.bin', 'vite');
  const args = ['build', '--config', 'web/vite.config.mts', '--logLevel', 'warn'];
  const run = spawnSync(vite, args, { cwd: ROOT, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`vite build failed:\n${run.stdout}\n${run.stderr}`);
}

let stack: Stack | undefined;
let double: UpstreamDouble;
let running: RunningApp;
let api: ApiClient;
let browser: Browser;
let context: BrowserContext;
let problems: string[];

beforeAll(async () => {
  requireChromium();
  ensureBundle();
  stack = await startStack({
    env: { AUTH_JWT_SECRET: SECRET, GROQ_API_KEY: 'operator-groq-key' },
  });
  ({ app: running, double } = stack);
  api = new ApiClient(running.url);
  const page = await fetch(`${running.url}/`);
  if (page.status !== 200 || !(page.headers.get('content-type') ?? '').includes('text/html'))
    throw new Error(
      `GET / answered ${page.status} ${await page.text()}: AppModule must import WebModule (src/web/web.module.ts)`,
    );
  browser = await launchChromium();
});

afterAll(async () => {
  try {
    await browser?.close();
  } finally {
    await stack?.close();
  }
});

beforeEach(async () => {
  problems = [];
  context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    locale: 'en-GB',
    timezoneId: 'UTC',
  });
});

afterEach(async () => {
  await context.close();
  // Script errors and CSP violations: the page must run cleanly under its own CSP.
  expect(problems).toEqual([]);
});

async function open(): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (/Content Security Policy|Uncaught/i.test(m.text())) problems.push(m.text());
  });
  await page.goto(`${running.url}/`);
  return page;
}

async function signIn(token: string): Promise<Page> {
  const page = await open();
  await page.getByLabel(/^Token: a JWT/).fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#status', { hasText: 'Signed in.' }).waitFor();
  return page;
}

// Page scripts are strings: this project's TypeScript has no DOM types (lib ES2023 only).
const focused = (page: Page) => page.evaluate<string | undefined>('document.activeElement?.id');
const status = (page: Page, text: string | RegExp) =>
  page.locator('#status', { hasText: text }).waitFor();
const error = (page: Page, text: string | RegExp) =>
  page.locator('#error', { hasText: text }).waitFor();
const keyRow = (page: Page, keyName: string) =>
  page.locator('#key-groups tr', { has: page.getByRole('cell', { name: keyName, exact: true }) });

async function saveKey(sub: string, keyName: string, apiKey: string, provider = 'cerebras') {
  const res = await api.as(jwt(sub)).post('/api/user/api-keys', { provider, keyName, apiKey });
  expect(res.status).toBe(201);
  return res.json as { id: string };
}

interface KeyShape {
  id: string;
  keyName: string;
  keyHint: string;
  isActive: boolean;
  priority: number;
  status: string;
}

async function listKeys(sub: string): Promise<KeyShape[]> {
  return ((await api.as(jwt(sub)).get('/api/user/api-keys')).json as { data: KeyShape[] }).data;
}

/** One chat completion through the proxy as `sub`; resolves with the usage rows once written. */
async function chatAndWaitForUsage(sub: string): Promise<{ requests: number }[]> {
  const client = api.as(jwt(sub));
  const chat = { model: 'cerebras/llama-3.3-70b', messages: [{ role: 'user', content: 'hi' }] };
  expect((await client.post('/v1/chat/completions', chat)).status).toBe(200);
  // Usage rows are written off the request path, about once a second.
  const deadline = Date.now() + 15_000;
  let rows: { requests: number }[] = [];
  while (!rows.length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    const res = await client.get('/api/user/usage?groupBy=key');
    expect(res.status).toBe(200);
    rows = (res.json as { data: { requests: number }[] }).data;
  }
  return rows;
}

test('serves the page at / to anyone, with a strict CSP, and leaves the API surfaces alone', async () => {
  const page = await fetch(`${running.url}/`);
  expect(page.status).toBe(200);
  expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
  expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  expect(await page.text()).toContain('<title>byok-proxy settings</title>');
  const anon = api.as(undefined);
  const keys = await anon.get('/api/user/api-keys');
  expect(keys.status).toBe(401);
  expect(keys.headers['content-type']).toContain('application/problem+json');
  expect((await anon.get('/v1/models')).json).toMatchObject({ error: { code: 'unauthorized' } });
  expect((await anon.get('/docs')).status).toBe(200);
  expect((await anon.get('/healthz')).status).toBe(200);
  expect((await anon.post('/')).status).toBe(404);
});

test('signs in with a dev token kept in sessionStorage only; a bad token shows why', async () => {
  const page = await open();
  const help = page.getByRole('button', { name: 'Dev mode: how do I get a token?' });
  await help.click();
  expect(await help.getAttribute('aria-expanded')).toBe('true');
  await page.getByText('npm run -s token -- --sub alice').waitFor();

  await page.getByLabel(/^Token: a JWT/).fill('not-a-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await error(page, /^That token was not accepted: \S+/);
  expect(await page.locator('#app').isHidden()).toBe(true);

  const token = jwt('alice');
  await page.getByLabel(/^Token: a JWT/).fill(token);
  await page.getByLabel(/^Token: a JWT/).press('Enter');
  await status(page, 'Signed in.');
  await page.getByText('Signed in as alice').waitFor();
  const stored = await page.evaluate(
    `({ session: sessionStorage.getItem('byok.token'), local: localStorage.length, cookie: document.cookie })`,
  );
  expect(stored).toEqual({ session: token, local: 0, cookie: '' });

  await page.reload();
  await page.getByText('Signed in as alice').waitFor();
  await page.getByRole('button', { name: 'Sign out' }).click();
  expect(await page.evaluate<number>('sessionStorage.length')).toBe(0);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
});

test('is usable from the keyboard, with a visible focus ring', async () => {
  const page = await open();
  await page.keyboard.press('Tab'); // skip link
  await page.keyboard.press('Tab');
  expect(await focused(page)).toBe('token');
  await page.keyboard.type(jwt('kim'));
  await page.keyboard.press('Tab');
  const ring = await page.evaluate(
    '({ text: document.activeElement.textContent, outline: getComputedStyle(document.activeElement).outlineStyle })',
  );
  expect(ring).toEqual({ text: 'Sign in', outline: 'solid' });
  await page.keyboard.press('Enter');
  await status(page, 'Signed in.');
  expect(await focused(page)).toBe('keys-h');
});

test('adds a key with verification and lists it by its hint, never the key', async () => {
  const page = await signIn(jwt('alice'));
  await page.getByText("Groq — no key: the operator's key will be used").waitFor();
  await page.getByText('Cerebras — no key: requests will fail').waitFor();

  const key = rawKey('abcd');
  await page.getByLabel('Provider', { exact: true }).selectOption('cerebras');
  await page.getByLabel('Key name').fill('personal');
  await page.getByLabel('API key', { exact: true }).fill(key);
  expect(await page.getByLabel('Verify with the provider before saving').isChecked()).toBe(true);
  await page.getByRole('button', { name: 'Save key' }).click();
  await status(page, 'Saved: Cerebras key "personal" (…abcd), verified with the provider.');

  const row = keyRow(page, 'personal');
  expect(await row.locator('td').allInnerTexts()).toEqual(
    expect.arrayContaining(['personal', '…abcd', 'active']),
  );
  await page.getByText('1 of 1 usable. Without a usable key: requests will fail.').waitFor();
  expect(await page.getByLabel('API key', { exact: true }).inputValue()).toBe('');
  expect(await page.content()).not.toContain(key.slice(0, -4));
  expect(double.requests.some((r) => r.key === key && r.path.endsWith('/models'))).toBe(true);
  expect(await listKeys('alice')).toMatchObject([{ keyName: 'personal', keyHint: '…abcd' }]);
});

test("asks for each kind's credential and parameters, and lists the parameters", async () => {
  const page = await signIn(jwt('aws-user'));
  const secret = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYzSETTINGSPAGE';
  await page.getByLabel('Provider', { exact: true }).selectOption('bedrock');
  expect(await page.getByLabel('API key', { exact: true }).count()).toBe(0);
  await page.getByLabel('Key name').fill('aws');
  await page.getByLabel('Access key ID').fill('AKIAIOSFODNN7PAGEWXYZ');
  await page.getByLabel('Secret access key').fill(secret);
  await page.getByLabel('Verify with the provider before saving').uncheck();
  await page.getByRole('button', { name: 'Save key' }).click();
  await error(page, 'Enter the AWS region.');
  await page.getByLabel('AWS region').fill('eu-central-1');
  await page.getByRole('button', { name: 'Save key' }).click();
  await status(page, 'Saved: AWS Bedrock key "aws" (AKIA…WXYZ).');
  const row = keyRow(page, 'aws');
  expect(await row.locator('td').nth(1).innerText()).toBe('AKIA…WXYZ eu-central-1');
  expect(await page.getByLabel('Secret access key').inputValue()).toBe('');
  expect(await page.content()).not.toContain(secret);
  expect(await listKeys('aws-user')).toMatchObject([
    { keyHint: 'AKIA…WXYZ', params: { region: 'eu-central-1' } },
  ]);

  await page.getByLabel('Provider', { exact: true }).selectOption('vertex');
  await page.getByLabel('Service-account key file (paste the JSON)').waitFor();
  await page.getByLabel('Provider', { exact: true }).selectOption('openai-compatible');
  await page.getByLabel('Server base URL (without /v1)').waitFor();
});

test('shows the provider rejection in words and saves nothing', async () => {
  const page = await signIn(jwt('rita'));
  const key = rawKey('nope');
  double.rejectKey(key);
  await page.getByLabel('Key name').fill('wrong');
  await page.getByLabel('API key', { exact: true }).fill(key);
  await page.getByRole('button', { name: 'Save key' }).click();
  // Exactly what the API says, asked again (a rejected key is not saved, so this changes nothing).
  const answer = await api.as(jwt('rita')).post('/api/user/api-keys', {
    provider: 'cerebras',
    keyName: 'wrong',
    apiKey: key,
    verify: true,
  });
  expect(answer.status).toBe(422);
  const detail = (answer.json as { detail: string }).detail;
  expect(detail).toMatch(/Cerebras rejected the key …nope/);
  await error(page, detail);
  expect(await page.locator('#key-groups').innerText()).toBe('No keys yet.');
  expect(await listKeys('rita')).toEqual([]);
});

test('toggles, reorders, verifies and rotates a key', async () => {
  const key = rawKey('b0b1');
  const { id } = await saveKey('bob', 'work', key);
  const page = await signIn(jwt('bob'));
  const row = keyRow(page, 'work');

  await page.getByLabel('Active: work').uncheck();
  await status(page, 'Key "work" (…b0b1) is now inactive: requests skip it.');
  await row.getByText('inactive', { exact: true }).waitFor();
  expect((await listKeys('bob'))[0]).toMatchObject({ isActive: false, status: 'inactive' });
  expect(await focused(page)).toBe(`active-${id}`);
  await page.getByLabel('Active: work').check();
  await status(page, 'Key "work" (…b0b1) is now active.');

  await page.getByLabel('Priority of work').fill('5');
  await page.getByLabel('Priority of work').press('Tab');
  await status(page, 'Priority of "work" (…b0b1) set to 5: lower is tried first.');
  expect((await listKeys('bob'))[0].priority).toBe(5);

  await page.getByRole('button', { name: 'Verify work' }).click();
  await status(page, 'Cerebras accepted key "work" (…b0b1).');
  expect(await row.locator('td').nth(5).innerText()).not.toBe('never');

  double.rejectKey(key);
  await page.getByRole('button', { name: 'Verify work' }).click();
  await error(
    page,
    /Cerebras rejected key "work" \(…b0b1\) \(HTTP 401\): check the key, or rotate it/,
  );
  await row.getByText('invalid', { exact: true }).waitFor();

  const next = rawKey('n3w2');
  await page.getByRole('button', { name: 'Rotate work' }).click();
  expect(await focused(page)).toBe('rotate-value');
  await page.getByLabel('New API key for "work" (…b0b1)').fill(next);
  await page.getByRole('button', { name: 'Save new key' }).click();
  await status(page, 'Rotated "work" (…b0b1): now …n3w2, version 2.');
  await keyRow(page, 'work').getByText('…n3w2').waitFor();
  await keyRow(page, 'work').getByText('active', { exact: true }).waitFor();
  expect((await listKeys('bob'))[0]).toMatchObject({ id, keyHint: '…n3w2', status: 'active' });
  const html = await page.content();
  expect(html).not.toContain(key.slice(0, -4));
  expect(html).not.toContain(next.slice(0, -4));
});

test('deletes a key only after confirmation', async () => {
  await saveKey('carol', 'old', rawKey('c0c0'), 'openai');
  const page = await signIn(jwt('carol'));
  const dialog = page.getByRole('dialog');

  await page.getByRole('button', { name: 'Delete old' }).click();
  await dialog.getByText('Delete the OpenAI key "old" (…c0c0)?').waitFor();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('button', { name: 'Delete old' }).click();
  await page.keyboard.press('Escape');
  expect(await dialog.isVisible()).toBe(false);
  expect(await listKeys('carol')).toHaveLength(1);

  await page.getByRole('button', { name: 'Delete old' }).click();
  await dialog.getByRole('button', { name: 'Delete key' }).click();
  await status(page, 'Deleted the OpenAI key "old" (…c0c0).');
  await page.getByText('OpenAI — no key: requests will fail', { exact: true }).waitFor();
  expect(await listKeys('carol')).toEqual([]);
});

test('creates an access token shown once, and revokes it', async () => {
  const page = await signIn(jwt('dan'));
  await page.getByLabel('Name', { exact: true }).fill('laptop CLI');
  await page
    .getByRole('group', { name: /Providers it may use/ })
    .getByLabel('Cerebras')
    .check();
  await page.getByRole('button', { name: 'Create token' }).click();
  await status(page, 'Created access token "laptop CLI". Copy it now: it is not shown again.');
  const token = await page.getByLabel('Token', { exact: true }).inputValue();
  expect(token).toMatch(/^byok_/);
  expect((await api.as(token).get('/api/user/api-keys')).status).toBe(200);
  const row = page.locator('#token-list tr', { hasText: 'laptop CLI' });
  expect(await row.locator('td').nth(1).innerText()).toBe('cerebras');

  await page.getByRole('button', { name: 'Done' }).click();
  expect(await page.content()).not.toContain(token);
  await page.reload();
  await page.getByText('Signed in as dan').waitFor();
  expect(await page.content()).not.toContain(token);

  await page.getByRole('button', { name: 'Revoke laptop CLI' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Revoke token' }).click();
  await status(page, 'Revoked the access token "laptop CLI".');
  await page.getByText('No access tokens yet.').waitFor();
  expect((await api.as(token).get('/api/user/api-keys')).status).toBe(401);
});

test('is read-only when signed in with a byok_ access token', async () => {
  await saveKey('erin', 'shared', rawKey('e4e4'));
  const created = await api.as(jwt('erin')).post('/api/user/tokens', { name: 'ci' });
  const page = await signIn((created.json as { token: string }).token);
  await page.getByText('Signed in with an access token (read-only)').waitFor();
  await page.getByText('this page is read-only').waitFor();
  await keyRow(page, 'shared').getByText('…e4e4').waitFor();
  await page.locator('#token-list', { hasText: 'ci' }).waitFor();
  expect(await page.locator('#add-key').isHidden()).toBe(true);
  expect(await page.locator('#add-token').isHidden()).toBe(true);
  const writeControls = page.locator('#app').locator('button:visible, input:visible');
  expect(await writeControls.count()).toBe(0);
});

test('shows usage per key from /api/user/usage, and hides the section on 404', async () => {
  await saveKey('uma', 'metered', rawKey('u5u5'));
  const rows = await chatAndWaitForUsage('uma');
  expect(rows).toMatchObject([{ requests: 1 }]);

  let page = await signIn(jwt('uma'));
  const usage = page.locator('#usage');
  await usage.locator('tbody tr').waitFor();
  const cells = await usage.locator('tbody td').allInnerTexts();
  expect(cells.slice(0, 4)).toEqual(['metered (…u5u5)', 'Cerebras', '1', '0']);
  await page.close();

  // A server without the endpoint (an older release) answers 404: no usage section at all.
  await context.route('**/api/user/usage?*', (route) =>
    route.fulfill({
      status: 404,
      contentType: 'application/problem+json',
      body: JSON.stringify({
        status: 404,
        code: 'not_found',
        detail: 'Cannot GET /api/user/usage',
      }),
    }),
  );
  page = await signIn(jwt('uma'));
  await keyRow(page, 'metered').waitFor();
  expect(await page.locator('#usage').isHidden()).toBe(true);
});

test('writes a screenshot of the keys page to docs/settings.png', async () => {
  await saveKey('alex', 'personal', rawKey('9f3a'));
  await saveKey('alex', 'team backup', rawKey('77c1'));
  const rejected = rawKey('dead');
  const { id } = await saveKey('alex', 'default', rejected, 'openai');
  double.rejectKey(rejected);
  await api.as(jwt('alex')).post(`/api/user/api-keys/${id}/verify`);
  await api.as(jwt('alex')).post('/api/user/tokens', { name: 'laptop CLI' });
  expect(await chatAndWaitForUsage('alex')).toHaveLength(1);
  // Real answers with their timestamps pinned, so the committed image only changes with the page.
  await context.route(/\/api\/user\/(api-keys|tokens|usage)(\?.*)?$/, async (route) => {
    if (route.request().method() !== 'GET') return route.continue();
    const res = await route.fetch();
    const body = (await res.json()) as { data: Record<string, unknown>[]; from?: string };
    if (body.from)
      Object.assign(body, { from: '2026-01-01T00:00:00.000Z', to: '2026-01-31T00:00:00.000Z' });
    for (const row of body.data)
      for (const field of ['createdAt', 'updatedAt', 'lastUsedAt', 'lastVerifiedAt'])
        if (row[field]) row[field] = '2026-01-15T09:30:00.000Z';
    await route.fulfill({ response: res, json: body });
  });
  const page = await signIn(jwt('alex'));
  await page.getByLabel('Priority of team backup').fill('1');
  await page.getByLabel('Priority of team backup').press('Tab');
  await status(page, /set to 1/);
  await page.evaluate('document.activeElement?.blur()');
  mkdirSync(join(ROOT, 'docs'), { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
});
