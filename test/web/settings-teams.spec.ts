import { eventually } from '../helpers/eventually';
import {
  chatAndWaitForUsage as chat,
  error,
  jwt,
  keyRow,
  PHONE,
  rawKey,
  saveKey,
  settingsPage,
  sideways,
  status,
} from '../helpers/settings-page';

/** The settings page for teams: the organisation view for members and admins. */
const t = settingsPage();
const member = (sub: string, org: string) => jwt(sub, { org_id: org });
const orgAdmin = (sub: string, org: string) => jwt(sub, { org_id: org, org_role: 'admin' });

describe('organisation view', () => {
  test('a member sees the organisation keys read-only, and which key serves them', async () => {
    await saveKey(t.api, orgAdmin('oona', 'acme'), 'shared', rawKey('a1a1'), 'cerebras', 'org');
    await saveKey(t.api, member('milo', 'acme'), 'mine', rawKey('m1m1'), 'openai');
    const page = await t.signIn(member('milo', 'acme'));
    const org = page.locator('#org');
    await org.getByRole('heading', { name: 'Organisation', exact: true }).waitFor();
    await org.getByText('You are a member of this organisation').waitFor();
    await keyRow(page, 'shared', '#org-key-groups').getByText('…a1a1').waitFor();
    // Read-only: no controls in the organisation's key list, and no owner choice when adding.
    expect(await page.locator('#org-key-groups').locator('button, input').count()).toBe(0);
    expect(await page.locator('#add-owner').isHidden()).toBe(true);
    expect(await page.locator('#org-tokens').isHidden()).toBe(true);

    const served = page.getByRole('table', { name: 'Which key serves you' });
    const servedBy = (provider: string) =>
      served
        .getByRole('row', { name: new RegExp(`^${provider} `) })
        .getByRole('cell')
        .nth(1);
    expect(await servedBy('Cerebras').innerText()).toBe('the organisation\'s key "shared" (…a1a1)');
    expect(await servedBy('OpenAI').innerText()).toBe('your key "mine" (…m1m1)');
    expect(await servedBy('Groq').innerText()).toBe("the operator's key");
    expect(await servedBy('Anthropic').innerText()).toBe('no key: requests fail');
    await page.getByText("Cerebras — no key: the organisation's key will be used").waitFor();
  });

  test("an org admin charts the organisation's usage; a member is not shown it", async () => {
    const token = orgAdmin('uma', 'usage');
    const { id } = await saveKey(t.api, token, 'shared', rawKey('u5u5'), 'cerebras', 'org');
    const chatOk = { model: 'cerebras/llama-3.3-70b', messages: [{ role: 'user', content: 'hi' }] };
    // Neither has a Cerebras key of their own: the organisation's serves both.
    for (const who of [token, member('ugo', 'usage')])
      expect((await t.api.as(who).post('/v1/chat/completions', chatOk)).status).toBe(200);
    await eventually(async () => {
      const res = await t.api.as(token).get('/api/user/usage?groupBy=key&scope=org');
      expect(res.json).toMatchObject({ data: [{ group: id, requests: 2 }] });
    }, 15_000);

    const page = await t.signIn(token);
    const usage = page.locator('#org-usage');
    await usage.getByRole('heading', { name: 'Organisation usage' }).waitFor();
    const summary = usage.locator('#org-usage-chart').getByRole('img');
    await summary.waitFor();
    expect(await summary.getAttribute('aria-label')).toBe(
      'Requests per day over the last 30 days: Cerebras 2 in total.',
    );
    const row = usage.getByRole('row', { name: /^shared \(…u5u5\) Cerebras 2 0/ });
    await row.waitFor();
    expect(await usage.innerText()).toMatch(/^Requests through the organisation's keys from/m);
    await usage.getByLabel('Keys', { exact: true }).selectOption(id);
    await usage
      .getByText('Requests per day over the last 30 days: shared (…u5u5) 2 in total.')
      .waitFor();
    // Your own usage is a separate chart: none of it went through a key of yours.
    expect(await page.locator('#usage-chart').innerText()).toContain('Nothing to chart');

    const seen = await t.signIn(member('ugo', 'usage'));
    await seen.locator('#org').getByText('You are a member').waitFor();
    expect(await seen.locator('#org-usage').isHidden()).toBe(true);
  });

  test('without an organisation there is no organisation view', async () => {
    const page = await t.signIn(jwt('solo'));
    await page.locator('#key-groups').getByText('No keys yet.').waitFor();
    expect(await page.locator('#org').isHidden()).toBe(true);
    expect(await page.locator('#add-owner').isHidden()).toBe(true);
  });

  test('an org admin adds, toggles, reprioritises, verifies, rotates and deletes org keys', async () => {
    const token = orgAdmin('ada', 'beta');
    const orgKeys = async () =>
      ((await t.api.as(token).get('/api/org/api-keys')).json as { data: object[] }).data;
    const page = await t.signIn(token);
    await page.getByText('You are an admin of this organisation').waitFor();
    await page.getByLabel('Owner').selectOption('org');
    await page.getByLabel('Provider', { exact: true }).selectOption('cerebras');
    await page.getByLabel('Key name').fill('team');
    const key = rawKey('b2b2');
    await page.getByLabel('API key', { exact: true }).fill(key);
    await page.getByRole('button', { name: 'Save key' }).click();
    await status(
      page,
      'Saved: Cerebras organisation key "team" (…b2b2), verified with the provider.',
    );
    const row = keyRow(page, 'team', '#org-key-groups');
    await row.getByText('active', { exact: true }).waitFor();
    // It is the organisation's, not ada's own.
    await page.locator('#key-groups').getByText('No keys yet.').waitFor();
    expect(await orgKeys()).toMatchObject([{ keyName: 'team', keyHint: '…b2b2' }]);

    await page.getByLabel('Active: team').uncheck();
    await status(page, 'Key "team" (…b2b2) is now inactive: requests skip it.');
    await page.getByLabel('Active: team').check();
    await status(page, /is now active/);
    await page.getByLabel('Priority of team').fill('3');
    await page.getByLabel('Priority of team').press('Tab');
    await status(page, 'Priority of "team" (…b2b2) set to 3: lower is tried first.');
    expect(await orgKeys()).toMatchObject([{ priority: 3, isActive: true }]);

    t.double.rejectKey(key);
    await page.getByRole('button', { name: 'Verify team' }).click();
    await error(page, /Cerebras rejected key "team" \(…b2b2\) \(HTTP 401\)/);
    await row.getByText('invalid', { exact: true }).waitFor();

    await page.getByRole('button', { name: 'Rotate team' }).click();
    await page.getByLabel('New API key for "team" (…b2b2)').fill(rawKey('c3c3'));
    await page.getByRole('button', { name: 'Save new key' }).click();
    await status(page, 'Rotated "team" (…b2b2): now …c3c3, version 2.');
    await keyRow(page, 'team', '#org-key-groups').getByText('active', { exact: true }).waitFor();

    await page.getByRole('button', { name: 'Delete team' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete key' }).click();
    await status(page, 'Deleted the Cerebras key "team" (…c3c3).');
    expect(await orgKeys()).toEqual([]);
    expect(await page.content()).not.toContain(key.slice(0, -4));
  });

  test("an org admin lists and revokes the tokens that reach the organisation's keys", async () => {
    const made = await t.api
      .as(member('max', 'gamma'))
      .post('/api/user/tokens', { name: 'max CI' });
    expect(made.status).toBe(201);
    const leaked = (made.json as { token: string }).token;
    const page = await t.signIn(orgAdmin('ola', 'gamma'));
    const list = page.locator('#org-token-list');
    await list.getByRole('row', { name: /max CI max/ }).waitFor();
    await page.getByRole('button', { name: 'Revoke max CI of max' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke token' }).click();
    await status(page, 'Revoked the access token "max CI" of max.');
    await list.getByText('No access tokens reach').waitFor();
    expect((await t.api.as(leaked).get('/api/user/api-keys')).status).toBe(401);
  });

  test('fits a phone: the org admin view scrolls only downwards', async () => {
    const token = orgAdmin('pat', 'delta');
    await saveKey(t.api, token, 'a long organisation key name', rawKey('d4d4'), 'cerebras', 'org');
    await t.api.as(member('pia', 'delta')).post('/api/user/tokens', { name: 'pia laptop' });
    await t.resize(PHONE);
    const page = await t.signIn(token);
    await keyRow(page, 'a long organisation key name', '#org-key-groups').waitFor();
    await page.locator('#org-token-list').getByText('pia laptop').waitFor();
    expect(await sideways(page)).toBe(0);
  });
});

describe('admin view', () => {
  const admin = () => jwt('root', { byok_admin: true });

  test('is there for admins only', async () => {
    const page = await t.signIn(orgAdmin('notroot', 'acme'));
    await page.locator('#org').waitFor();
    expect(await page.locator('#admin').isHidden()).toBe(true);
  });

  test('filters and pages the audit log', async () => {
    const { id } = await saveKey(t.api, jwt('audra'), 'audited', rawKey('a7a7'), 'openai');
    // 22 toggles, newest first 20 a page: two pages.
    for (let i = 0; i < 22; i++)
      await t.api.as(jwt('audra')).patch(`/api/user/api-keys/${id}`, { isActive: i % 2 === 1 });
    const page = await t.signIn(admin());
    const audit = page.locator('#audit-list');
    await audit.getByRole('row').first().waitFor();
    await page.getByLabel('Action').selectOption('key.toggle');
    await page.getByLabel('Actor', { exact: true }).fill('audra');
    await page.getByRole('button', { name: 'Filter' }).click();
    await audit.getByRole('cell', { name: 'OpenAI …a7a7' }).first().waitFor();
    const rows = audit.locator('tbody tr');
    await page.waitForFunction("document.querySelectorAll('#audit-list tbody tr').length === 20");
    expect(await rows.filter({ hasText: 'key.toggle' }).count()).toBe(20);
    await page.getByRole('button', { name: 'Older' }).click();
    await status(page, 'Audit log page 2.');
    expect(await rows.count()).toBe(2);
    expect(await page.getByRole('button', { name: 'Older' }).isHidden()).toBe(true);
    await page.getByRole('button', { name: 'Newer' }).click();
    await status(page, 'Audit log page 1.');
    expect(await rows.count()).toBe(20);
  });

  test("reads and sets a user's limits, with today's use against the daily limit", async () => {
    await saveKey(t.api, jwt('lena'), 'metered', rawKey('l1l1'));
    await chat(t.api, jwt('lena'));
    const page = await t.signIn(admin());
    await page.getByLabel('User (sub)', { exact: true }).fill('lena');
    await page.getByRole('button', { name: 'Show limits' }).click();
    await page.getByText('Limits of lena. Empty means no limit.').waitFor();
    await page.getByLabel('Tokens per day').fill('1000');
    await page.getByLabel('Monthly budget (USD)').fill('5');
    await page.getByRole('button', { name: 'Save limits' }).click();
    await status(page, 'Saved the limits of lena.');
    const limits = await t.api.as(admin()).get('/api/admin/users/lena/limits');
    expect(limits.json).toMatchObject({ tokensPerDay: 1000, monthlyBudgetUsd: 5 });
    // The double answers with a few tokens: a bar against the day's limit says how many.
    const day = page.getByRole('meter', { name: 'tokensPerDay used today (UTC)' });
    expect(Number(await day.getAttribute('value'))).toBeGreaterThan(0);
    await page.getByLabel('Tokens per day').fill('-3');
    await page.getByRole('button', { name: 'Save limits' }).click();
    await error(page, 'Tokens per day must be a number, or empty for no limit.');
  });

  test("lists any user's tokens and revokes one; lists keys across owners", async () => {
    const made = await t.api.as(jwt('tom')).post('/api/user/tokens', { name: 'tom script' });
    const token = (made.json as { token: string }).token;
    await saveKey(t.api, jwt('tom'), 'tom own', rawKey('t0t0'), 'openai');
    await saveKey(
      t.api,
      orgAdmin('ora', 'omega'),
      'omega shared',
      rawKey('o9o9'),
      'cerebras',
      'org',
    );
    const page = await t.signIn(admin());
    await page.getByLabel('Only user (sub)').fill('tom');
    await page.getByRole('button', { name: 'Show tokens' }).click();
    await page.getByRole('button', { name: 'Revoke tom script of tom' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke token' }).click();
    await status(page, 'Revoked the access token "tom script" of tom.');
    expect((await t.api.as(token).get('/api/user/api-keys')).status).toBe(401);
    const keys = page.locator('#admin-key-list');
    // Whose each key is: the organisation's or the user's id.
    await keys
      .getByRole('row', { name: /^organisation omega Cerebras omega shared …o9o9/ })
      .waitFor();
    await keys.getByRole('row', { name: /^user tom OpenAI tom own …t0t0/ }).waitFor();
  });
});
