import { type AdminKey, type AdminToken, ApiError, type UsageReport } from './api';
import { byId, h, replace, table, when } from './dom';
import { providerName } from './keys';
import type { Ctx } from './main';
import { confirmAction, say } from './ui';

/**
 * The admin view, for callers the server treats as administrators: the audit log, a user's
 * limits (with what is used of them), any user's access tokens, and keys across owners.
 */

interface AuditEvent {
  id: string;
  at: string;
  action: string;
  actorSub: string | null;
  targetType: string | null;
  targetId: string | null;
  keyHint: string | null;
  provider: string | null;
  ip: string | null;
  requestId: string | null;
}

interface Limits {
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
  tokensPerDay: number | null;
  monthlyBudgetUsd: number | null;
}

interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

/** Cursors of the audit pages shown so far (the last: the page on screen), and the next one. */
let auditPages: (string | undefined)[] = [undefined];
let olderCursor: string | undefined;
let wired = false;

const value = (id: string): string => byId<HTMLInputElement>(id).value.trim();

export async function loadAdmin(ctx: Ctx): Promise<void> {
  const section = byId('admin');
  section.hidden = true;
  if (ctx.s.readOnly) return;
  try {
    await ctx.call('GET', '/api/admin/audit?limit=1');
  } catch (e) {
    if (e instanceof ApiError && e.status === 403) return;
    throw e;
  }
  section.hidden = false;
  if (!wired) wire(ctx);
  auditPages = [undefined];
  await Promise.all([loadAudit(ctx), loadAdminTokens(ctx), loadAdminKeys(ctx)]);
}

function wire(ctx: Ctx): void {
  wired = true;
  const submit = (id: string, fn: () => Promise<void>): void =>
    byId(id).addEventListener('submit', (e) => {
      e.preventDefault();
      void ctx.run(fn);
    });
  submit('audit-filters', () => {
    auditPages = [undefined];
    return loadAudit(ctx);
  });
  submit('limits-find', () => loadLimits(ctx));
  submit('limits-form', () => saveLimits(ctx));
  submit('admin-tokens-find', () => loadAdminTokens(ctx));
  byId('audit-older').addEventListener('click', () => {
    if (olderCursor) auditPages.push(olderCursor);
    void ctx.run(() => loadAudit(ctx, 'older'));
  });
  byId('audit-newer').addEventListener('click', () => {
    void ctx.run(() => loadAudit(ctx, 'newer'));
  });
}

async function loadAudit(ctx: Ctx, move?: 'older' | 'newer'): Promise<void> {
  const q = new URLSearchParams({ limit: '20' });
  const filters: [string, string][] = [
    ['action', 'audit-action'],
    ['actorSub', 'audit-actor'],
    ['targetId', 'audit-target'],
    ['from', 'audit-from'],
    ['to', 'audit-to'],
  ];
  for (const [name, id] of filters) if (value(id)) q.set(name, value(id));
  if (move === 'newer' && auditPages.length > 1) auditPages.pop();
  const cursor = auditPages[auditPages.length - 1];
  if (cursor) q.set('cursor', cursor);
  const page = (await ctx.call<Page<AuditEvent>>('GET', `/api/admin/audit?${q}`)).body;
  const head = ['When', 'Action', 'Actor', 'Target', 'Key', 'IP', 'Request id'];
  const text = (s: string | null): Node => document.createTextNode(s ?? '—');
  const rows = page.data.map((e) => [
    when(e.at),
    h('code', {}, e.action),
    text(e.actorSub),
    text(e.targetId ? `${e.targetType ?? ''} ${e.targetId}`.trim() : null),
    text(e.keyHint && `${e.provider ? providerName(ctx, e.provider) : ''} ${e.keyHint}`.trim()),
    text(e.ip),
    text(e.requestId),
  ]);
  replace(
    byId('audit-list'),
    rows.length ? table('Audit log', head, rows) : h('p', {}, 'No audit events match.'),
  );
  olderCursor = page.nextCursor ?? undefined;
  byId('audit-older').hidden = !olderCursor;
  byId('audit-newer').hidden = auditPages.length < 2;
  if (move) say(`Audit log page ${auditPages.length}.`);
}

const LIMIT_FIELDS: [keyof Limits, string][] = [
  ['requestsPerMinute', 'Requests per minute'],
  ['tokensPerMinute', 'Tokens per minute'],
  ['tokensPerDay', 'Tokens per day'],
  ['monthlyBudgetUsd', 'Monthly budget (USD)'],
];

async function loadLimits(ctx: Ctx): Promise<void> {
  const sub = value('limits-sub');
  if (!sub) throw new Error('Enter the user (the JWT sub) whose limits to show.');
  const path = `/api/admin/users/${encodeURIComponent(sub)}/limits`;
  const limits = (await ctx.call<Limits>('GET', path)).body;
  const used = await usedOf(ctx, sub);
  const fields = LIMIT_FIELDS.flatMap(([name, label]) => {
    const id = `limit-${name}`;
    const limit = limits[name];
    const input = h('input', {
      id,
      type: 'number',
      min: name === 'monthlyBudgetUsd' ? 0 : 1,
      step: name === 'monthlyBudgetUsd' ? 'any' : 1,
      value: limit === null ? '' : String(limit),
      placeholder: 'no limit',
    });
    return [h('label', { for: id }, label), input, meter(name, limit, used)];
  });
  replace(byId('limits-fields'), h('p', {}, `Limits of ${sub}. Empty means no limit.`), ...fields);
  byId('limits-form').hidden = false;
  byId('limits-form').dataset.sub = sub;
}

/** What the user has used in the windows the usage API can see: today, and this month. */
async function usedOf(ctx: Ctx, sub: string): Promise<{ tokensToday: number; costMonth: number }> {
  const now = new Date();
  const today = now.toISOString().slice(0, 10);
  const month = `${today.slice(0, 8)}01`;
  const who = `ownerType=user&ownerId=${encodeURIComponent(sub)}&groupBy=provider`;
  const get = async (from: string) =>
    (await ctx.call<UsageReport>('GET', `/api/user/usage?${who}&from=${from}&to=${today}`)).body
      .data;
  const [day, monthRows] = await Promise.all([get(today), get(month)]);
  return {
    tokensToday: day.reduce((n, r) => n + r.promptTokens + r.completionTokens, 0),
    costMonth: monthRows.reduce((n, r) => n + r.pricedCost, 0),
  };
}

/** A bar of the current window's use against the limit, where the usage API can tell it. */
function meter(
  name: keyof Limits,
  limit: number | null,
  used: { tokensToday: number; costMonth: number },
): Node {
  const now =
    name === 'tokensPerDay'
      ? used.tokensToday
      : name === 'monthlyBudgetUsd'
        ? used.costMonth
        : null;
  if (now === null) return h('span', { class: 'muted' }, 'per-minute use is not recorded');
  const shown =
    name === 'monthlyBudgetUsd'
      ? now.toLocaleString(undefined, { style: 'currency', currency: 'USD' })
      : now.toLocaleString();
  const window = name === 'tokensPerDay' ? 'today (UTC)' : 'this month';
  if (limit === null) return h('span', { class: 'muted' }, `${shown} ${window}`);
  const bar = h('meter', { min: 0, max: limit, value: Math.min(now, limit), high: limit * 0.8 });
  bar.setAttribute('aria-label', `${name} used ${window}`);
  const pct = Math.round((now / limit) * 100);
  return h('span', { class: 'use' }, bar, ` ${shown} ${window} (${pct}%)`);
}

async function saveLimits(ctx: Ctx): Promise<void> {
  const sub = byId('limits-form').dataset.sub ?? '';
  const body: Record<string, number | null> = {};
  for (const [name, label] of LIMIT_FIELDS) {
    const raw = value(`limit-${name}`);
    const n = Number(raw);
    if (raw !== '' && !(Number.isFinite(n) && n >= 0))
      throw new Error(`${label} must be a number, or empty for no limit.`);
    body[name] = raw === '' ? null : n;
  }
  await ctx.call('PUT', `/api/admin/users/${encodeURIComponent(sub)}/limits`, body);
  await loadLimits(ctx);
  say(`Saved the limits of ${sub}.`);
}

async function loadAdminTokens(ctx: Ctx): Promise<void> {
  const sub = value('admin-tokens-sub');
  const q = sub ? `?limit=100&sub=${encodeURIComponent(sub)}` : '?limit=100';
  const tokens = (await ctx.call<Page<AdminToken>>('GET', `/api/admin/tokens${q}`)).body.data;
  const head = ['Name', 'User', 'Organisation', 'Expires', 'Last used', 'Actions'];
  const rows = tokens.map((t) => {
    const revoke = h('button', { type: 'button', class: 'danger' }, 'Revoke');
    revoke.setAttribute('aria-label', `Revoke ${t.name} of ${t.ownerSub}`);
    revoke.addEventListener('click', () => void ctx.run(() => revokeAnyToken(ctx, t, revoke)));
    return [
      document.createTextNode(t.name),
      document.createTextNode(t.ownerSub),
      document.createTextNode(t.orgId ?? '—'),
      when(t.expiresAt),
      when(t.lastUsedAt),
      revoke,
    ];
  });
  replace(
    byId('admin-token-list'),
    rows.length ? table('Access tokens of every user', head, rows) : h('p', {}, 'No tokens.'),
  );
}

async function revokeAnyToken(ctx: Ctx, t: AdminToken, opener: HTMLElement): Promise<void> {
  const question = `Revoke "${t.name}" of ${t.ownerSub}? Clients using it are refused at once.`;
  if (!(await confirmAction(question, 'Revoke token', opener))) return;
  await ctx.call('DELETE', `/api/admin/tokens/${t.id}`);
  await loadAdminTokens(ctx);
  byId('admin-tokens-h').focus();
  say(`Revoked the access token "${t.name}" of ${t.ownerSub}.`);
}

async function loadAdminKeys(ctx: Ctx): Promise<void> {
  const page = (await ctx.call<Page<AdminKey>>('GET', '/api/admin/api-keys?limit=100')).body;
  const head = ['Owner', 'Provider', 'Name', 'Key', 'Status', 'Last used'];
  const rows = page.data.map((k) => [
    document.createTextNode(`${k.ownerType === 'org' ? 'organisation' : 'user'} ${k.ownerId}`),
    document.createTextNode(providerName(ctx, k.provider)),
    document.createTextNode(k.keyName),
    h('code', {}, k.keyHint),
    h('span', { class: `badge ${k.status}` }, k.status),
    when(k.lastUsedAt),
  ]);
  replace(
    byId('admin-key-list'),
    rows.length ? table('Keys of every owner', head, rows) : h('p', {}, 'No keys.'),
    page.nextCursor ? h('p', { class: 'muted' }, 'The first 100 keys are shown.') : null,
  );
}
