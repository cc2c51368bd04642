import type { Page } from 'playwright-core';
import { axeFindings } from '../helpers/axe';
import {
  chatAndWaitForUsage as chat,
  DESKTOP,
  error,
  jwt,
  PHONE,
  rawKey,
  saveKey,
  settingsPage,
  status,
} from '../helpers/settings-page';

/**
 * axe-core on every view of the settings page, for a member, an org admin and an admin, at desktop
 * and phone widths, light and dark: no violation of any impact (the issue asks for no serious or
 * critical one), and nothing serious or critical left for review.
 */
const t = settingsPage();
const member = jwt('mia', { org_id: 'a11y' });
const orgAdmin = jwt('oscar', { org_id: 'a11y', org_role: 'admin' });
const admin = jwt('root', { byok_admin: true });

beforeAll(async () => {
  await saveKey(t.api, member, 'personal', rawKey('m1m1'));
  const capped = await saveKey(t.api, member, 'capped', rawKey('m2m2'), 'groq');
  await t.api.as(member).patch(`/api/user/api-keys/${capped.id}`, {
    limits: { tokensPerDay: 15 },
  });
  const refused = rawKey('dead');
  const { id } = await saveKey(t.api, member, 'refused', refused, 'openai');
  t.double.rejectKey(refused);
  await t.api.as(member).post(`/api/user/api-keys/${id}/verify`);
  await t.api.as(member).post('/api/user/tokens', { name: 'mia laptop' });
  await saveKey(t.api, orgAdmin, 'team', rawKey('o1o1'), 'cerebras', 'org');
  await saveKey(t.api, orgAdmin, 'team backup', rawKey('o2o2'), 'mistral', 'org');
  await chat(t.api, member);
  await chat(t.api, member, 'groq/llama-3.3-70b-versatile');
  await chat(t.api, orgAdmin);
});

/** Views checked so far, and what axe found on each (the test fails on any, naming them all). */
let found: Record<string, string[]>;
beforeEach(() => {
  found = {};
});

async function check(page: Page, view: string): Promise<void> {
  const findings = await axeFindings(page);
  if (findings.length) found[view] = findings;
}

test('the check sees a violation when there is one', async () => {
  const page = await t.signIn(member);
  await page.evaluate(
    "document.getElementById('keys-h').after(Object.assign(document.createElement('input'), { id: 'unlabelled' }))",
  );
  expect((await axeFindings(page)).join('\n')).toMatch(
    /^violation label \(critical\).*#unlabelled/m,
  );
});

test('Tab reaches every control once, in page order, and nothing traps it', async () => {
  // An org admin who is also an administrator: every section of the page at once.
  const page = await t.signIn(jwt('ida', { org_id: 'a11y', org_role: 'admin', byok_admin: true }));
  await page.locator('#audit-list tbody tr').first().waitFor();
  await page.locator('#org-usage-chart canvas').waitFor();
  await page.locator('#org-token-list').getByText('mia laptop').waitFor();
  const name = `(el) => el.id || el.getAttribute('aria-label') || el.labels?.[0]?.textContent.trim() || el.textContent.trim()`;
  const controls = await page.evaluate<string[]>(
    `[...document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]:not([tabindex="-1"])')]
      .filter((el) => !el.disabled && el.getClientRects().length > 0)
      .map(${name})`,
  );
  expect(controls.length).toBeGreaterThan(45);
  await page.getByRole('link', { name: 'Skip to content' }).focus();
  const reached = ['Skip to content'];
  // A date field takes a Tab per part (day, month, year): count each control once.
  while (reached.length < controls.length) {
    await page.keyboard.press('Tab');
    const now = await page.evaluate<string>(`(${name})(document.activeElement)`);
    if (now !== reached[reached.length - 1]) reached.push(now);
    if (reached.length > controls.length + 5) break;
  }
  expect(reached).toEqual(controls);
});

const MODES = [
  ['desktop light', DESKTOP, false],
  ['desktop dark', DESKTOP, true],
  ['phone light', PHONE, false],
  ['phone dark', PHONE, true],
] as const;

describe.each(MODES)('at %s', (mode, viewport, dark) => {
  beforeEach(() => t.resize(viewport, dark));

  test('sign-in, and a member: keys, key health, tokens, usage, the organisation', async () => {
    const page = await t.open();
    await page.getByRole('button', { name: 'Dev mode: how do I get a token?' }).click();
    await check(page, `${mode}: sign-in`);
    await page.getByLabel(/^Token: a JWT/).fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await error(page, /^That token was not accepted/);
    await check(page, `${mode}: sign-in refused`);

    await page.getByLabel(/^Token: a JWT/).fill(member);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await status(page, 'Signed in.');
    await page.locator('#usage-chart canvas').waitFor();
    await page.getByRole('group', { name: 'Keys that need attention' }).waitFor();
    await page.locator('#org').getByText('You are a member').waitFor();
    await check(page, `${mode}: member`);

    await page.getByRole('button', { name: 'Rotate personal' }).click();
    await page.locator('#rotate-form').waitFor();
    await page.getByLabel('Key name').fill('');
    await page.getByRole('button', { name: 'Save key' }).click();
    await error(page, 'Enter a key name');
    await check(page, `${mode}: rotate form and an error`);

    await page.getByLabel('Name', { exact: true }).fill('a11y check');
    await page.getByRole('button', { name: 'Create token' }).click();
    await status(page, /^Created access token/);
    await check(page, `${mode}: new token`);

    await page.getByRole('button', { name: 'Delete personal' }).click();
    await page.getByRole('dialog').waitFor();
    await check(page, `${mode}: confirm dialog`);
    await page.keyboard.press('Escape');

    const usage = page.locator('#usage');
    await usage.getByLabel('Show').selectOption('cost');
    await usage.getByLabel('Keys', { exact: true }).selectOption({ label: 'capped (…m2m2), Groq' });
    await page.locator('#usage-chart canvas').waitFor();
    await check(page, `${mode}: usage of one key`);
    expect(found).toEqual({});
  });

  test('an org admin: the organisation keys and tokens', async () => {
    const page = await t.signIn(orgAdmin);
    await page.locator('#org-token-list').getByText('mia laptop').waitFor();
    await page.locator('#org-key-groups').getByText('team backup').waitFor();
    await check(page, `${mode}: org admin`);
    expect(found).toEqual({});
  });

  test('an admin: audit log, limits, tokens, keys', async () => {
    const page = await t.signIn(admin);
    await page.locator('#audit-list tbody tr').first().waitFor();
    await page.locator('#admin-key-list').getByText('team backup').waitFor();
    await page.getByLabel('User (sub)', { exact: true }).fill('mia');
    await page.getByRole('button', { name: 'Show limits' }).click();
    await page.getByText('Limits of mia.').waitFor();
    await page.getByLabel('Tokens per day').fill('20');
    await page.getByRole('button', { name: 'Save limits' }).click();
    await status(page, 'Saved the limits of mia.');
    await page.getByLabel('Only user (sub)').fill('mia');
    await page.getByRole('button', { name: 'Show tokens' }).click();
    await page.locator('#admin-token-list').getByText('mia laptop').waitFor();
    await check(page, `${mode}: admin`);
    expect(found).toEqual({});
  });
});
