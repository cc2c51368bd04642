import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { SETTINGS_PAGE_ROOT } from '../../src/web/settings-page';
import { launchChromium, requireChromium } from './chromium';
import { ApiClient } from './http';
import { mintHs256 } from './mint-jwt';
import type { RunningApp } from './start-app';
import { startStack, type Stack } from './start-stack';
import type { UpstreamDouble } from './upstream-double';

/**
 * What the settings-page browser specs share: the real app and upstream double, Debian's headless
 * Chromium through playwright-core (never a downloaded browser), and the page's common moves.
 */
export const ROOT = resolve(__dirname, '..', '..');
const SECRET = 'settings-page-jwt-secret-0123456789abcdef';

/** A dev-mode JWT; `claims` add an organisation (`org_id`, `org_role`) or `byok_admin`. */
export const jwt = (sub: string, claims: Record<string, unknown> = {}): string =>
  mintHs256(SECRET, { sub, ...claims });

/** A key whose every character but the last four must never appear on the page. */
export const rawKey = (tail: string): string =>
  `csk-SECRET${randomBytes(8).toString('hex')}${tail}`;

export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

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

export interface Harness {
  running: RunningApp;
  double: UpstreamDouble;
  api: ApiClient;
  context: BrowserContext;
  /** A fresh context at another size or colour scheme (closed with the test). */
  resize(viewport: { width: number; height: number }, dark?: boolean): Promise<void>;
  /** Opens `path` (the settings page by default) in this test's context, watching for problems. */
  open(path?: string): Promise<Page>;
  signIn(token: string): Promise<Page>;
}

/** Registers the jest hooks: one stack and browser per file, one browser context per test. */
export function settingsPage(env: Record<string, string> = {}): Harness {
  let stack: Stack | undefined;
  let browser: Browser;
  let problems: string[] = [];
  const newContext = async (viewport = DESKTOP, dark = false) => {
    const context = await browser.newContext({
      viewport,
      locale: 'en-GB',
      timezoneId: 'UTC',
      colorScheme: dark ? 'dark' : 'light',
    });
    // Init scripts run outside the page's CSP: a listener that sees every violation report.
    await context.addInitScript(
      "document.addEventListener('securitypolicyviolation', (e) => console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));",
    );
    return context;
  };
  const t = {
    async resize(viewport: { width: number; height: number }, dark = false) {
      await t.context.close();
      t.context = await newContext(viewport, dark);
    },
    async open(path = '/') {
      const page = await t.context.newPage();
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('console', (m) => {
        if (/Content Security Policy|Refused to|Uncaught/i.test(m.text())) problems.push(m.text());
      });
      await page.goto(`${t.running.url}${path}`);
      return page;
    },
    async signIn(token: string) {
      const page = await t.open();
      await page.getByLabel(/^Token: a JWT/).fill(token);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.locator('#status', { hasText: 'Signed in.' }).waitFor();
      return page;
    },
  } as Harness;

  jest.setTimeout(120_000);

  beforeAll(async () => {
    requireChromium();
    ensureBundle();
    stack = await startStack({
      env: { AUTH_JWT_SECRET: SECRET, GROQ_API_KEY: 'operator-groq-key', ...env },
    });
    t.running = stack.app;
    t.double = stack.double;
    t.api = new ApiClient(stack.app.url);
    const page = await fetch(`${stack.app.url}/`);
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
    t.context = await newContext();
  });

  afterEach(async () => {
    await t.context.close();
    // Script errors and CSP violations: the page must run cleanly under its own CSP.
    expect(problems).toEqual([]);
  });

  return t;
}

// Page scripts are strings: this project's TypeScript has no DOM types (lib ES2023 only).
export const focused = (page: Page) =>
  page.evaluate<string | undefined>('document.activeElement?.id');
export const status = (page: Page, text: string | RegExp) =>
  page.locator('#status', { hasText: text }).waitFor();
export const error = (page: Page, text: string | RegExp) =>
  page.locator('#error', { hasText: text }).waitFor();
export const keyRow = (page: Page, keyName: string, within = '#key-groups') =>
  page.locator(`${within} tr`, { has: page.getByRole('cell', { name: keyName, exact: true }) });

/** How far the page scrolls sideways: 0 when nothing overflows the viewport. */
export const sideways = (page: Page) =>
  page.evaluate<number>(
    'document.documentElement.scrollWidth - document.documentElement.clientWidth',
  );

export async function saveKey(
  api: ApiClient,
  token: string,
  keyName: string,
  apiKey: string,
  provider = 'cerebras',
  scope = 'user',
): Promise<{ id: string }> {
  const res = await api.as(token).post(`/api/${scope}/api-keys`, { provider, keyName, apiKey });
  expect(res.status).toBe(201);
  return res.json as { id: string };
}

/** One chat completion through the proxy; resolves with the usage rows once written. */
export async function chatAndWaitForUsage(
  api: ApiClient,
  token: string,
  model = 'cerebras/llama-3.3-70b',
): Promise<{ requests: number }[]> {
  const client = api.as(token);
  const requests = async (): Promise<{ requests: number }[]> => {
    const res = await client.get('/api/user/usage?groupBy=key');
    expect(res.status).toBe(200);
    return (res.json as { data: { requests: number }[] }).data;
  };
  const count = (rows: { requests: number }[]) => rows.reduce((n, r) => n + r.requests, 0);
  const before = count(await requests());
  const chat = { model, messages: [{ role: 'user', content: 'hi' }] };
  expect((await client.post('/v1/chat/completions', chat)).status).toBe(200);
  // Usage rows are written off the request path, about once a second.
  const deadline = Date.now() + 15_000;
  let rows = await requests();
  while (count(rows) === before && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    rows = await requests();
  }
  return rows;
}

/** The page's clock in the screenshots: every pinned date falls in its last 30 days. */
export const SCREENSHOT_CLOCK = new Date('2026-01-31T12:00:00.000Z');
const PINNED = '2026-01-15T09:30:00.000Z';

/**
 * Real answers with whatever changes from run to run pinned (timestamps, days, ids a person would
 * read, addresses), so the committed screenshots only change with the page. The page's clock is
 * fixed; usage is asked for over the real last 90 days and shown on the pinned day.
 */
export async function pinAnswers(context: BrowserContext): Promise<void> {
  await context.clock.setFixedTime(SCREENSHOT_CLOCK);
  const today = new Date().toISOString().slice(0, 10);
  const before = new Date(Date.now() - 89 * 86_400_000).toISOString().slice(0, 10);
  await context.route(/\/api\/(user|org|admin)\//, async (route) => {
    if (route.request().method() !== 'GET') return route.continue();
    const url = route
      .request()
      .url()
      .replace(/from=[\d-]+/, `from=${before}`)
      .replace(/to=[\d-]+/, `to=${today}`);
    const res = await route.fetch({ url });
    const body = (await res.json()) as { data?: Record<string, unknown>[]; from?: string };
    if (body.from)
      Object.assign(body, { from: '2026-01-02T00:00:00.000Z', to: '2026-02-01T00:00:00.000Z' });
    (body.data ?? []).forEach((row, i) => {
      for (const field of [
        'createdAt',
        'updatedAt',
        'lastUsedAt',
        'lastVerifiedAt',
        'expiresAt',
        'at',
      ])
        if (row[field]) row[field] = PINNED;
      if (typeof row.group === 'string')
        row.group = row.group.replace(/^\d{4}-\d\d-\d\d\//, '2026-01-15/');
      if (row.targetId) row.targetId = `…${String(i).padStart(4, '0')}`;
      if (row.requestId) row.requestId = `req-${i}`;
      if (row.ip) row.ip = '203.0.113.7';
    });
    await route.fulfill({ response: res, json: body });
  });
}
