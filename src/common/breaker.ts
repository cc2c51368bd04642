export interface BreakerOptions {
  /** After a failure no call is tried for this long, doubling per failure to `maxBackoffMs`. */
  minBackoffMs: number;
  maxBackoffMs: number;
  now?: () => number;
}

/**
 * A small circuit breaker for one dependency, shared by everything that calls it: once a call
 * fails, callers that can do without (a stale value, a fast 503) stop trying for a backoff
 * period, so a dead database or secret store never adds its timeout to every request. Any
 * success closes it at once, wherever it was seen (a cache's reload, a readiness probe).
 */
export class Breaker {
  private retryAt = 0;
  private backoffMs = 0;
  private error: Error | undefined;
  private readonly now: () => number;

  constructor(private readonly o: BreakerOptions) {
    this.now = o.now ?? Date.now;
  }

  /** Whether the last call failed. */
  get failing(): boolean {
    return this.error !== undefined;
  }

  /** The last failure, while failing. */
  get lastError(): Error | undefined {
    return this.error;
  }

  /** Whether a call may be tried now: closed, or the pause after the last failure is over. */
  get allows(): boolean {
    return this.now() >= this.retryAt;
  }

  succeeded(): void {
    this.backoffMs = 0;
    this.retryAt = 0;
    this.error = undefined;
  }

  failed(err: unknown): void {
    this.backoffMs = Math.min(
      Math.max(this.backoffMs * 2, this.o.minBackoffMs),
      this.o.maxBackoffMs,
    );
    this.retryAt = this.now() + this.backoffMs;
    this.error = err instanceof Error ? err : new Error(String(err));
  }
}
