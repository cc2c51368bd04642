import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '../common/errors/app-error';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { COUNTER_STORE, type CounterStore } from './counter-store';
import { isUnlimited, type LimitKind, limitOf, type Limits, NO_LIMITS, windowOf } from './limits';
import { LimitsRepository } from './limits.repository';

const KINDS: LimitKind[] = ['rpm', 'tpm', 'tpd', 'budget'];
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

/** A spent limit: which, and when it resets. */
export interface Exceeded {
  scope: 'user' | 'key';
  kind: LimitKind;
  limit: number;
  resetsAt: number;
}

/**
 * Per-user and per-key limits on fixed windows: requests per minute (counted on admission),
 * tokens per minute and per day and a monthly budget (counted from what responses report, so a
 * request is refused once the window is spent). Counters live in memory or in Redis.
 */
@Injectable()
export class LimitsService {
  private readonly users = new Map<string, { limits: Limits; expires: number }>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(COUNTER_STORE) private readonly counters: CounterStore,
    private readonly repo: LimitsRepository,
    private readonly metrics: MetricsService,
  ) {}

  /** Counts the request against the caller's limits; throws 429 rate_limited when one is spent. */
  async admitUser(sub: string): Promise<void> {
    const limits = await this.userLimits(sub);
    const over = await this.admit(`u:${sub}`, limits, 'user');
    if (over) {
      this.metrics.rateLimited('user', over.kind);
      throw rateLimited(over);
    }
  }

  /** Counts the request against a key's own limits; returns the spent one, if any. */
  admitKey(c: LimitedKey): Promise<Exceeded | undefined> {
    if (!c.keyId || !c.limits) return Promise.resolve(undefined);
    return this.admit(`k:${c.keyId}`, c.limits, 'key').then((over) => {
      if (over) this.metrics.rateLimited('key', over.kind);
      return over;
    });
  }

  /** Adds what a response used to the token and budget windows of the user and the key. */
  async record(sub: string, c: LimitedKey | undefined, tokens: number, costUsd: number | null) {
    if (tokens <= 0 && !costUsd) return;
    // Only scopes with a token or budget limit are counted: the rest would be work for nothing.
    const scopes: string[] = [];
    if (countsTokens(await this.userLimits(sub))) scopes.push(`u:${sub}`);
    if (c?.keyId && c.limits && countsTokens(c.limits)) scopes.push(`k:${c.keyId}`);
    if (!scopes.length) return;
    const now = Date.now();
    await this.counters.add(
      scopes.flatMap((s) => [
        ...(['tpm', 'tpd'] as const).map((k) => this.entry(s, k, now, tokens)),
        this.entry(s, 'budget', now, Math.round((costUsd ?? 0) * 1_000_000)),
      ]),
    );
  }

  async userLimits(sub: string): Promise<Limits> {
    const now = Date.now();
    const hit = this.users.get(sub);
    if (hit && hit.expires > now) return hit.limits;
    const stored = await this.repo.findBySub(sub);
    const limits = stored ? { ...NO_LIMITS, ...stored } : this.config.userLimits;
    this.users.set(sub, { limits, expires: now + this.config.keyCacheTtlMs });
    return limits;
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

  private async admit(scope: string, limits: Limits, who: 'user' | 'key') {
    if (isUnlimited(limits)) return undefined;
    const now = Date.now();
    const spent = KINDS.filter((k) => k !== 'rpm' && limitOf(limits, k) !== null);
    const values = await this.counters.get(spent.map((k) => this.entry(scope, k, now, 0).key));
    for (const [i, kind] of spent.entries()) {
      const limit = limitOf(limits, kind)!;
      if (values[i] >= limit)
        return { scope: who, kind, limit, resetsAt: windowOf(kind, now).resetsAt };
    }
    const rpm = limits.requestsPerMinute;
    if (rpm === null) return undefined;
    const [count] = await this.counters.add([this.entry(scope, 'rpm', now, 1)]);
    if (count > rpm)
      return {
        scope: who,
        kind: 'rpm' as const,
        limit: rpm,
        resetsAt: windowOf('rpm', now).resetsAt,
      };
    return undefined;
  }
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
