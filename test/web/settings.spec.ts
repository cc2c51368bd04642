import {
  chatAndWaitForUsage as chat,
  error,
  focused,
  jwt,
  keyRow,
  PHONE,
  rawKey,
  saveKey as save,
  settingsPage,
  sideways,
  status,
} from '../helpers/settings-page';

/** The settings page at `/` for one person's keys and tokens (settings-teams.spec.ts: teams). */
const t = settingsPage();
const saveKey = (sub: string, keyName: string, apiKey: string, provider = 'cerebras') =>
  save(t.api, jwt(sub), keyName, apiKey, provider);
const chatAndWaitForUsage = (sub: string) => chat(t.api, jwt(sub));

interface KeyShape {
  id: string;
  keyName: string;
  keyHint: string;
  isActive: boolean;
  priority: number;
  status: string;
}

async function listKeys(sub: string): Promise<KeyShape[]> {
  return ((await t.api.as(jwt(sub)).get('/api/user/api-keys')).json as { data: KeyShape[] }).data;
}

test('serves the page at / to anyone, with a strict CSP, and leaves the API surfaces alone', async () => {
  const page = await fetch(`${t.running.url}/`);
  expect(page.status).toBe(200);
  expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
  expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  expect(await page.text()).toContain('<title>byok-proxy settings</title>');
  const anon = t.api.as(undefined);
  const keys = await anon.get('/api/user/api-keys');
  expect(keys.status).toBe(401);
  expect(keys.headers['content-type']).toContain('application/problem+json');
  expect((await anon.get('/v1/models')).json).toMatchObject({ error: { code: 'unauthorized' } });
  expect((await anon.get('/docs')).status).toBe(200);
  expect((await anon.get('/healthz')).status).toBe(200);
  expect((await anon.post('/')).status).toBe(404);
});

test('signs in with a dev token kept in sessionStorage only; a bad token shows why', async () => {
  const page = await t.open();
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
  const page = await t.open();
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
  const page = await t.signIn(jwt('alice'));
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
  expect(t.double.requests.some((r) => r.key === key && r.path.endsWith('/models'))).toBe(true);
  expect(await listKeys('alice')).toMatchObject([{ keyName: 'personal', keyHint: '…abcd' }]);
});

test("asks for each kind's credential and parameters, and lists the parameters", async () => {
  const page = await t.signIn(jwt('aws-user'));
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
  const page = await t.signIn(jwt('rita'));
  const key = rawKey('nope');
  t.double.rejectKey(key);
  await page.getByLabel('Key name').fill('wrong');
  await page.getByLabel('API key', { exact: true }).fill(key);
  await page.getByRole('button', { name: 'Save key' }).click();
  // Exactly what the API says, asked again (a rejected key is not saved, so this changes nothing).
  const answer = await t.api.as(jwt('rita')).post('/api/user/api-keys', {
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
  const page = await t.signIn(jwt('bob'));
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

  t.double.rejectKey(key);
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
  const page = await t.signIn(jwt('carol'));
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
  const page = await t.signIn(jwt('dan'));
  await page.getByLabel('Name', { exact: true }).fill('laptop CLI');
  await page
    .getByRole('group', { name: /Providers it may use/ })
    .getByLabel('Cerebras')
    .check();
  await page.getByRole('button', { name: 'Create token' }).click();
  await status(page, 'Created access token "laptop CLI". Copy it now: it is not shown again.');
  const token = await page.getByLabel('Token', { exact: true }).inputValue();
  expect(token).toMatch(/^byok_/);
  expect((await t.api.as(token).get('/api/user/api-keys')).status).toBe(200);
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
  expect((await t.api.as(token).get('/api/user/api-keys')).status).toBe(401);
});

test('is read-only when signed in with a byok_ access token', async () => {
  await saveKey('erin', 'shared', rawKey('e4e4'));
  const created = await t.api.as(jwt('erin')).post('/api/user/tokens', { name: 'ci' });
  const page = await t.signIn((created.json as { token: string }).token);
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

  let page = await t.signIn(jwt('uma'));
  const usage = page.locator('#usage-table');
  await usage.locator('tbody tr').waitFor();
  const cells = await usage.locator('tbody td').allInnerTexts();
  expect(cells.slice(0, 4)).toEqual(['metered (…u5u5)', 'Cerebras', '1', '0']);
  await page.close();

  // A server without the endpoint (an older release) answers 404: no usage section at all.
  await t.context.route('**/api/user/usage?*', (route) =>
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
  page = await t.signIn(jwt('uma'));
  await keyRow(page, 'metered').waitFor();
  expect(await page.locator('#usage').isHidden()).toBe(true);
});

test('charts daily usage per provider, or for one key, over a chosen range', async () => {
  const { id } = await saveKey('cleo', 'charted', rawKey('c7c7'));
  await chatAndWaitForUsage('cleo');
  await chat(t.api, jwt('cleo'), 'cerebras/a-model-without-a-price');
  await chat(t.api, jwt('cleo'), 'groq/llama-3.3-70b-versatile');
  const page = await t.signIn(jwt('cleo'));
  const chart = page.locator('#usage-chart');
  const summary = chart.getByRole('img');
  await chart.locator('canvas').waitFor();
  expect(await summary.getAttribute('aria-label')).toBe(
    'Requests per day over the last 30 days: Cerebras 2, Groq 1 in total.',
  );
  // The same numbers as text beside the chart, and in the legend.
  await chart.getByText('Cerebras 2, Groq 1 in total.').waitFor();
  await chart.locator('.u-legend').getByText('Groq').waitFor();

  const controls = page.locator('#usage-controls');
  await controls.getByLabel('Show').selectOption('cost');
  await chart
    .getByText(/^Estimated cost \(priced part\) per day .* 1 requests had no price/)
    .waitFor();

  await controls.getByLabel('Range').selectOption('7');
  await controls.getByLabel('Keys', { exact: true }).selectOption(id);
  await controls.getByLabel('Show').selectOption('requests');
  await chart
    .getByText('Requests per day over the last 7 days: charted (…c7c7) 2 in total.')
    .waitFor();
  expect(await page.locator('#usage-intro').innerText()).toMatch(
    /^Requests through the proxy from/,
  );
  expect(await page.locator('#usage-table tbody tr').count()).toBe(2);
});

test('a key the provider refused stands out, says why, and can be verified again', async () => {
  const key = rawKey('h3h3');
  const { id } = await saveKey('hal', 'flaky', key);
  t.double.rejectKey(key);
  expect((await t.api.as(jwt('hal')).post(`/api/user/api-keys/${id}/verify`)).status).toBe(200);
  const page = await t.signIn(jwt('hal'));
  const attention = page.getByRole('group', { name: 'Keys that need attention' });
  await attention.getByText('1 key needs attention').waitFor();
  await attention
    .getByText(/^Cerebras key "flaky" \(…h3h3\): refused by the provider when last checked at /)
    .waitFor();
  await page.getByRole('button', { name: 'Verify again flaky' }).click();
  await error(page, /Cerebras rejected key "flaky" \(…h3h3\) \(HTTP 401\)/);
  // Now the page knows the provider's answer, and says it.
  await keyRow(page, 'flaky')
    .getByText(/refused by the provider with HTTP 401/)
    .waitFor();
});

test('a key near its daily token limit says so', async () => {
  const { id } = await saveKey('nell', 'capped', rawKey('c9c9'));
  const set = await t.api
    .as(jwt('nell'))
    .patch(`/api/user/api-keys/${id}`, { limits: { tokensPerDay: 15 } });
  expect(set.status).toBe(200);
  await chatAndWaitForUsage('nell'); // the double answers with 13 tokens: 87% of 15
  const page = await t.signIn(jwt('nell'));
  const attention = page.getByRole('group', { name: 'Keys that need attention' });
  await attention
    .getByText(
      'Cerebras key "capped" (…c9c9): near its daily token limit: 13 of 15 tokens today (UTC).',
    )
    .waitFor();
  await keyRow(page, 'capped')
    .getByText(/^near its daily token limit/)
    .waitFor();
});

describe('finishing touches', () => {
  test('the one-time token box shows the whole token, from its byok_ start', async () => {
    for (const width of [1280, PHONE.width]) {
      await t.resize({ width, height: 900 });
      const page = await t.signIn(jwt(`tess${width}`));
      await page.getByLabel('Name', { exact: true }).fill('laptop CLI');
      await page.getByRole('button', { name: 'Create token' }).click();
      await status(page, /^Created access token "laptop CLI"/);
      const box = page.getByLabel('Token', { exact: true });
      expect(await box.inputValue()).toMatch(/^byok_/);
      // Every character is on screen: the field is as wide as its text, nothing scrolled away.
      const fits = await box.evaluate(
        (el) => el.scrollWidth <= el.clientWidth && el.scrollLeft === 0,
      );
      expect(fits).toBe(true);
    }
  });

  test('nothing scrolls sideways at 360 to 420 px: tables become stacked rows', async () => {
    await saveKey('nina', 'a rather long key name for a phone', rawKey('n1n1'));
    await saveKey('nina', 'backup', rawKey('n2n2'), 'openai');
    await t.api.as(jwt('nina')).post('/api/user/tokens', { name: 'build server token' });
    await chatAndWaitForUsage('nina');
    for (const width of [360, 390, 420]) {
      await t.resize({ width, height: 800 });
      const page = await t.signIn(jwt('nina'));
      await page.locator('#usage-table tbody tr').first().waitFor();
      expect(await sideways(page)).toBe(0);
      // Each cell says what it is, since the header row is not shown.
      const cell = keyRow(page, 'backup').locator('td').nth(2);
      expect(await cell.getAttribute('data-label')).toBe('Status');
    }
  });

  test('the usage chart stays inside its box, also when the window is resized', async () => {
    await saveKey('rex', 'charted', rawKey('r1r1'));
    await chatAndWaitForUsage('rex');
    await t.resize(PHONE);
    const page = await t.signIn(jwt('rex'));
    await page.locator('#usage-chart canvas').waitFor();
    const overflow = () =>
      page.evaluate<number>(`new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => {
        const box = document.querySelector('#usage-chart figure').getBoundingClientRect();
        const chart = document.querySelector('#usage-chart .uplot').getBoundingClientRect();
        done(Math.max(chart.right - box.right, box.left - chart.left));
      })))`);
    expect(await overflow()).toBeLessThanOrEqual(0);
    for (const width of [420, 360, 1280, PHONE.width]) {
      await page.setViewportSize({ width, height: PHONE.height });
      expect(await overflow()).toBeLessThanOrEqual(0);
      expect(await sideways(page)).toBe(0);
    }
  });

  test('the add-key form starts afresh after a save', async () => {
    const page = await t.signIn(jwt('fay'));
    await page.getByLabel('Provider', { exact: true }).selectOption('openai');
    await page.getByLabel('Key name').fill('personal');
    await page.getByLabel('API key', { exact: true }).fill(rawKey('f0f0'));
    await page.getByLabel('Verify with the provider before saving').uncheck();
    await page.getByRole('button', { name: 'Save key' }).click();
    await status(page, 'Saved: OpenAI key "personal" (…f0f0).');
    expect(await page.getByLabel('Key name').inputValue()).toBe('default');
    expect(await page.getByLabel('API key', { exact: true }).inputValue()).toBe('');
    expect(await page.getByLabel('Verify with the provider before saving').isChecked()).toBe(true);
  });

  test('cost shows the priced part and counts the requests without a price', async () => {
    await saveKey('pia', 'mixed', rawKey('p1p1'));
    await chatAndWaitForUsage('pia');
    await chat(t.api, jwt('pia'), 'cerebras/a-model-without-a-price');
    const page = await t.signIn(jwt('pia'));
    const row = page.locator('#usage-table tbody tr', { hasText: 'mixed (…p1p1)' });
    const cost = await row.locator('td').last().innerText();
    expect(cost).toMatch(/^(less than )?(US)?\$0\.\d\d \+ 1 request without a price$/);
  });

  test('honours prefers-color-scheme: dark', async () => {
    const background = async (dark: boolean) => {
      await t.resize({ width: 1280, height: 900 }, dark);
      const page = await t.open();
      return page.evaluate<string>('getComputedStyle(document.body).backgroundColor');
    };
    const light = await background(false);
    const dark = await background(true);
    expect(dark).not.toBe(light);
    // Dark means dark: every channel of the background is low.
    const channels = (dark.match(/\d+/g) ?? []).slice(0, 3).map(Number);
    expect(Math.max(...channels)).toBeLessThan(60);
  });
});
