import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '../common/errors/app-error';
import type { ResilientCache } from '../common/resilient-cache';
import { DatabaseBreaker } from '../database/database-breaker';
import { DatabaseUnavailableError } from '../common/errors/database-unavailable';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { COUNTER_STORE, type CounterStore } from './counter-store';
import { isUnlimited, type LimitKind, limitOf, type Limits, NO_LIMITS, windowOf } from './limits';
import { LimitsRepository } from './limits.repository';

const NAMES: Record<LimitKind, string> = {
  rpm: 'requests-per-minute',
  tpm: 'tokens-per-minute',
  tpd: 'tokens-per-day',
  budget: 'monthly-budget',
};

/** A key as limits see it: the operator's env key has no id and no limits. */
export interface LimitedKey {
  keyId?: string;
  limits?: Limits | null;
}

/** What a request may use at most, estimated at admission. */
export interface Estimate {
  tokens: number;
  /** USD at the model's price (or PRICE_FALLBACK_USD_PER_MTOK); null when it has neither. */
  costUsd: number | null;
  model?: string;
}

/**
 * What admission added to one scope's token and budget windows: settled to what the exchange
 * really used when it ends, in the same windows.
 */
export interface Reservation {
  tokens: number;
  costMicros: number;
  entries: { key: string; ttlMs: number; budget: boolean }[];
}

/** A spent limit: which, and when it resets. */
export interface Exceeded {
  scope: 'user' | 'key';
  kind: LimitKind;
  limit: number;
  resetsAt: number;
}

type Admitted =
  { over: Exceeded; reservation?: undefined } | { over?: undefined; reservation?: Reservation };

/**
 * Per-user and per-key limits on fixed windows. Requests per minute are counted on admission.
 * Tokens per minute and per day and the monthly budget are reserved on admission, from what the
 * request may use at most, and settled to what the provider reported when the exchange ends: so
 * concurrent requests cannot all pass a nearly spent window, and overshoot it by at most one
 * request's reservation. Counters live in memory or in Redis.
 */
@Injectable()
export class LimitsService {
  private readonly users: ResilientCache<Limits>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(COUNTER_STORE) private readonly counters: CounterStore,
    private readonly repo: LimitsRepository,
    private readonly metrics: MetricsService,
    breaker: DatabaseBreaker,
  ) {
    this.users = breaker.cache(50_000);
  }

  /** Whether a user has a token or budget limit: only then is an estimate worth making. */
  async countsTokens(sub: string, key?: LimitedKey): Promise<boolean> {
    return countsTokens(await this.userLimits(sub)) || (!!key?.limits && countsTokens(key.limits));
  }

  /**
   * Admits a request against the caller's limits, reserving `estimate` in its token and budget
   * windows; throws 429 rate_limited when one is spent, or model_unpriced when a budget applies
   * and the model has no price.
   */
  async admitUser(sub: string, estimate?: Estimate): Promise<Reservation | undefined> {
    const limits = await this.userLimits(sub);
    const r = await this.admit(`u:${sub}`, limits, 'user', estimate);
    if (r.over) {
      this.metrics.rateLimited('user', r.over.kind);
      throw rateLimited(r.over);
    }
    return r.reservation;
  }

  /** The same against a key's own limits; a spent one is returned (the key is skipped). */
  async admitKey(c: LimitedKey, estimate?: Estimate): Promise<Admitted> {
    if (!c.keyId || !c.limits) return {};
    const r = await this.admit(`k:${c.keyId}`, c.limits, 'key', estimate);
    if (r.over) this.metrics.rateLimited('key', r.over.kind);
    return r;
  }

  /**
   * Corrects a reservation to what the exchange used (0 for one that failed or was cut short
   * before any usage was reported); `costUsd` null keeps the reserved cost.
   */
  async settle(r: Reservation, tokens: number, costUsd: number | null): Promise<void> {
    const costMicros = costUsd === null ? r.costMicros : Math.round(costUsd * 1_000_000);
    const entries = r.entries
      .map((e) => ({
        key: e.key,
        ttlMs: e.ttlMs,
        by: e.budget ? costMicros - r.costMicros : tokens - r.tokens,
      }))
      .filter((e) => e.by !== 0);
    if (entries.length) await this.counters.add(entries);
  }

  /**
   * Empty reservations in the current token and budget windows of the caller and of a key, for
   * usage reported long after admission (each response of a realtime session): settling them to
   * what was used charges it to the windows of the moment it was used.
   */
  async charges(sub: string, key?: LimitedKey): Promise<Reservation[]> {
    const now = Date.now();
    const scopes: [string, Limits][] = [[`u:${sub}`, await this.userLimits(sub)]];
    if (key?.keyId && key.limits) scopes.push([`k:${key.keyId}`, key.limits]);
    return scopes.flatMap(([scope, limits]) => {
      const entries = (['tpm', 'tpd', 'budget'] as const)
        .filter((kind) => limitOf(limits, kind) !== null)
        .map((kind) => {
          const { key: k, ttlMs } = this.entry(scope, kind, now, 0);
          return { key: k, ttlMs, budget: kind === 'budget' };
        });
      return entries.length ? [{ tokens: 0, costMicros: 0, entries }] : [];
    });
  }

  /** A user's limits: cached, and kept serving while the database is away (KEY_STALE_MAX_MS). */
  userLimits(sub: string): Promise<Limits> {
    return this.users
      .get(sub, async () => {
        const stored = await this.repo.findBySub(sub);
        return stored ? { ...NO_LIMITS, ...stored } : this.config.userLimits;
      })
      .catch((e: unknown) => {
        throw new DatabaseUnavailableError(`Loading limits failed: ${(e as Error).message}`);
      });
  }

  async setUserLimits(sub: string, limits: Limits): Promise<Limits> {
    await this.repo.save(sub, limits);
    this.users.delete(sub);
    return limits;
  }

  private entry(scope: string, kind: LimitKind, now: number, by: number) {
    const w = windowOf(kind, now);
    return { key: `byok:rl:${scope}:${kind}:${w.id}`, by, ttlMs: w.ms };
  }

  private async admit(
    scope: string,
    limits: Limits,
    who: 'user' | 'key',
    estimate: Estimate | undefined,
  ): Promise<Admitted> {
    if (isUnlimited(limits)) return {};
    const now = Date.now();
    const over = (kind: LimitKind, limit: number): Admitted => ({
      over: { scope: who, kind, limit, resetsAt: windowOf(kind, now).resetsAt },
    });
    const windows = (['tpm', 'tpd', 'budget'] as const).flatMap((kind) => {
      const limit = limitOf(limits, kind);
      return limit === null ? [] : [{ kind, limit, ...this.entry(scope, kind, now, 0) }];
    });
    let reservation: Reservation | undefined;
    if (estimate && windows.length) {
      if (windows.some((w) => w.kind === 'budget') && estimate.costUsd === null)
        throw unpriced(who, estimate.model);
      reservation = {
        tokens: estimate.tokens,
        costMicros: Math.round((estimate.costUsd ?? 0) * 1_000_000),
        entries: windows.map((w) => ({ key: w.key, ttlMs: w.ttlMs, budget: w.kind === 'budget' })),
      };
      const r = reservation;
      const by = r.entries.map((e) => (e.budget ? r.costMicros : r.tokens));
      const values = await this.counters.add(r.entries.map((e, i) => ({ ...e, by: by[i] })));
      // Admitted while the window was not spent before this request's own reservation.
      const spent = windows.findIndex((w, i) => values[i] - by[i] >= w.limit);
      if (spent >= 0) {
        await this.settle(r, 0, 0);
        return over(windows[spent].kind, windows[spent].limit);
      }
    } else if (windows.length) {
      // Nothing to reserve (a request that uses no tokens): refused once a window is spent.
      const values = await this.counters.get(windows.map((w) => w.key));
      const spent = windows.findIndex((w, i) => values[i] >= w.limit);
      if (spent >= 0) return over(windows[spent].kind, windows[spent].limit);
    }
    const rpm = limits.requestsPerMinute;
    if (rpm !== null) {
      const [count] = await this.counters.add([this.entry(scope, 'rpm', now, 1)]);
      if (count > rpm) {
        if (reservation) await this.settle(reservation, 0, 0);
        return over('rpm', rpm);
      }
    }
    return { reservation };
  }
}

function unpriced(who: 'user' | 'key', model: string | undefined): AppError {
  return new AppError(
    'model_unpriced',
    `${model ? `Model "${model}" has` : 'This request names no model, so it has'} no price, and a monthly budget applies to this ${who}: name a priced model, or ask the operator to add it to the price table (PRICES_FILE) or to set PRICE_FALLBACK_USD_PER_MTOK`,
    { details: { model: model ?? null } },
  );
}

const countsTokens = (l: Limits): boolean =>
  l.tokensPerMinute !== null || l.tokensPerDay !== null || l.monthlyBudgetUsd !== null;

/** The 429 in the OpenAI envelope, with headers that say which limit and when it resets. */
export function rateLimited(e: Exceeded): AppError {
  const seconds = Math.max(1, Math.ceil((e.resetsAt - Date.now()) / 1000));
  const limit = e.kind === 'budget' ? `${e.limit / 1_000_000} USD` : String(e.limit);
  return new AppError(
    'rate_limited',
    `The ${e.scope} ${NAMES[e.kind].replace(/-/g, ' ')} limit (${limit}) is spent; it resets in ${seconds} s`,
    {
      headers: {
        'retry-after': String(seconds),
        'x-byok-ratelimit-limit': String(e.kind === 'budget' ? e.limit / 1_000_000 : e.limit),
        'x-byok-ratelimit-remaining': '0',
        'x-byok-ratelimit-reset': String(seconds),
        'x-byok-ratelimit-scope': `${e.scope}:${NAMES[e.kind]}`,
      },
    },
  );
}
