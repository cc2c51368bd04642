import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { eventually } from '../helpers/eventually';
import {
  chatAndWaitForUsage as chat,
  jwt,
  PHONE,
  pinAnswers,
  rawKey,
  ROOT,
  saveKey,
  settingsPage,
  status,
} from '../helpers/settings-page';

/**
 * The screenshots in docs/, from a stack of their own so that what they show is only this file's
 * data: with the page's clock fixed and timestamps pinned they come out the same, byte for byte,
 * on every run of this file.
 */
const t = settingsPage();
const member = (sub: string, org: string) => jwt(sub, { org_id: org });
const orgAdmin = (sub: string, org: string) => jwt(sub, { org_id: org, org_role: 'admin' });

/**
 * A full-page picture taken at a viewport as tall as the page: a full-page screenshot would
 * resize the window while taking it, and the charts would race their own redraw at the new width.
 */
const wholePage = async (page: Page, path: string) => {
  const height = await page.evaluate<number>('document.documentElement.scrollHeight');
  await page.setViewportSize({ width: page.viewportSize()!.width, height });
  await page.evaluate(
    'new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))',
  );
  await page.screenshot({ path });
};

const shot = async (name: string, take: (path: string) => Promise<unknown>) => {
  mkdirSync(join(ROOT, 'docs'), { recursive: true });
  const path = join(ROOT, 'docs', name);
  await take(path);
  expect(statSync(path).size).toBeGreaterThan(10_000);
};

test('the keys page: docs/settings.png', async () => {
  await saveKey(t.api, jwt('alex'), 'personal', rawKey('9f3a'));
  await saveKey(t.api, jwt('alex'), 'team backup', rawKey('77c1'));
  const rejected = rawKey('dead');
  const { id } = await saveKey(t.api, jwt('alex'), 'default', rejected, 'openai');
  t.double.rejectKey(rejected);
  await t.api.as(jwt('alex')).post(`/api/user/api-keys/${id}/verify`);
  await t.api.as(jwt('alex')).post('/api/user/tokens', { name: 'laptop CLI' });
  expect(await chat(t.api, jwt('alex'))).toHaveLength(1);
  await pinAnswers(t.context);
  const page = await t.signIn(jwt('alex'));
  await page.getByLabel('Priority of team backup').fill('1');
  await page.getByLabel('Priority of team backup').press('Tab');
  await status(page, /set to 1/);
  await page.evaluate('document.activeElement?.blur()');
  await shot('settings.png', (path) => wholePage(page, path));
});

test('the organisation and admin views, at desktop and phone widths, light and dark', async () => {
  const admin = orgAdmin('sam', 'shots');
  await saveKey(t.api, admin, 'team', rawKey('5a5a'), 'cerebras', 'org');
  await saveKey(t.api, admin, 'team backup', rawKey('6b6b'), 'openai', 'org');
  await saveKey(t.api, admin, 'mine', rawKey('7c7c'), 'groq');
  await t.api.as(member('sue', 'shots')).post('/api/user/tokens', { name: 'sue laptop' });
  await chat(t.api, admin, 'groq/llama-3.3-70b-versatile');
  await chat(t.api, admin, 'groq/a-model-without-a-price');
  // sue has no key of her own: the organisation's Cerebras key serves her.
  const hi = { model: 'cerebras/llama-3.3-70b', messages: [{ role: 'user', content: 'hi' }] };
  expect((await t.api.as(member('sue', 'shots')).post('/v1/chat/completions', hi)).status).toBe(
    200,
  );
  await eventually(async () => {
    const res = await t.api.as(admin).get('/api/user/usage?groupBy=key&scope=org');
    expect(res.json).toMatchObject({ data: [{ requests: 1 }] });
  }, 15_000);

  for (const [file, viewport, dark] of [
    ['settings-org.png', { width: 1280, height: 900 }, false],
    ['settings-phone.png', PHONE, false],
    ['settings-dark.png', { width: 1280, height: 900 }, true],
  ] as const) {
    await t.resize(viewport, dark);
    await pinAnswers(t.context);
    const page = await t.signIn(admin);
    await page.locator('#usage-chart canvas').waitFor();
    await page.locator('#org-usage-chart canvas').waitFor();
    await page.locator('#org-token-list').getByText('sue laptop').waitFor();
    await shot(file, (path) => wholePage(page, path));
  }

  await t.resize({ width: 1280, height: 900 });
  await pinAnswers(t.context);
  const page = await t.signIn(jwt('root', { byok_admin: true }));
  await page.getByLabel('User (sub)', { exact: true }).fill('sam');
  await page.getByRole('button', { name: 'Show limits' }).click();
  await page.getByText('Limits of sam.').waitFor();
  await page
    .locator('#admin-key-list')
    .getByRole('row', { name: /^organisation shots OpenAI team backup/ })
    .waitFor();
  await shot('settings-admin.png', (path) => page.locator('#admin').screenshot({ path }));
});
