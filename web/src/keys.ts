import type { Key, Provider, VerifyResult } from './api';
import { credentialFields, paramsText } from './credentials';
import { byId, h, replace, table, when } from './dom';
import type { Ctx } from './main';
import { confirmAction, say } from './ui';

/** The API keys section: one table per provider, its fallback state, and every key action. */

const fallback = (p: Provider | undefined): string =>
  p?.envFallbackAvailable ? "the operator's key will be used" : 'requests will fail';

const byPriority = (a: Key, b: Key): number =>
  a.priority - b.priority || a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id);

export const providerName = (ctx: Ctx, id: string): string =>
  ctx.s.providers.find((p) => p.id === id)?.name ?? id;

const label = (k: Key): string => `"${k.keyName}" (${k.keyHint})`;

export async function reloadKeys(ctx: Ctx): Promise<void> {
  ctx.s.keys = (await ctx.call<{ data: Key[] }>('GET', '/api/user/api-keys')).body.data;
  renderKeys(ctx);
}

export function renderKeys(ctx: Ctx): void {
  const { keys, providers } = ctx.s;
  const ids = [...new Set([...providers.map((p) => p.id), ...keys.map((k) => k.provider)])];
  const groups = ids
    .map((id) => [id, keys.filter((k) => k.provider === id).sort(byPriority)] as const)
    .filter(([, list]) => list.length > 0)
    .map(([id, list]) => group(ctx, id, list));
  replace(byId('key-groups'), ...(groups.length ? groups : [h('p', {}, 'No keys yet.')]));
  const bare = providers.filter((p) => !keys.some((k) => k.provider === p.id));
  replace(
    byId('no-key-list'),
    ...bare.map((p) => h('li', {}, h('strong', {}, p.name), ` — no key: ${fallback(p)}`)),
  );
}

function group(ctx: Ctx, id: string, keys: Key[]): HTMLElement {
  const provider = ctx.s.providers.find((p) => p.id === id);
  const name = provider?.name ?? id;
  const usable = keys.filter((k) => k.status === 'active').length;
  const head = ['Name', 'Key', 'Status', 'Priority', 'Last used', 'Last verified'];
  if (!ctx.s.readOnly) head.push('Active', 'Actions');
  const rotating = keys.find((k) => k.id === ctx.s.rotating);
  return h(
    'section',
    { class: 'group', 'aria-labelledby': `group-${id}` },
    h('h3', { id: `group-${id}` }, name),
    h(
      'p',
      { class: 'muted' },
      `${usable} of ${keys.length} usable. Without a usable key: ${fallback(provider)}.`,
    ),
    table(
      `${name} keys`,
      head,
      keys.map((k) => row(ctx, k)),
    ),
    rotating && rotateForm(ctx, rotating),
  );
}

function row(ctx: Ctx, k: Key): Node[] {
  const cells: Node[] = [
    document.createTextNode(k.keyName),
    h(
      'span',
      {},
      h('code', {}, k.keyHint),
      k.params && h('span', { class: 'muted' }, ` ${paramsText(k.params)}`),
    ),
    h('span', { class: `badge ${k.status}` }, k.status),
    document.createTextNode(String(k.priority)),
    when(k.lastUsedAt),
    when(k.lastVerifiedAt),
  ];
  if (ctx.s.readOnly) return cells;

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
  priority.addEventListener('change', () => void ctx.run(() => reorder(ctx, k, priority.value)));
  cells[3] = priority;

  const active = h('input', {
    type: 'checkbox',
    id: `active-${k.id}`,
    checked: k.isActive,
    'aria-label': `Active: ${k.keyName}`,
  });
  active.addEventListener('change', () => void ctx.run(() => toggle(ctx, k, active.checked)));

  const button = (verb: string, fn: (el: HTMLButtonElement) => Promise<void>, cls?: string) => {
    const b = h(
      'button',
      { type: 'button', id: `${verb.toLowerCase()}-${k.id}`, class: cls },
      verb,
    );
    b.setAttribute('aria-label', `${verb} ${k.keyName}`);
    b.addEventListener('click', () => void ctx.run(() => fn(b)));
    return b;
  };
  const actions = h(
    'div',
    { class: 'actions' },
    button('Verify', () => verify(ctx, k)),
    button('Rotate', () => {
      ctx.s.rotating = k.id;
      renderKeys(ctx);
      document.querySelector<HTMLElement>('#rotate-form :is(input, textarea)')?.focus();
      return Promise.resolve();
    }),
    button('Delete', (b) => remove(ctx, k, b), 'danger'),
  );
  return [...cells, active, actions];
}

async function toggle(ctx: Ctx, k: Key, isActive: boolean): Promise<void> {
  await ctx.call('PATCH', `/api/user/api-keys/${k.id}`, { isActive });
  await reloadKeys(ctx);
  say(`Key ${label(k)} is now ${isActive ? 'active' : 'inactive: requests skip it'}.`);
}

async function reorder(ctx: Ctx, k: Key, value: string): Promise<void> {
  const priority = Number(value);
  if (value.trim() === '' || !Number.isInteger(priority))
    throw new Error('Priority must be a whole number from -1000 to 1000.');
  await ctx.call('PATCH', `/api/user/api-keys/${k.id}`, { priority });
  await reloadKeys(ctx);
  say(`Priority of ${label(k)} set to ${priority}: lower is tried first.`);
}

async function verify(ctx: Ctx, k: Key): Promise<void> {
  const name = providerName(ctx, k.provider);
  const res = await ctx.call<VerifyResult>('POST', `/api/user/api-keys/${k.id}/verify`);
  await reloadKeys(ctx);
  if (!res.body.valid)
    throw new Error(
      `${name} rejected key ${label(k)} (HTTP ${res.body.upstreamStatus}): check the key, or rotate it.`,
    );
  say(`${name} accepted key ${label(k)}.`);
}

async function remove(ctx: Ctx, k: Key, opener: HTMLElement): Promise<void> {
  const name = providerName(ctx, k.provider);
  const question = `Delete the ${name} key ${label(k)}? Its secret is destroyed and cannot be recovered.`;
  if (!(await confirmAction(question, 'Delete key', opener))) return;
  await ctx.call('DELETE', `/api/user/api-keys/${k.id}`);
  await reloadKeys(ctx);
  byId('keys-h').focus();
  say(`Deleted the ${name} key ${label(k)}.`);
}

function rotateForm(ctx: Ctx, k: Key): HTMLFormElement {
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
    renderKeys(ctx);
    document.getElementById(`rotate-${k.id}`)?.focus();
  };
  cancel.addEventListener('click', close);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void ctx.run(async () => {
      const body = fields.read();
      const res = await ctx.call<Key>('POST', `/api/user/api-keys/${k.id}/rotate`, body);
      fields.clear();
      close();
      await reloadKeys(ctx);
      say(`Rotated ${label(k)}: now ${res.body.keyHint}, version ${res.body.version}.`);
    });
  });
  return form;
}
