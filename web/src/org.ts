import { type AdminToken, ApiError, type Key, type Provider } from './api';
import { byId, h, replace, table, when } from './dom';
import { renderKeys } from './keys';
import type { Ctx } from './main';
import { confirmAction, say } from './ui';

/**
 * The organisation view, for callers whose credential names an organisation: its keys (changed
 * by its admins only), which key serves you for each provider, and (admins) the access tokens
 * that reach the organisation's keys.
 */
export interface OrgState {
  keys: Key[];
  /** An organisation admin signed in with a JWT: may change keys and revoke tokens. */
  admin: boolean;
  tokens: AdminToken[];
}

const forbidden = (e: unknown): boolean => e instanceof ApiError && e.status === 403;

/** Asks the server what the caller may see: a 403 means no organisation (or not its admin). */
export async function loadOrg(ctx: Ctx): Promise<void> {
  let keys: Key[];
  try {
    keys = (await ctx.call<{ data: Key[] }>('GET', '/api/org/api-keys')).body.data;
  } catch (e) {
    if (!forbidden(e)) throw e;
    ctx.s.org = undefined;
    showOrg(ctx);
    return;
  }
  ctx.s.org = { keys, admin: false, tokens: [] };
  if (!ctx.s.readOnly) {
    try {
      ctx.s.org.tokens = await orgTokens(ctx);
      ctx.s.org.admin = true;
    } catch (e) {
      if (!forbidden(e)) throw e;
    }
  }
  showOrg(ctx);
}

async function orgTokens(ctx: Ctx): Promise<AdminToken[]> {
  return (await ctx.call<{ data: AdminToken[] }>('GET', '/api/org/tokens?limit=100')).body.data;
}

function showOrg(ctx: Ctx): void {
  const org = ctx.s.org;
  byId('org').hidden = !org;
  for (const el of document.querySelectorAll<HTMLElement>('[data-org-admin]'))
    el.hidden = !org?.admin;
  if (!org) return;
  byId('org-intro').textContent = org.admin
    ? 'You are an admin of this organisation: you add, change and delete its keys, and can revoke the access tokens that reach them. Choose "The organisation" as the owner in "Add a key".'
    : "You are a member of this organisation: its keys serve you when you have no usable key of your own. Only the organisation's admins change them.";
  renderKeys(ctx, 'org');
  renderKeys(ctx, 'user'); // "no key of yours" now knows the organisation's keys
  renderOrgTokens(ctx);
}

const usable = (keys: Key[], provider: string): Key | undefined =>
  keys
    .filter((k) => k.provider === provider && k.status === 'active')
    .sort((a, b) => a.priority - b.priority || a.createdAt.localeCompare(b.createdAt))[0];

/** Who serves a request for `p`, as the proxy resolves it: your key, the org's, the operator's. */
export function servedBy(ctx: Ctx, p: Provider): string {
  const own = usable(ctx.s.keys, p.id);
  if (own) return `your key "${own.keyName}" (${own.keyHint})`;
  const org = usable(ctx.s.org?.keys ?? [], p.id);
  if (org) return `the organisation's key "${org.keyName}" (${org.keyHint})`;
  return p.envFallbackAvailable ? "the operator's key" : 'no key: requests fail';
}

/** The "which key serves you" table: redrawn whenever your keys or the organisation's change. */
export function renderServing(ctx: Ctx): void {
  if (!ctx.s.org) return;
  const rows = ctx.s.providers.map((p) => [
    document.createTextNode(p.name),
    document.createTextNode(servedBy(ctx, p)),
  ]);
  replace(byId('serving'), table('Which key serves you', ['Provider', 'Served by'], rows));
}

function renderOrgTokens(ctx: Ctx): void {
  const org = ctx.s.org;
  byId('org-tokens').hidden = !org?.admin;
  if (!org?.admin) return;
  const head = ['Name', 'Made by', 'Providers', 'Expires', 'Last used', 'Actions'];
  const rows = org.tokens.map((t) => {
    const revoke = h('button', { type: 'button', class: 'danger', id: `revoke-${t.id}` }, 'Revoke');
    revoke.setAttribute('aria-label', `Revoke ${t.name} of ${t.ownerSub}`);
    revoke.addEventListener('click', () => void ctx.run(() => revokeOrgToken(ctx, t, revoke)));
    return [
      document.createTextNode(t.name),
      document.createTextNode(t.ownerSub),
      document.createTextNode(t.providers?.join(', ') ?? 'all'),
      when(t.expiresAt),
      when(t.lastUsedAt),
      revoke,
    ];
  });
  replace(
    byId('org-token-list'),
    rows.length
      ? table("Access tokens that reach the organisation's keys", head, rows)
      : h('p', {}, 'No access tokens reach the organisation’s keys.'),
  );
}

async function revokeOrgToken(ctx: Ctx, t: AdminToken, opener: HTMLElement): Promise<void> {
  const question = `Revoke "${t.name}", made by ${t.ownerSub}? Clients using it are refused at once.`;
  if (!(await confirmAction(question, 'Revoke token', opener))) return;
  await ctx.call('DELETE', `/api/org/tokens/${t.id}`);
  if (ctx.s.org) ctx.s.org.tokens = await orgTokens(ctx);
  renderOrgTokens(ctx);
  byId('org-tokens-h').focus();
  say(`Revoked the access token "${t.name}" of ${t.ownerSub}.`);
}
