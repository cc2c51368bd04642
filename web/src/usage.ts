import { ApiError, type Key, type UsageReport, type UsageRow } from './api';
import { drawChart, type Series } from './chart';
import { byId, h, replace, table } from './dom';
import { providerName } from './keys';
import type { Ctx } from './main';

/**
 * Usage over a chosen range: a daily chart per provider (or for one key) beside the table per
 * key, for your own keys (`user`) and, for its admins, the organisation's (`org`). Each stays
 * hidden while the server has no usage endpoint (404); any other failure is shown in words.
 */

export type UsageScope = 'user' | 'org';

/** The page's elements of one scope: `usage-chart` for yours, `org-usage-chart` for the org's. */
const el = <T extends HTMLElement = HTMLElement>(scope: UsageScope, name?: string): T =>
  byId<T>(`${scope === 'org' ? 'org-' : ''}usage${name ? `-${name}` : ''}`);

const keysOf = (ctx: Ctx, scope: UsageScope): Key[] =>
  scope === 'user' ? ctx.s.keys : (ctx.s.org?.keys ?? []);

const DAY_MS = 86_400_000;
const isoDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

type Metric = 'requests' | 'tokens' | 'cost';
const METRICS: Record<Metric, { name: string; of: (r: UsageRow) => number }> = {
  requests: { name: 'Requests', of: (r) => r.requests },
  tokens: { name: 'Tokens', of: (r) => r.promptTokens + r.completionTokens },
  cost: { name: 'Estimated cost (priced part)', of: (r) => r.pricedCost },
};

const wired = new Set<UsageScope>();

export async function loadUsage(ctx: Ctx, scope: UsageScope = 'user'): Promise<void> {
  const section = el(scope);
  // Only organisation admins may read the organisation's usage.
  if (scope === 'org' && !ctx.s.org?.admin) {
    section.hidden = true;
    return;
  }
  if (!wired.has(scope)) {
    wired.add(scope);
    for (const name of ['range', 'metric', 'key'])
      el(scope, name).addEventListener('change', () => void ctx.run(() => loadUsage(ctx, scope)));
  }
  fillKeyPicker(ctx, scope);
  const days = Number(el<HTMLSelectElement>(scope, 'range').value);
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const range = `from=${isoDay(today - (days - 1) * DAY_MS)}&to=${isoDay(today)}`;
  const keyId = el<HTMLSelectElement>(scope, 'key').value;
  const of = scope === 'org' ? '&scope=org' : '';
  let perKey: UsageReport;
  let daily: UsageReport;
  try {
    [perKey, daily] = await Promise.all(
      [`groupBy=key&${range}`, `groupBy=${keyId ? 'day-key' : 'day-provider'}&${range}`].map(
        async (q) => (await ctx.call<UsageReport>('GET', `/api/user/usage?${q}${of}`)).body,
      ),
    );
  } catch (e) {
    section.hidden = e instanceof ApiError && e.status === 404;
    const why = `Usage is unavailable: ${(e as Error).message}`;
    replace(el(scope, 'table'), h('p', { class: 'error' }, why));
    el(scope, 'chart').replaceChildren();
    return;
  }
  section.hidden = false;
  const shown = (iso: string): string => new Date(iso).toLocaleDateString();
  const through = scope === 'org' ? "the organisation's keys" : 'the proxy';
  el(scope, 'intro').textContent =
    `Requests through ${through} from ${shown(perKey.from)} to ${shown(perKey.to)} (UTC days). ` +
    "Cost is an estimate from the operator's price table.";
  renderTable(ctx, scope, perKey.data);
  const metric = el<HTMLSelectElement>(scope, 'metric').value as Metric;
  renderChart(ctx, scope, daily.data, today, days, metric, keyId);
}

function fillKeyPicker(ctx: Ctx, scope: UsageScope): void {
  const picker = el<HTMLSelectElement>(scope, 'key');
  const chosen = picker.value;
  const keys = keysOf(ctx, scope);
  replace(
    picker,
    h('option', { value: '' }, 'All keys, per provider'),
    ...keys.map((k) =>
      h('option', { value: k.id }, `${k.keyName} (${k.keyHint}), ${providerName(ctx, k.provider)}`),
    ),
  );
  picker.value = keys.some((k) => k.id === chosen) ? chosen : '';
}

function renderTable(ctx: Ctx, scope: UsageScope, rows: UsageRow[]): void {
  if (!rows.length) {
    replace(el(scope, 'table'), h('p', {}, 'No usage recorded in this range.'));
    return;
  }
  const head = ['Key', 'Provider', 'Requests', 'Errors', 'Prompt tokens', 'Completion tokens'];
  const cells = rows.map((r) => [
    ...keyCells(ctx, keysOf(ctx, scope), r),
    ...[r.requests, r.errors, r.promptTokens, r.completionTokens].map((n) =>
      document.createTextNode(n.toLocaleString()),
    ),
    document.createTextNode(cost(r)),
  ]);
  const caption = scope === 'org' ? 'Organisation usage per key' : 'Usage per key';
  replace(el(scope, 'table'), table(caption, [...head, 'Estimated cost'], cells));
}

/** One series per provider (or the chosen key), one point per UTC day, 0 on days without use. */
function renderChart(
  ctx: Ctx,
  scope: UsageScope,
  rows: UsageRow[],
  today: number,
  days: number,
  metric: Metric,
  keyId: string,
): void {
  const first = today - (days - 1) * DAY_MS;
  const x = Array.from({ length: days }, (_, i) => (first + i * DAY_MS) / 1000);
  const lines = new Map<string, Series>();
  let unpriced = 0;
  for (const r of rows) {
    const [day, what] = [r.group.slice(0, 10), r.group.slice(11)];
    if (keyId && what !== keyId) continue;
    const label = keyId ? keyLabel(keysOf(ctx, scope), keyId) : providerName(ctx, what);
    const line = lines.get(label) ?? { label, values: x.map(() => 0) };
    const i = Math.round((Date.parse(`${day}T00:00:00Z`) - first) / DAY_MS);
    if (i >= 0 && i < days) line.values[i] += METRICS[metric].of(r);
    unpriced += r.unpricedRequests;
    lines.set(label, line);
  }
  const chart = el(scope, 'chart');
  if (!lines.size) {
    replace(chart, h('p', { class: 'muted' }, 'Nothing to chart in this range.'));
    return;
  }
  const format = (n: number): string =>
    metric === 'cost'
      ? n.toLocaleString(undefined, { style: 'currency', currency: 'USD' })
      : n.toLocaleString(undefined, { maximumFractionDigits: 1 });
  const series = [...lines.values()];
  const totals = series.map((s) => `${s.label} ${format(s.values.reduce((a, b) => a + b, 0))}`);
  let summary = `${METRICS[metric].name} per day over the last ${days} days: ${totals.join(', ')} in total.`;
  if (metric === 'cost' && unpriced)
    summary += ` ${unpriced.toLocaleString()} requests had no price and are not included.`;
  drawChart(chart, x, series, { name: METRICS[metric].name, format }, summary);
  chart.append(h('p', { class: 'muted chart-note' }, summary));
}

const keyLabel = (keys: Key[], id: string): string => {
  const key = keys.find((k) => k.id === id);
  return key ? `${key.keyName} (${key.keyHint})` : 'A deleted key';
};

function keyCells(ctx: Ctx, keys: Key[], r: UsageRow): Node[] {
  const text = (s: string): Node => document.createTextNode(s);
  if (r.group.startsWith('env:')) {
    const provider = r.group.slice('env:'.length);
    return [text("The operator's key"), text(providerName(ctx, provider))];
  }
  const key = keys.find((k) => k.id === r.group);
  if (!key) return [text('A deleted key'), text('—')];
  return [text(keyLabel(keys, key.id)), text(providerName(ctx, key.provider))];
}

/** The priced part in money, and how many requests it leaves out: never one "unknown". */
export function cost(r: UsageRow): string {
  const money = (n: number): string =>
    n.toLocaleString(undefined, { style: 'currency', currency: r.currency });
  const priced =
    r.pricedCost > 0 && r.pricedCost < 0.01 ? `less than ${money(0.01)}` : money(r.pricedCost);
  if (!r.unpricedRequests) return priced;
  const n = r.unpricedRequests;
  return `${priced} + ${n.toLocaleString()} ${n === 1 ? 'request' : 'requests'} without a price`;
}
