/** Limits for a user or a key; null (or absent) means no limit of that kind. */
export interface Limits {
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
  tokensPerDay: number | null;
  monthlyBudgetUsd: number | null;
}

export const NO_LIMITS: Limits = {
  requestsPerMinute: null,
  tokensPerMinute: null,
  tokensPerDay: null,
  monthlyBudgetUsd: null,
};

export type LimitKind = 'rpm' | 'tpm' | 'tpd' | 'budget';

const MINUTE = 60_000;
const DAY = 86_400_000;

/** A fixed window: its id (part of the counter name), its length and when it resets. */
export interface Window {
  id: string;
  ms: number;
  resetsAt: number;
}

export function windowOf(kind: LimitKind, now: number): Window {
  if (kind === 'rpm' || kind === 'tpm') {
    const start = now - (now % MINUTE);
    return { id: `m${start / MINUTE}`, ms: MINUTE, resetsAt: start + MINUTE };
  }
  if (kind === 'tpd') {
    const start = now - (now % DAY);
    return { id: `d${start / DAY}`, ms: DAY, resetsAt: start + DAY };
  }
  const d = new Date(now);
  const next = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  return {
    id: `M${d.getUTCFullYear()}-${d.getUTCMonth() + 1}`,
    ms: next - now + MINUTE,
    resetsAt: next,
  };
}

export function limitOf(l: Limits, kind: LimitKind): number | null {
  switch (kind) {
    case 'rpm':
      return l.requestsPerMinute;
    case 'tpm':
      return l.tokensPerMinute;
    case 'tpd':
      return l.tokensPerDay;
    case 'budget':
      // Counted in micro-dollars so the counters stay integers.
      return l.monthlyBudgetUsd === null ? null : Math.round(l.monthlyBudgetUsd * 1_000_000);
  }
}

export function isUnlimited(l: Limits): boolean {
  return (
    l.requestsPerMinute === null &&
    l.tokensPerMinute === null &&
    l.tokensPerDay === null &&
    l.monthlyBudgetUsd === null
  );
}
