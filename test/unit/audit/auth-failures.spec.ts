import {
  type AuthFailure,
  AuthFailureAggregator,
  OVERFLOW_REASON,
  windowDetail,
} from '../../../src/audit/auth-failures';

const failure = (ip: string | null, reason = 'JWT malformed', n = 0): AuthFailure => ({
  ip,
  reason,
  credential: 'jwt',
  path: `/api/user/api-keys`,
  requestId: `req-${n}`,
});

describe('AuthFailureAggregator', () => {
  let now = 1_000_000;
  const make = (maxWindows = 100) =>
    new AuthFailureAggregator({ windowMs: 60_000, maxWindows, now: () => now });

  it('counts failures per (ip, reason) into one window, kept open until it runs out', () => {
    const agg = make();
    for (let i = 0; i < 300; i++)
      expect(agg.add(failure('10.0.0.1', 'JWT malformed', i))).toBe(undefined);
    agg.add(failure('10.0.0.1', 'Access token not recognised'));
    agg.add(failure('10.0.0.2'));
    expect(agg.size).toBe(3);
    now += 59_999;
    expect(agg.take()).toEqual([]);
    now += 1;
    const closed = agg.take();
    expect(closed.map((w) => [w.ip, w.reason, w.count])).toEqual([
      ['10.0.0.1', 'JWT malformed', 300],
      ['10.0.0.1', 'Access token not recognised', 1],
      ['10.0.0.2', 'JWT malformed', 1],
    ]);
    expect(windowDetail(closed[0])).toEqual({
      reason: 'JWT malformed',
      count: 300,
      firstAt: new Date(now - 60_000).toISOString(),
      lastAt: new Date(now - 60_000).toISOString(),
      credential: 'jwt',
      path: '/api/user/api-keys',
    });
    expect(closed[0].first.requestId).toBe('req-0');
    expect(agg.size).toBe(0);
  });

  it('a failure after the window returns the closed window and opens a new one', () => {
    const agg = make();
    agg.add(failure('10.0.0.1'));
    now += 30_000;
    agg.add(failure('10.0.0.1'));
    now += 30_000;
    const closed = agg.add(failure('10.0.0.1', 'JWT malformed', 7));
    expect(closed?.count).toBe(2);
    expect(closed?.lastAt.getTime()).toBe(now - 30_000);
    expect(agg.take(true).map((w) => [w.count, w.first.requestId])).toEqual([[1, 'req-7']]);
  });

  it('never holds more than maxWindows: the rest share one overflow window', () => {
    const agg = make(10);
    for (let i = 0; i < 1000; i++) agg.add(failure(`10.0.${i >> 8}.${i & 255}`, `reason ${i}`));
    expect(agg.size).toBe(11);
    const windows = agg.take(true);
    const overflow = windows.find((w) => w.reason === OVERFLOW_REASON)!;
    expect(overflow).toMatchObject({ ip: null, count: 990 });
    expect(windows.reduce((n, w) => n + w.count, 0)).toBe(1000);
  });
});
