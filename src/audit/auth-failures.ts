import type { AuditDetail } from './audit.types';

/** One refused credential, as the audit log sees it. */
export interface AuthFailure {
  ip: string | null;
  reason: string;
  credential: string;
  path: string;
  requestId: string | null;
}

/** Failed authentications from one address for one reason in one window: one audit row. */
export interface AuthFailureWindow {
  ip: string | null;
  reason: string;
  /** The first request of the window (its request id, path and credential kind are kept). */
  first: AuthFailure;
  firstAt: Date;
  lastAt: Date;
  count: number;
}

export interface AuthFailureOptions {
  /** How long failures from one (ip, reason) are gathered into one row. */
  windowMs: number;
  /** Open windows at most; failures past that share one overflow window (ip null). */
  maxWindows: number;
  now?: () => number;
}

/** The reason of the overflow window, used when maxWindows are already open. */
export const OVERFLOW_REASON = 'Too many distinct sources at once: aggregated';

/**
 * Gathers failed authentications per (client address, reason) over a fixed window, so a flood of
 * junk credentials costs one audit row per source and reason per window instead of one per
 * request (audit rows are append-only and can never be deleted). The number of open windows is
 * bounded too: past `maxWindows`, every new (ip, reason) pair is counted in one overflow window.
 */
export class AuthFailureAggregator {
  private readonly open = new Map<string, AuthFailureWindow>();
  private readonly now: () => number;

  constructor(private readonly o: AuthFailureOptions) {
    this.now = o.now ?? Date.now;
  }

  get size(): number {
    return this.open.size;
  }

  /** Counts one failure; returns the window it closed, when its own had run out. */
  add(f: AuthFailure): AuthFailureWindow | undefined {
    const at = this.now();
    let id = `${f.ip ?? ''}\u0000${f.reason}`;
    let w = this.open.get(id);
    let closed: AuthFailureWindow | undefined;
    if (w && at - w.firstAt.getTime() >= this.o.windowMs) {
      closed = w;
      this.open.delete(id);
      w = undefined;
    }
    if (!w && this.open.size >= this.o.maxWindows) {
      id = '\u0000overflow';
      w = this.open.get(id);
    }
    if (w) {
      w.count++;
      w.lastAt = new Date(at);
      return closed;
    }
    const overflow = id === '\u0000overflow';
    this.open.set(id, {
      ip: overflow ? null : f.ip,
      reason: overflow ? OVERFLOW_REASON : f.reason,
      first: f,
      firstAt: new Date(at),
      lastAt: new Date(at),
      count: 1,
    });
    return closed;
  }

  /** Closes and returns the windows that have run out (all of them with `all`). */
  take(all = false): AuthFailureWindow[] {
    const at = this.now();
    const out: AuthFailureWindow[] = [];
    for (const [id, w] of this.open)
      if (all || at - w.firstAt.getTime() >= this.o.windowMs) {
        out.push(w);
        this.open.delete(id);
      }
    return out;
  }
}

/** A closed window as audit detail: the reason, how many, over what span, and the first's kind. */
export function windowDetail(w: AuthFailureWindow): AuditDetail {
  return {
    reason: w.reason,
    count: w.count,
    firstAt: w.firstAt.toISOString(),
    lastAt: w.lastAt.toISOString(),
    credential: w.first.credential,
    path: w.first.path,
  };
}
