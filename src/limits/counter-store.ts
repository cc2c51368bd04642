import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';

export const COUNTER_STORE = Symbol('COUNTER_STORE');

export interface CounterAdd {
  key: string;
  by: number;
  ttlMs: number;
}

/** Fixed-window counters: in memory per replica, or in Redis shared by every replica. */
export interface CounterStore {
  /** Adds to each counter (created with its window's TTL); returns the new values. */
  add(entries: CounterAdd[]): Promise<number[]>;
  get(keys: string[]): Promise<number[]>;
  /** For /readyz: whether the counters are shared, and why not when Redis is away. */
  status(): { mode: 'memory' | 'redis' | 'memory-fallback'; detail?: string };
}

export class MemoryCounterStore implements CounterStore {
  private readonly counters = new Map<string, { value: number; expires: number }>();
  private sweptAt = 0;

  add(entries: CounterAdd[]): Promise<number[]> {
    const now = Date.now();
    this.sweep(now);
    return Promise.resolve(
      entries.map(({ key, by, ttlMs }) => {
        let c = this.counters.get(key);
        if (!c || c.expires <= now)
          this.counters.set(key, (c = { value: 0, expires: now + ttlMs }));
        c.value += by;
        return c.value;
      }),
    );
  }

  get(keys: string[]): Promise<number[]> {
    const now = Date.now();
    return Promise.resolve(
      keys.map((k) => {
        const c = this.counters.get(k);
        return c && c.expires > now ? c.value : 0;
      }),
    );
  }

  status() {
    return { mode: 'memory' as const };
  }

  private sweep(now: number): void {
    if (now - this.sweptAt < 60_000) return;
    this.sweptAt = now;
    for (const [k, c] of this.counters) if (c.expires <= now) this.counters.delete(k);
  }
}

/**
 * Counters in Redis so N replicas enforce one limit. When Redis cannot be reached the proxy
 * keeps serving with per-replica counters (logged, and shown in /readyz detail) rather than
 * failing requests or letting them through unlimited.
 */
export class RedisCounterStore implements CounterStore {
  private readonly logger = new Logger('Limits');
  private readonly fallback = new MemoryCounterStore();
  private down?: string;

  constructor(private readonly redis: Redis) {}

  async add(entries: CounterAdd[]): Promise<number[]> {
    if (!entries.length) return [];
    try {
      const p = this.redis.pipeline();
      for (const { key, by, ttlMs } of entries) {
        p.set(key, 0, 'PX', ttlMs, 'NX');
        p.incrby(key, by);
      }
      const out = (await p.exec()) ?? [];
      // A pipeline resolves even when its commands failed: each reply carries its own error.
      const totals = entries.map((_, i) => {
        const [err, value] = out[i * 2 + 1] ?? [new Error('no reply'), 0];
        if (err) throw err;
        return Number(value);
      });
      this.up();
      return totals;
    } catch (e) {
      this.fail(e);
      return this.fallback.add(entries);
    }
  }

  async get(keys: string[]): Promise<number[]> {
    if (!keys.length) return [];
    try {
      const values = await this.redis.mget(...keys);
      this.up();
      return values.map((v) => Number(v ?? 0));
    } catch (e) {
      this.fail(e);
      return this.fallback.get(keys);
    }
  }

  status() {
    return this.down
      ? {
          mode: 'memory-fallback' as const,
          detail: `Redis unavailable (${this.down}): limits are per replica`,
        }
      : { mode: 'redis' as const };
  }

  private fail(e: unknown): void {
    const reason = (e as Error).message;
    if (!this.down)
      this.logger.warn(`Redis unavailable (${reason}); limits are per replica until it is back`);
    this.down = reason;
  }

  private up(): void {
    if (!this.down) return;
    this.logger.log('Redis is back; limits are shared again');
    this.down = undefined;
  }
}
