import { ApiError, type UsageReport, type UsageRow } from './api';
import { drawChart, type Series } from './chart';
import { byId, h, replace, table } from './dom';
import { providerName } from './keys';
import type { Ctx } from './main';

/**
 * Usage over a chosen range: a daily chart per provider (or for one key) beside the table per
 * key. The section stays hidden while the server has no usage endpoint (404); any other failure
 * is shown in words.
 */

const DAY_MS = 86_400_000;
const isoDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

type Metric = 'requests' | 'tokens' | 'cost';
const METRICS: Record<Metric, { name: string; of: (r: UsageRow) => number }> = {
  requests: { name: 'Requests', of: (r) => r.requests },
  tokens: { name: 'Tokens', of: (r) => r.promptTokens + r.completionTokens },
  cost: { name: 'Estimated cost (priced part)', of: (r) => r.pricedCost },
};

let wired = false;

export async function loadUsage(ctx: Ctx): Promise<void> {
  if (!wired) {
    wired = true;
    for (const id of ['usage-range', 'usage-metric', 'usage-key'])
      byId(id).addEventListener('change', () => void ctx.run(() => loadUsage(ctx)));
  }
  fillKeyPicker(ctx);
  const days = Number(byId<HTMLSelectElement>('usage-range').value);
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const range = `from=${isoDay(today - (days - 1) * DAY_MS)}&to=${isoDay(today)}`;
  const keyId = byId<HTMLSelectElement>('usage-key').value;
  const section = byId('usage');
  let perKey: UsageReport;
  let daily: UsageReport;
  try {
    [perKey, daily] = await Promise.all(
      [`groupBy=key&${range}`, `groupBy=${keyId ? 'day-key' : 'day-provider'}&${range}`].map(
        async (q) => (await ctx.call<UsageReport>('GET', `/api/user/usage?${q}`)).body,
      ),
    );
  } catch (e) {
    section.hidden = e instanceof ApiError && e.status === 404;
    const why = `Usage is unavailable: ${(e as Error).message}`;
    replace(byId('usage-table'), h('p', { class: 'error' }, why));
    byId('usage-chart').replaceChildren();
    return;
  }
  section.hidden = false;
  const shown = (iso: string): string => new Date(iso).toLocaleDateString();
  byId('usage-intro').textContent =
    `Requests through the proxy from ${shown(perKey.from)} to ${shown(perKey.to)} (UTC days). ` +
    "Cost is an estimate from the operator's price table.";
  renderTable(ctx, perKey.data);
  const metric = byId<HTMLSelectElement>('usage-metric').value as Metric;
  renderChart(ctx, daily.data, today, days, metric, keyId);
}

function fillKeyPicker(ctx: Ctx): void {
  const picker = byId<HTMLSelectElement>('usage-key');
  const chosen = picker.value;
  replace(
    picker,
    h('option', { value: '' }, 'All keys, per provider'),
    ...ctx.s.keys.map((k) =>
      h('option', { value: k.id }, `${k.keyName} (${k.keyHint}), ${providerName(ctx, k.provider)}`),
    ),
  );
  picker.value = ctx.s.keys.some((k) => k.id === chosen) ? chosen : '';
}

function renderTable(ctx: Ctx, rows: UsageRow[]): void {
  if (!rows.length) {
    replace(byId('usage-table'), h('p', {}, 'No usage recorded in this range.'));
    return;
  }
  const head = ['Key', 'Provider', 'Requests', 'Errors', 'Prompt tokens', 'Completion tokens'];
  const cells = rows.map((r) => [
    ...keyCells(ctx, r),
    ...[r.requests, r.errors, r.promptTokens, r.completionTokens].map((n) =>
      document.createTextNode(n.toLocaleString()),
    ),
    document.createTextNode(cost(r)),
  ]);
  replace(byId('usage-table'), table('Usage per key', [...head, 'Estimated cost'], cells));
}

/** One series per provider (or the chosen key), one point per UTC day, 0 on days without use. */
function renderChart(
  ctx: Ctx,
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
    const label = keyId ? keyLabel(ctx, keyId) : providerName(ctx, what);
    const line = lines.get(label) ?? { label, values: x.map(() => 0) };
    const i = Math.round((Date.parse(`${day}T00:00:00Z`) - first) / DAY_MS);
    if (i >= 0 && i < days) line.values[i] += METRICS[metric].of(r);
    unpriced += r.unpricedRequests;
    lines.set(label, line);
  }
  const chart = byId('usage-chart');
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

const keyLabel = (ctx: Ctx, id: string): string => {
  const key = ctx.s.keys.find((k) => k.id === id);
  return key ? `${key.keyName} (${key.keyHint})` : 'A deleted key';
};

function keyCells(ctx: Ctx, r: UsageRow): Node[] {
  const text = (s: string): Node => document.createTextNode(s);
  if (r.group.startsWith('env:')) {
    const provider = r.group.slice('env:'.length);
    return [text("The operator's key"), text(providerName(ctx, provider))];
  }
  const key = ctx.s.keys.find((k) => k.id === r.group);
  if (!key) return [text('A deleted key'), text('—')];
  return [text(keyLabel(ctx, key.id)), text(providerName(ctx, key.provider))];
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
