import { Breaker } from './breaker';

export interface ResilientCacheOptions {
  /** How long a loaded value is served without asking again (KEY_CACHE_TTL_MS). */
  freshMs: number;
  /** How long after its last successful load a value may still be served (KEY_STALE_MAX_MS). */
  staleMaxMs: number;
  /** How long a request that could be served stale waits for a reload before it is. */
  waitMs: number;
  /** A load slower than this has failed. */
  loadTimeoutMs: number;
  /** After a failed load no load is tried for this long, doubling to `maxBackoffMs`. */
  minBackoffMs: number;
  maxBackoffMs: number;
  /**
   * The dependency's breaker, when other caches or probes of the same dependency share it (a
   * failure seen by one pauses all; a success seen by any resumes all). Its own otherwise.
   */
  breaker?: Breaker;
  /** Past this many entries the oldest is dropped (values are per user or per credential). */
  maxEntries?: number;
  now?: () => number;
}

/**
 * For values read from the database or the secret store on the request path: a request that
 * could be served stale waits at most 250 ms for a reload, a load has 3 s, and after a failure
 * loads pause for 1 s, doubling to 5 s (so a dependency that is back is used again within
 * seconds even when nothing else closes its breaker).
 */
export const DEPENDENCY_TIMING = {
  waitMs: 250,
  loadTimeoutMs: 3000,
  minBackoffMs: 1000,
  maxBackoffMs: 5000,
} as const;

interface Entry<V> {
  value?: V;
  loadedAt: number;
  freshUntil: number;
  loading?: Promise<V>;
}

class LoadTimeout extends Error {
  override name = 'LoadTimeout';
}

/**
 * A cache for values loaded from systems that may go away (a database, a secret store). Fresh
 * values are a Map lookup. When one expires it is reloaded, and if the reload fails or is slow,
 * the last value loaded keeps being served for up to `staleMaxMs`. A failed load opens a small
 * circuit breaker: for a backoff period no request tries (or waits for) a load at all, so a dead
 * dependency never adds its timeout to every request; a value never loaded fails fast instead.
 */
export class ResilientCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly breaker: Breaker;
  private readonly now: () => number;

  constructor(private readonly o: ResilientCacheOptions) {
    this.now = o.now ?? Date.now;
    this.breaker = o.breaker ?? new Breaker(o);
  }

  /** Whether the last load (of any cache sharing the breaker) failed (for /readyz). */
  get failing(): boolean {
    return this.breaker.failing;
  }

  /** How many values are held, fresh or stale (for /readyz). */
  get size(): number {
    return this.entries.size;
  }

  get(key: string, load: (previous: V | undefined) => Promise<V>): Promise<V> {
    const now = this.now();
    let e = this.entries.get(key);
    if (e?.value !== undefined && e.freshUntil > now) return Promise.resolve(e.value);
    const stale =
      e?.value !== undefined && now - e.loadedAt <= this.o.staleMaxMs ? e.value : undefined;
    if (!this.breaker.allows)
      return stale !== undefined
        ? Promise.resolve(stale)
        : Promise.reject(this.breaker.lastError ?? new Error('loads are paused'));
    if (e?.loading) return stale !== undefined ? Promise.resolve(stale) : e.loading;
    if (!e) {
      if (this.entries.size >= (this.o.maxEntries ?? Infinity))
        this.entries.delete(this.entries.keys().next().value as string);
      this.entries.set(key, (e = { loadedAt: 0, freshUntil: 0 }));
    }
    const loading = this.load(key, e, load);
    if (stale === undefined) return loading;
    // Wait briefly for the fresh value; past that (or on failure) the known one serves.
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<V>((resolve) => {
      timer = setTimeout(() => resolve(stale), this.o.waitMs);
    });
    return Promise.race([loading, waited])
      .catch(() => stale)
      .finally(() => clearTimeout(timer));
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  /** Drops every entry whose value matches; O(n), for rare events. */
  deleteWhere(match: (value: V) => boolean): void {
    for (const [key, e] of this.entries)
      if (e.value !== undefined && match(e.value)) this.entries.delete(key);
  }

  private load(
    key: string,
    e: Entry<V>,
    load: (previous: V | undefined) => Promise<V>,
  ): Promise<V> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new LoadTimeout(`no answer in ${this.o.loadTimeoutMs} ms`)),
        this.o.loadTimeoutMs,
      );
    });
    const loading = Promise.race([load(e.value), timeout]).then(
      (value) => {
        const at = this.now();
        // Not kept when the entry was dropped meanwhile (a write invalidated it).
        if (this.entries.get(key) === e)
          Object.assign(e, { value, loadedAt: at, freshUntil: at + this.o.freshMs });
        this.breaker.succeeded();
        return value;
      },
      (err: unknown) => {
        this.breaker.failed(err);
        throw err;
      },
    );
    e.loading = loading.finally(() => {
      clearTimeout(timer);
      e.loading = undefined;
    });
    // Nobody may be waiting (a stale value was served): the failure is kept, not thrown away.
    e.loading.catch(() => undefined);
    return e.loading;
  }
}
