import { ApiError, type Key, type Provider, type UsageReport, type VerifyResult } from './api';
import { credentialFields, paramsText } from './credentials';
import { byId, h, replace, table, when } from './dom';
import type { Ctx } from './main';
import { renderServing } from './org';
import { confirmAction, say } from './ui';

/**
 * The API keys sections: one table per provider, its fallback state, and every key action, for
 * your own keys (`user`) and your organisation's (`org`, changed by its admins only).
 */

export type KeyScope = 'user' | 'org';

/** Where each list lives on the page. */
const PLACES: Record<KeyScope, { groups: string; heading: string; noun: string }> = {
  user: { groups: 'key-groups', heading: 'keys-h', noun: 'key' },
  org: { groups: 'org-key-groups', heading: 'org-h', noun: 'organisation key' },
};

const keysOf = (ctx: Ctx, scope: KeyScope): Key[] =>
  scope === 'user' ? ctx.s.keys : (ctx.s.org?.keys ?? []);

/** Members see the organisation's keys; only its admins (with a JWT) change them. */
const readOnly = (ctx: Ctx, scope: KeyScope): boolean =>
  ctx.s.readOnly || (scope === 'org' && !ctx.s.org?.admin);

const fallback = (p: Provider | undefined, org?: Key[]): string =>
  org?.some((k) => k.provider === p?.id && k.status === 'active')
    ? "the organisation's key will be used"
    : p?.envFallbackAvailable
      ? "the operator's key will be used"
      : 'requests will fail';

const byPriority = (a: Key, b: Key): number =>
  a.priority - b.priority || a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id);

export const providerName = (ctx: Ctx, id: string): string =>
  ctx.s.providers.find((p) => p.id === id)?.name ?? id;

const label = (k: Key): string => `"${k.keyName}" (${k.keyHint})`;

/** The provider's answer to the last verify from this page, per key id (the API keeps none). */
const lastAnswer = new Map<string, number>();

/** Tokens each key used today (UTC), for keys with a daily token limit. */
const usedToday = new Map<string, number>();

/** Reads today's use per key: a key at 80% of its daily token limit or more says so. */
export async function loadKeyUse(ctx: Ctx): Promise<void> {
  const day = new Date().toISOString().slice(0, 10);
  const scopes: KeyScope[] = ctx.s.org?.admin ? ['user', 'org'] : ['user'];
  for (const scope of scopes) {
    const q = `groupBy=key&from=${day}&to=${day}${scope === 'org' ? '&scope=org' : ''}`;
    try {
      const rows = (await ctx.call<UsageReport>('GET', `/api/user/usage?${q}`)).body.data;
      for (const r of rows) usedToday.set(r.group, r.promptTokens + r.completionTokens);
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404)) throw e;
    }
    renderKeys(ctx, scope);
  }
}

/** "Near its daily token limit" when a key has used 80% of it or more today. */
function nearLimit(k: Key): string | undefined {
  const limit = k.limits?.tokensPerDay;
  const used = usedToday.get(k.id) ?? 0;
  if (!limit || used < limit * 0.8) return undefined;
  const words = used >= limit ? 'over its daily token limit' : 'near its daily token limit';
  return `${words}: ${used.toLocaleString()} of ${limit.toLocaleString()} tokens today (UTC)`;
}

/** Why a key needs attention, in words: the provider refused it when last checked. */
function health(k: Key): string {
  const answer = lastAnswer.get(k.id);
  const said = answer ? ` with HTTP ${answer}` : '';
  const at = k.lastVerifiedAt ? ` at ${new Date(k.lastVerifiedAt).toLocaleString()}` : '';
  return `refused by the provider${said} when last checked${at}: verify it again, or rotate it`;
}

export async function reloadKeys(ctx: Ctx, scope: KeyScope = 'user'): Promise<void> {
  const keys = (await ctx.call<{ data: Key[] }>('GET', `/api/${scope}/api-keys`)).body.data;
  if (scope === 'user') ctx.s.keys = keys;
  else if (ctx.s.org) ctx.s.org.keys = keys;
  renderKeys(ctx, scope);
}

export function renderKeys(ctx: Ctx, scope: KeyScope = 'user'): void {
  const { providers } = ctx.s;
  const keys = keysOf(ctx, scope);
  const ids = [...new Set([...providers.map((p) => p.id), ...keys.map((k) => k.provider)])];
  const groups = ids
    .map((id) => [id, keys.filter((k) => k.provider === id).sort(byPriority)] as const)
    .filter(([, list]) => list.length > 0)
    .map(([id, list]) => group(ctx, scope, id, list));
  const refused = keys.filter((k) => k.status === 'invalid' || nearLimit(k));
  const attention = refused.length
    ? h(
        'div',
        { class: 'error attention', role: 'group', 'aria-label': 'Keys that need attention' },
        h(
          'strong',
          {},
          `${refused.length} ${refused.length === 1 ? 'key needs' : 'keys need'} attention`,
        ),
        h(
          'ul',
          {},
          ...refused.map((k) =>
            h(
              'li',
              {},
              `${providerName(ctx, k.provider)} key ${label(k)}: ${k.status === 'invalid' ? health(k) : nearLimit(k)}.`,
            ),
          ),
        ),
      )
    : null;
  replace(
    byId(PLACES[scope].groups),
    attention,
    ...(groups.length ? groups : [h('p', {}, 'No keys yet.')]),
  );
  renderServing(ctx);
  if (scope === 'org') return;
  const bare = providers.filter((p) => !keys.some((k) => k.provider === p.id));
  replace(
    byId('no-key-list'),
    ...bare.map((p) =>
      h('li', {}, h('strong', {}, p.name), ` — no key: ${fallback(p, ctx.s.org?.keys)}`),
    ),
  );
}

function group(ctx: Ctx, scope: KeyScope, id: string, keys: Key[]): HTMLElement {
  const provider = ctx.s.providers.find((p) => p.id === id);
  const name = provider?.name ?? id;
  const usable = keys.filter((k) => k.status === 'active').length;
  const head = ['Name', 'Key', 'Status', 'Priority', 'Last used', 'Last verified'];
  if (!readOnly(ctx, scope)) head.push('Active', 'Actions');
  const rotating = keys.find((k) => k.id === ctx.s.rotating);
  return h(
    'section',
    // Named in full: your Cerebras keys and the organisation's are two different landmarks.
    { class: 'group', 'aria-label': `${name} ${PLACES[scope].noun}s` },
    h('h3', {}, name),
    h(
      'p',
      { class: 'muted' },
      `${usable} of ${keys.length} usable. Without a usable key: ${fallback(provider, scope === 'user' ? ctx.s.org?.keys : undefined)}.`,
    ),
    table(
      `${name} ${PLACES[scope].noun}s`,
      head,
      keys.map((k) => row(ctx, scope, k)),
    ),
    rotating && rotateForm(ctx, scope, rotating),
  );
}

function row(ctx: Ctx, scope: KeyScope, k: Key): Node[] {
  const cells: Node[] = [
    document.createTextNode(k.keyName),
    h(
      'span',
      {},
      h('code', {}, k.keyHint),
      k.params && h('span', { class: 'muted' }, ` ${paramsText(k.params)}`),
    ),
    k.status === 'invalid'
      ? h(
          'span',
          { class: 'health' },
          h('span', { class: 'badge invalid' }, 'invalid'),
          h('span', { class: 'why' }, health(k)),
        )
      : h(
          'span',
          { class: 'health' },
          h('span', { class: `badge ${k.status}` }, k.status),
          nearLimit(k) && h('span', { class: 'why near' }, nearLimit(k)),
        ),
    document.createTextNode(String(k.priority)),
    when(k.lastUsedAt),
    when(k.lastVerifiedAt),
  ];
  if (readOnly(ctx, scope)) return cells;

  const priority = h('input', {
    type: 'number',
    id: `priority-${k.id}`,
    class: 'priority',
    min: -1000,
    max: 1000,
    step: 1,
    value: String(k.priority),
    'aria-label': `Priority of ${k.keyName}`,
  });
  priority.addEventListener(
    'change',
    () => void ctx.run(() => reorder(ctx, scope, k, priority.value)),
  );
  cells[3] = priority;

  const active = h('input', {
    type: 'checkbox',
    id: `active-${k.id}`,
    checked: k.isActive,
    'aria-label': `Active: ${k.keyName}`,
  });
  active.addEventListener(
    'change',
    () => void ctx.run(() => toggle(ctx, scope, k, active.checked)),
  );

  const button = (
    verb: string,
    fn: (el: HTMLButtonElement) => Promise<void>,
    cls?: string,
    text = verb,
  ) => {
    const b = h(
      'button',
      { type: 'button', id: `${verb.toLowerCase()}-${k.id}`, class: cls },
      text,
    );
    b.setAttribute('aria-label', `${text} ${k.keyName}`);
    b.addEventListener('click', () => void ctx.run(() => fn(b)));
    return b;
  };
  const actions = h(
    'div',
    { class: 'actions' },
    button(
      'Verify',
      () => verify(ctx, scope, k),
      k.status === 'invalid' ? 'attention' : undefined,
      k.status === 'invalid' ? 'Verify again' : 'Verify',
    ),
    button('Rotate', () => {
      ctx.s.rotating = k.id;
      renderKeys(ctx, scope);
      document.querySelector<HTMLElement>('#rotate-form :is(input, textarea)')?.focus();
      return Promise.resolve();
    }),
    button('Delete', (b) => remove(ctx, scope, k, b), 'danger'),
  );
  return [...cells, active, actions];
}

async function toggle(ctx: Ctx, scope: KeyScope, k: Key, isActive: boolean): Promise<void> {
  await ctx.call('PATCH', `/api/${scope}/api-keys/${k.id}`, { isActive });
  await reloadKeys(ctx, scope);
  say(`Key ${label(k)} is now ${isActive ? 'active' : 'inactive: requests skip it'}.`);
}

async function reorder(ctx: Ctx, scope: KeyScope, k: Key, value: string): Promise<void> {
  const priority = Number(value);
  if (value.trim() === '' || !Number.isInteger(priority))
    throw new Error('Priority must be a whole number from -1000 to 1000.');
  await ctx.call('PATCH', `/api/${scope}/api-keys/${k.id}`, { priority });
  await reloadKeys(ctx, scope);
  say(`Priority of ${label(k)} set to ${priority}: lower is tried first.`);
}

async function verify(ctx: Ctx, scope: KeyScope, k: Key): Promise<void> {
  const name = providerName(ctx, k.provider);
  const res = await ctx.call<VerifyResult>('POST', `/api/${scope}/api-keys/${k.id}/verify`);
  lastAnswer.set(k.id, res.body.upstreamStatus);
  await reloadKeys(ctx, scope);
  if (!res.body.valid)
    throw new Error(
      `${name} rejected key ${label(k)} (HTTP ${res.body.upstreamStatus}): check the key, or rotate it.`,
    );
  say(`${name} accepted key ${label(k)}.`);
}

async function remove(ctx: Ctx, scope: KeyScope, k: Key, opener: HTMLElement): Promise<void> {
  const name = providerName(ctx, k.provider);
  const question = `Delete the ${name} key ${label(k)}? Its secret is destroyed and cannot be recovered.`;
  if (!(await confirmAction(question, 'Delete key', opener))) return;
  await ctx.call('DELETE', `/api/${scope}/api-keys/${k.id}`);
  await reloadKeys(ctx, scope);
  byId(PLACES[scope].heading).focus();
  say(`Deleted the ${name} key ${label(k)}.`);
}

function rotateForm(ctx: Ctx, scope: KeyScope, k: Key): HTMLFormElement {
  // The new secret only: the key keeps its parameters (change them with PATCH).
  const provider = ctx.s.providers.find((p) => p.id === k.provider);
  const keyLabel = `New API key for ${label(k)}`;
  const fields = credentialFields(provider, {
    prefix: 'rotate',
    keyId: 'rotate-value',
    keyLabel,
    params: false,
  });
  const oneString = !['sigv4', 'gcp-service-account'].includes(provider?.auth ?? '');
  const cancel = h('button', { type: 'button' }, 'Cancel');
  const form = h(
    'form',
    { class: 'card', id: 'rotate-form', 'aria-label': `Rotate ${k.keyName}` },
    !oneString && h('p', {}, `New credential for ${label(k)}`),
    ...fields.nodes,
    h('div', { class: 'buttons' }, h('button', { type: 'submit' }, 'Save new key'), cancel),
  );
  form.noValidate = true;
  const close = (): void => {
    ctx.s.rotating = undefined;
    renderKeys(ctx, scope);
    document.getElementById(`rotate-${k.id}`)?.focus();
  };
  cancel.addEventListener('click', close);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void ctx.run(async () => {
      const body = fields.read();
      const res = await ctx.call<Key>('POST', `/api/${scope}/api-keys/${k.id}/rotate`, body);
      fields.clear();
      close();
      await reloadKeys(ctx, scope);
      say(`Rotated ${label(k)}: now ${res.body.keyHint}, version ${res.body.version}.`);
    });
  });
  return form;
}
