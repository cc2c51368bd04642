import {
  type AccessToken,
  type Answer,
  api,
  type ApiError,
  type CreatedToken,
  isAccessToken,
  jwtSubject,
  type Key,
  type Provider,
  session,
} from './api';
import { credentialFields, type CredentialFields } from './credentials';
import { byId, h, replace, table, when } from './dom';
import { type KeyScope, loadKeyUse, providerName, reloadKeys, renderKeys } from './keys';
import { loadAdmin } from './admin';
import { loadOrg, type OrgState } from './org';
import { act, confirmAction, fail, say } from './ui';
import { loadUsage } from './usage';

export interface Session {
  token: string;
  readOnly: boolean;
  providers: Provider[];
  keys: Key[];
  tokens: AccessToken[];
  /** Set when the credential names an organisation. */
  org?: OrgState;
  /** The key whose rotate form is open. */
  rotating?: string;
}

/** What the sections share: the signed-in session and the ways to call the API. */
export interface Ctx {
  s: Session;
  call<T = unknown>(method: string, path: string, body?: unknown): Promise<Answer<T>>;
  run(action: () => Promise<void>): Promise<void>;
}

let ctx: Ctx | undefined;

const expired = (e: ApiError): void => {
  signOut();
  fail(`Your token was not accepted: ${e.message} Sign in again.`);
};
const run = (action: () => Promise<void>): Promise<void> => act(action, expired);

async function signIn(token: string): Promise<void> {
  const get = <T>(path: string) => api<{ data: T[] }>(token, 'GET', path).then((r) => r.body.data);
  const [providers, keys, tokens] = await Promise.all([
    get<Provider>('/api/providers'),
    get<Key>('/api/user/api-keys'),
    get<AccessToken>('/api/user/tokens'),
  ]);
  session.set(token);
  const readOnly = isAccessToken(token);
  const s: Session = { token, readOnly, providers, keys, tokens };
  ctx = { s, call: (method, path, body) => api(token, method, path, body), run };

  byId('sign-in').hidden = true;
  byId('app').hidden = false;
  byId('who').hidden = false;
  byId('who-text').textContent = readOnly
    ? 'Signed in with an access token (read-only)'
    : `Signed in as ${jwtSubject(token) ?? 'JWT user'}`;
  byId('read-only').hidden = !readOnly;
  for (const el of document.querySelectorAll<HTMLElement>('[data-write]')) el.hidden = readOnly;
  fillProviderPickers(providers);
  renderKeys(ctx);
  renderTokens(ctx);
  await loadOrg(ctx);
  await loadUsage(ctx);
  await loadUsage(ctx, 'org');
  await loadKeyUse(ctx);
  await loadAdmin(ctx);
}

function signOut(): void {
  session.clear();
  ctx = undefined;
  byId('app').hidden = true;
  byId('who').hidden = true;
  byId('sign-in').hidden = false;
  byId<HTMLTextAreaElement>('new-token-value').value = '';
  byId('new-token').hidden = true;
  say('Signed out.');
  byId('token').focus();
}

function fillProviderPickers(providers: Provider[]): void {
  const picker = byId<HTMLSelectElement>('add-provider');
  const chosen = picker.value;
  replace(picker, ...providers.map((p) => h('option', { value: p.id }, `${p.name} (${p.id})`)));
  if (chosen) picker.value = chosen;
  picker.onchange = () => renderAddFields(providers);
  renderAddFields(providers);
  replace(
    byId('token-providers'),
    ...providers.map((p) =>
      h('label', { class: 'check' }, h('input', { type: 'checkbox', value: p.id }), ` ${p.name}`),
    ),
  );
}

/** The add form's credential fields, redrawn for the chosen provider's kind. */
let addFields: CredentialFields | undefined;

function renderAddFields(providers: Provider[]): void {
  const id = byId<HTMLSelectElement>('add-provider').value;
  addFields = credentialFields(
    providers.find((p) => p.id === id),
    { prefix: 'add', keyId: 'add-key-value', keyLabel: 'API key', params: true },
  );
  replace(byId('add-credential'), ...addFields.nodes);
}

async function addKey(c: Ctx): Promise<void> {
  const provider = byId<HTMLSelectElement>('add-provider').value;
  const scope = (c.s.org?.admin ? byId<HTMLSelectElement>('add-owner').value : 'user') as KeyScope;
  const keyName = byId<HTMLInputElement>('add-name').value.trim();
  const verify = byId<HTMLInputElement>('add-verify').checked;
  if (!keyName) throw new Error('Enter a key name, e.g. "default".');
  const fields = addFields!;
  const res = await c.call<Key>('POST', `/api/${scope}/api-keys`, {
    provider,
    keyName,
    ...fields.read(),
    verify,
  });
  fields.clear();
  byId<HTMLFormElement>('add-key').reset();
  byId<HTMLSelectElement>('add-provider').value = provider;
  byId<HTMLSelectElement>('add-owner').value = scope;
  await reloadKeys(c, scope);
  const k = res.body;
  const how = res.status === 201 ? 'Saved' : 'Updated (new version)';
  const checked = verify ? ', verified with the provider' : '';
  const whose = scope === 'org' ? 'organisation ' : '';
  say(
    `${how}: ${providerName(c, k.provider)} ${whose}key "${k.keyName}" (${k.keyHint})${checked}.`,
  );
}

async function reloadTokens(c: Ctx): Promise<void> {
  c.s.tokens = (await c.call<{ data: AccessToken[] }>('GET', '/api/user/tokens')).body.data;
  renderTokens(c);
}

function renderTokens(c: Ctx): void {
  const { tokens, readOnly } = c.s;
  const head = ['Name', 'Providers', 'Expires', 'Created', 'Last used'];
  if (!readOnly) head.push('Actions');
  const rows = tokens.map((t) => {
    const cells: Node[] = [
      document.createTextNode(t.name),
      document.createTextNode(t.providers?.join(', ') ?? 'all'),
      when(t.expiresAt),
      when(t.createdAt),
      when(t.lastUsedAt),
    ];
    if (readOnly) return cells;
    const revoke = h('button', { type: 'button', class: 'danger', id: `revoke-${t.id}` }, 'Revoke');
    revoke.setAttribute('aria-label', `Revoke ${t.name}`);
    revoke.addEventListener('click', () => void run(() => revokeToken(c, t, revoke)));
    return [...cells, revoke];
  });
  replace(
    byId('token-list'),
    rows.length ? table('Access tokens', head, rows) : h('p', {}, 'No access tokens yet.'),
  );
}

async function createToken(c: Ctx): Promise<void> {
  const name = byId<HTMLInputElement>('token-name').value.trim();
  const day = byId<HTMLInputElement>('token-expires').value;
  const boxes = byId('token-providers').querySelectorAll<HTMLInputElement>('input:checked');
  const providers = [...boxes].map((b) => b.value);
  if (!name) throw new Error('Enter a name for the token, e.g. "laptop CLI".');
  const body: Record<string, unknown> = { name };
  if (day) body.expiresAt = new Date(`${day}T23:59:59`).toISOString();
  if (providers.length) body.providers = providers;
  const res = await c.call<CreatedToken>('POST', '/api/user/tokens', body);
  byId<HTMLFormElement>('add-token').reset();
  await reloadTokens(c);
  const shown = byId<HTMLTextAreaElement>('new-token-value');
  shown.value = res.body.token;
  byId('new-token').hidden = false;
  shown.focus();
  shown.select();
  say(`Created access token "${res.body.name}". Copy it now: it is not shown again.`);
}

async function revokeToken(c: Ctx, t: AccessToken, opener: HTMLElement): Promise<void> {
  const question = `Revoke the access token "${t.name}"? Clients using it are refused at once.`;
  if (!(await confirmAction(question, 'Revoke token', opener))) return;
  await c.call('DELETE', `/api/user/tokens/${t.id}`);
  await reloadTokens(c);
  byId('tokens-h').focus();
  say(`Revoked the access token "${t.name}".`);
}

function wire(): void {
  const form = (id: string, fn: (c: Ctx) => Promise<void>): void =>
    byId(id).addEventListener('submit', (e) => {
      e.preventDefault();
      if (ctx) void run(() => fn(ctx as Ctx));
    });
  form('add-key', addKey);
  form('add-token', createToken);
  byId('sign-in-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const field = byId<HTMLInputElement>('token');
    const token = field.value.trim();
    if (!token) return fail('Paste a token to sign in.');
    void act(
      async () => {
        await signIn(token);
        field.value = '';
        say('Signed in.');
        byId('keys-h').focus();
      },
      (err) => fail(`That token was not accepted: ${err.message}`),
    );
  });
  byId('sign-out').addEventListener('click', signOut);
  const help = byId('dev-help-toggle');
  help.addEventListener('click', () => {
    const open = help.getAttribute('aria-expanded') !== 'true';
    help.setAttribute('aria-expanded', String(open));
    byId('dev-help').hidden = !open;
  });
  byId('copy-token').addEventListener('click', () => {
    const shown = byId<HTMLTextAreaElement>('new-token-value');
    navigator.clipboard.writeText(shown.value).then(
      () => say('Token copied to the clipboard.'),
      () => {
        shown.select();
        say('Copying is not allowed here: the token is selected, press Ctrl+C.');
      },
    );
  });
  byId('hide-token').addEventListener('click', () => {
    byId<HTMLTextAreaElement>('new-token-value').value = '';
    byId('new-token').hidden = true;
    byId('tokens-h').focus();
  });
}

wire();
const saved = session.get();
if (saved) void act(() => signIn(saved), expired);
