import { ApiError, type UsageReport, type UsageRow } from './api';
import { byId, h, replace, table } from './dom';
import { providerName } from './keys';
import type { Ctx } from './main';

/**
 * Usage per key over the server's default range (the last 30 days). The section stays hidden
 * while the server has no usage endpoint (404); any other failure is shown in words.
 */
export async function loadUsage(ctx: Ctx): Promise<void> {
  const section = byId('usage');
  let report: UsageReport;
  try {
    report = (await ctx.call<UsageReport>('GET', '/api/user/usage?groupBy=key')).body;
  } catch (e) {
    section.hidden = e instanceof ApiError && e.status === 404;
    const why = `Usage is unavailable: ${(e as Error).message}`;
    replace(byId('usage-body'), h('p', { class: 'error' }, why));
    return;
  }
  section.hidden = false;
  const day = (iso: string): string => new Date(iso).toLocaleDateString();
  const intro = h(
    'p',
    { class: 'muted' },
    `Requests through the proxy from ${day(report.from)} to ${day(report.to)}. ` +
      "Cost is an estimate from the operator's price table.",
  );
  if (!report.data.length) {
    replace(byId('usage-body'), intro, h('p', {}, 'No usage recorded yet.'));
    return;
  }
  const head = ['Key', 'Provider', 'Requests', 'Errors', 'Prompt tokens', 'Completion tokens'];
  const rows = report.data.map((r) => [
    ...keyCells(ctx, r),
    ...[r.requests, r.errors, r.promptTokens, r.completionTokens].map((n) =>
      document.createTextNode(n.toLocaleString()),
    ),
    document.createTextNode(cost(r)),
  ]);
  replace(byId('usage-body'), intro, table('Usage per key', [...head, 'Estimated cost'], rows));
}

function keyCells(ctx: Ctx, r: UsageRow): Node[] {
  const text = (s: string): Node => document.createTextNode(s);
  if (r.group.startsWith('env:')) {
    const provider = r.group.slice('env:'.length);
    return [text("The operator's key"), text(providerName(ctx, provider))];
  }
  const key = ctx.s.keys.find((k) => k.id === r.group);
  if (!key) return [text('A deleted key'), text('—')];
  return [text(`${key.keyName} (${key.keyHint})`), text(providerName(ctx, key.provider))];
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
