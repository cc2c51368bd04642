import type { Caller } from '../auth/caller';
import type { KeyCandidate } from '../keys/key-resolver';
import type { Estimate, Reservation } from '../limits/limits.service';
import type { ProxyTrace } from '../tracing/proxy-trace';
import type { UsageEvent } from '../usage/usage-event';
import type { ProxyTarget } from './proxy-target';
import type { TokenUsage } from './usage-sniffer';

/** What the proxy knows of one request as it goes: filled in step by step. */
export interface Exchange {
  requestId: string;
  /** performance.now() when the request arrived. */
  started: number;
  caller?: Caller;
  target?: ProxyTarget;
  /** The key of the attempt being made, or of the one that answered. */
  candidate?: KeyCandidate;
  /** What admission reserved against token and budget limits (the caller's, and keys'). */
  reservations: { reservation: Reservation; keyId?: string }[];
  /** The most the request may use, once admission needed it. */
  estimate?: Estimate;
  /** Its spans, while tracing is on. */
  trace?: ProxyTrace;
}

/** How an exchange ended, as the relay (or the error path) saw it. */
export interface ExchangeOutcome {
  status: number;
  errorType?: string;
  usage?: TokenUsage;
  /** performance.now() when the first body chunk arrived. */
  firstChunkAt?: number;
  model?: string;
}

/**
 * The flat usage event for an exchange that got as far as a caller and a provider; requests
 * refused before that (no credential, unknown provider) are nobody's usage.
 */
export function usageEventOf(ex: Exchange, o: ExchangeOutcome): UsageEvent | undefined {
  const { caller, target, candidate: c } = ex;
  if (!caller || !target) return undefined;
  return {
    requestId: ex.requestId,
    callerSub: caller.sub,
    provider: target.provider.id,
    model: target.model ?? o.model,
    operation: target.operation,
    keySource: c?.source ?? 'none',
    keyId: c?.keyId,
    keyOwnerId: c?.ownerId ?? '',
    status: o.status,
    errorType: o.errorType,
    durationMs: performance.now() - ex.started,
    firstChunkMs: o.firstChunkAt === undefined ? undefined : o.firstChunkAt - ex.started,
    promptTokens: o.usage?.promptTokens,
    completionTokens: o.usage?.completionTokens,
    traceId: ex.trace?.sampledTraceId,
    // The caller's and the serving key's reservations settle to what was used; keys that were
    // tried and failed over used nothing.
    reservations: ex.reservations.map(({ reservation, keyId }) => ({
      reservation,
      served: keyId === undefined || keyId === c?.keyId,
    })),
  };
}
