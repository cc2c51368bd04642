import { Inject, Injectable } from '@nestjs/common';
import { Breaker } from '../common/breaker';
import { DEPENDENCY_TIMING, ResilientCache } from '../common/resilient-cache';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

/**
 * The metadata database's one circuit breaker: the key, token and limit caches share it, and
 * every /readyz probe feeds it, so one failure pauses every reload and one success resumes them.
 */
@Injectable()
export class DatabaseBreaker extends Breaker {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    super(DEPENDENCY_TIMING);
  }

  /**
   * A cache of values read from the database on the request path: fresh for KEY_CACHE_TTL_MS,
   * served stale for up to KEY_STALE_MAX_MS, behind this breaker.
   */
  cache<V>(maxEntries: number): ResilientCache<V> {
    return new ResilientCache<V>({
      freshMs: this.config.keyCacheTtlMs,
      staleMaxMs: this.config.keyStaleMaxMs,
      ...DEPENDENCY_TIMING,
      breaker: this,
      maxEntries,
    });
  }
}
