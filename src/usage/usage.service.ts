import { Injectable } from '@nestjs/common';
import type { Caller } from '../auth/caller';
import { AppError } from '../common/errors/app-error';
import { rangeEnd, rangeStart } from '../common/iso-date';
import type { UsageGroupBy, UsageQueryDto } from './dto/usage-query.dto';
import type { UsageReportDto, UsageRowDto } from './dto/usage-report.dto';
import { PriceTable } from './prices';
import { UsageRecorder } from './usage.recorder';
import { UsageRepository, type UsageSubject, type UsageSum } from './usage.repository';

const DEFAULT_DAYS = 30;
const DAY_MS = 86_400_000;

/** Whose usage the caller may read: its own by default, its organisation's, or (admins) anyone's. */
export function subjectOf(caller: Caller, q: UsageQueryDto): UsageSubject {
  if (q.ownerType !== undefined || q.ownerId !== undefined) {
    if (!caller.admin)
      throw new AppError(
        'forbidden',
        "Only administrators can read another owner's usage (ownerType/ownerId): use scope=user or scope=org",
      );
    if (q.scope !== undefined)
      throw new AppError('validation_failed', 'Send either scope or ownerType/ownerId, not both');
    if (q.ownerType === undefined)
      throw new AppError(
        'validation_failed',
        'ownerType is required with ownerId (user, org or env)',
      );
    if (q.ownerType === 'env') {
      if (q.ownerId !== undefined)
        throw new AppError(
          'validation_failed',
          'ownerType=env takes no ownerId: it covers every operator key',
        );
      return { kind: 'env' };
    }
    if (q.ownerId === undefined)
      throw new AppError('validation_failed', `ownerId is required with ownerType=${q.ownerType}`);
    return q.ownerType === 'user'
      ? { kind: 'user', sub: q.ownerId }
      : { kind: 'org', orgId: q.ownerId };
  }
  if (q.scope !== 'org') return { kind: 'user', sub: caller.sub };
  if (!caller.orgId)
    throw new AppError(
      'forbidden',
      'Your credential names no organisation, so there is no organisation usage to read: sign in with an organisation selected',
    );
  if (!caller.orgAdmin)
    throw new AppError('forbidden', "Only organisation admins can read the organisation's usage");
  return { kind: 'org', orgId: caller.orgId };
}

/** [from, to) from the query: default the last 30 days up to now. */
export function rangeOf(q: UsageQueryDto, now: Date): { from: Date; to: Date } {
  const to = q.to ? rangeEnd(q.to) : now;
  const from = q.from ? rangeStart(q.from) : new Date(to.getTime() - DEFAULT_DAYS * DAY_MS);
  if (from.getTime() >= to.getTime())
    throw new AppError(
      'validation_failed',
      `from (${from.toISOString()}) must be before to (${to.toISOString()})`,
    );
  return { from, to };
}

function labelOf(s: UsageSum, groupBy: UsageGroupBy): string {
  switch (groupBy) {
    case 'provider':
      return s.provider;
    case 'model':
      return `${s.provider}/${s.model ?? '(none)'}`;
    case 'day-provider':
      return `${s.group ?? ''}/${s.provider}`;
    case 'key':
    case 'day':
    case 'day-key':
      return s.group ?? '';
  }
}

// Sums of many float products drift in the last digits; a nano-dollar is far below any price.
const round = (usd: number): number => Math.round(usd * 1e9) / 1e9;

/**
 * Adds the per-model sums up per group. Cost is priced per (provider, model) and summed; one
 * model that used tokens without a price makes the group's cost null, since any number would
 * understate it. pricedCost and unpricedRequests say what is known: the priced part, and how
 * many requests it leaves out.
 */
export function summarise(
  sums: UsageSum[],
  prices: PriceTable,
  groupBy: UsageGroupBy,
): UsageRowDto[] {
  const groups = new Map<string, UsageRowDto>();
  for (const s of sums) {
    const label = labelOf(s, groupBy);
    const row = groups.get(label) ?? {
      group: label,
      requests: 0,
      errors: 0,
      promptTokens: 0,
      completionTokens: 0,
      cost: 0,
      pricedCost: 0,
      unpricedRequests: 0,
      currency: 'USD' as const,
    };
    row.requests += s.requests;
    row.errors += s.errors;
    row.promptTokens += s.promptTokens;
    row.completionTokens += s.completionTokens;
    const cost = prices.cost(s.provider, s.model, s.promptTokens, s.completionTokens);
    row.cost = row.cost === null || cost === null ? null : row.cost + cost;
    if (cost === null) row.unpricedRequests += s.requests;
    else row.pricedCost += cost;
    groups.set(label, row);
  }
  const rows = [...groups.values()].map((r) => ({
    ...r,
    cost: r.cost === null ? null : round(r.cost),
    pricedCost: round(r.pricedCost),
  }));
  // Days read in order; any other grouping leads with the biggest spender of tokens.
  return groupBy.startsWith('day')
    ? rows.sort((a, b) => a.group.localeCompare(b.group))
    : rows.sort(
        (a, b) =>
          b.promptTokens + b.completionTokens - (a.promptTokens + a.completionTokens) ||
          b.requests - a.requests ||
          a.group.localeCompare(b.group),
      );
}

@Injectable()
export class UsageService {
  constructor(
    private readonly usage: UsageRepository,
    private readonly prices: PriceTable,
    private readonly recorder: UsageRecorder,
  ) {}

  async report(caller: Caller, q: UsageQueryDto, now = new Date()): Promise<UsageReportDto> {
    const subject = subjectOf(caller, q);
    const { from, to } = rangeOf(q, now);
    const groupBy = q.groupBy ?? 'day';
    // This replica's queued rows first, so a report right after a request includes it.
    await this.recorder.flush();
    const sums = await this.usage.sums(subject, from, to, groupBy);
    return {
      data: summarise(sums, this.prices, groupBy),
      from: from.toISOString(),
      to: to.toISOString(),
      groupBy,
    };
  }
}
