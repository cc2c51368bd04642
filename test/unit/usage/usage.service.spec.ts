import type { Caller } from '../../../src/auth/caller';
import { AppError } from '../../../src/common/errors/app-error';
import type { UsageQueryDto } from '../../../src/usage/dto/usage-query.dto';
import { PriceTable } from '../../../src/usage/prices';
import { rollupCutoff } from '../../../src/usage/usage-rollup';
import type { UsageSum } from '../../../src/usage/usage.repository';
import { rangeOf, subjectOf, summarise } from '../../../src/usage/usage.service';

const user: Caller = { kind: 'jwt', sub: 'alice', orgId: 'acme', orgAdmin: false, admin: false };
const orgAdmin: Caller = { ...user, sub: 'dave', orgAdmin: true };
const admin: Caller = { kind: 'jwt', sub: 'root', orgAdmin: false, admin: true };
const token: Caller = { kind: 'token', sub: 'alice', orgId: 'acme', orgAdmin: false, admin: false };

const fails = (fn: () => unknown, code: string, message: RegExp) => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    expect(e).toMatchObject({ code, message: expect.stringMatching(message) as unknown });
    return;
  }
  throw new Error('expected an AppError');
};

describe('subjectOf: whose usage a caller may read', () => {
  it('its own by default (a token too), its org as an org admin, anyone as an admin', () => {
    expect(subjectOf(user, {})).toEqual({ kind: 'user', sub: 'alice' });
    expect(subjectOf(token, { scope: 'user' })).toEqual({ kind: 'user', sub: 'alice' });
    expect(subjectOf(orgAdmin, { scope: 'org' })).toEqual({ kind: 'org', orgId: 'acme' });
    expect(subjectOf(admin, { ownerType: 'user', ownerId: 'bob' })).toEqual({
      kind: 'user',
      sub: 'bob',
    });
    expect(subjectOf(admin, { ownerType: 'org', ownerId: 'x' })).toEqual({
      kind: 'org',
      orgId: 'x',
    });
    expect(subjectOf(admin, { ownerType: 'env' })).toEqual({ kind: 'env' });
  });

  it('403 for members, callers without an org, and non-admins naming an owner', () => {
    fails(() => subjectOf(user, { scope: 'org' }), 'forbidden', /organisation admins/);
    fails(() => subjectOf(token, { scope: 'org' }), 'forbidden', /organisation admins/);
    fails(
      () => subjectOf({ ...user, orgId: undefined }, { scope: 'org' }),
      'forbidden',
      /no organisation/,
    );
    fails(
      () => subjectOf(orgAdmin, { ownerType: 'org', ownerId: 'acme' }),
      'forbidden',
      /administrators/,
    );
  });

  it('400 for owner combinations that say nothing clear', () => {
    const bad: [UsageQueryDto, RegExp][] = [
      [{ ownerId: 'bob' }, /ownerType is required/],
      [{ ownerType: 'user' }, /ownerId is required with ownerType=user/],
      [{ ownerType: 'env', ownerId: 'x' }, /takes no ownerId/],
      [{ ownerType: 'user', ownerId: 'bob', scope: 'org' }, /either scope or ownerType/],
    ];
    for (const [q, message] of bad) fails(() => subjectOf(admin, q), 'validation_failed', message);
  });
});

describe('rangeOf', () => {
  const now = new Date('2026-11-29T16:00:00Z');
  it('defaults to the 30 days up to now', () => {
    expect(rangeOf({}, now)).toEqual({ from: new Date('2026-10-30T16:00:00Z'), to: now });
  });
  it('a date `to` includes that whole day; a date-time is taken as is', () => {
    expect(rangeOf({ from: '2026-11-01', to: '2026-11-01' }, now)).toEqual({
      from: new Date('2026-11-01T00:00:00Z'),
      to: new Date('2026-11-02T00:00:00Z'),
    });
    expect(rangeOf({ from: '2026-11-01T10:00:00+02:00', to: '2026-11-01T09:00:00Z' }, now)).toEqual(
      {
        from: new Date('2026-11-01T08:00:00Z'),
        to: new Date('2026-11-01T09:00:00Z'),
      },
    );
  });
  it('400 when from is not before to', () => {
    fails(
      () => rangeOf({ from: '2026-11-02', to: '2026-11-01' }, now),
      'validation_failed',
      /must be before to/,
    );
    fails(
      () => rangeOf({ from: '2026-11-29T16:00:00Z' }, now),
      'validation_failed',
      /must be before/,
    );
  });
});

describe('summarise', () => {
  const prices = new PriceTable([
    { provider: 'cerebras', model: 'llama', match: 'exact', input: 1, output: 2 },
    { provider: 'openai', model: 'gpt', match: 'prefix', input: 10, output: 20 },
  ]);
  const sum = (over: Partial<UsageSum>): UsageSum => ({
    ...{ group: null, provider: 'cerebras', model: 'llama', requests: 1, errors: 0 },
    ...{ promptTokens: 1_000_000, completionTokens: 1_000_000 },
    ...over,
  });

  it('adds per-model sums up per group and prices each model', () => {
    const rows = summarise(
      [
        sum({ group: 'k1' }),
        sum({ group: 'k1', provider: 'openai', model: 'gpt-x', requests: 2, errors: 1 }),
        sum({ group: 'k2', promptTokens: 0, completionTokens: 500_000 }),
      ],
      prices,
      'key',
    );
    expect(rows).toEqual([
      {
        ...{ group: 'k1', requests: 3, errors: 1, promptTokens: 2e6, completionTokens: 2e6 },
        ...{ cost: 33, pricedCost: 33, unpricedRequests: 0, currency: 'USD' },
      },
      {
        ...{ group: 'k2', requests: 1, errors: 0, promptTokens: 0, completionTokens: 5e5 },
        ...{ cost: 1, pricedCost: 1, unpricedRequests: 0, currency: 'USD' },
      },
    ]);
  });

  it('one unpriced model with tokens makes the group null; without tokens it costs nothing', () => {
    const rows = summarise(
      [
        sum({}),
        sum({ model: 'mystery' }),
        sum({ provider: 'openai', model: null, promptTokens: 0, completionTokens: 0 }),
      ],
      prices,
      'provider',
    );
    expect(rows.map((r) => [r.group, r.cost])).toEqual([
      ['cerebras', null],
      ['openai', 0],
    ]);
  });

  it('keeps the priced part and counts the unpriced requests, instead of only null', () => {
    const rows = summarise(
      [sum({ requests: 28 }), sum({ model: 'mystery', requests: 1 })],
      prices,
      'provider',
    );
    expect(rows).toMatchObject([
      { group: 'cerebras', requests: 29, cost: null, pricedCost: 3, unpricedRequests: 1 },
    ]);
  });

  it('groups by day and provider, or day and key, in day order', () => {
    const sums = [
      sum({ group: '2026-11-02' }),
      sum({ group: '2026-11-01', provider: 'openai', model: 'gpt' }),
      sum({ group: '2026-11-01' }),
    ];
    expect(summarise(sums, prices, 'day-provider').map((r) => r.group)).toEqual([
      '2026-11-01/cerebras',
      '2026-11-01/openai',
      '2026-11-02/cerebras',
    ]);
    const byKey = summarise([sum({ group: '2026-11-01/k1' })], prices, 'day-key');
    expect(byKey.map((r) => r.group)).toEqual(['2026-11-01/k1']);
  });

  it('labels models as provider/model and sorts days in order', () => {
    const byModel = summarise([sum({}), sum({ model: null, promptTokens: 0 })], prices, 'model');
    expect(byModel.map((r) => r.group)).toEqual(['cerebras/llama', 'cerebras/(none)']);
    const days = summarise(
      [sum({ group: '2026-11-02' }), sum({ group: '2026-11-01', promptTokens: 9e9 })],
      prices,
      'day',
    );
    expect(days.map((r) => r.group)).toEqual(['2026-11-01', '2026-11-02']);
  });
});

describe('rollupCutoff', () => {
  it('is UTC midnight, retentionDays before today: whole days only', () => {
    expect(rollupCutoff(new Date('2026-11-29T16:04:00Z'), 90)).toEqual(
      new Date('2026-08-31T00:00:00Z'),
    );
    expect(rollupCutoff(new Date('2026-11-29T00:00:00Z'), 1)).toEqual(
      new Date('2026-11-28T00:00:00Z'),
    );
  });
});
