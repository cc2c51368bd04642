import type { Reservation } from '../limits/limits.service';

/**
 * One proxied exchange as it ended, flat: the proxy emits it once per request (answered, failed
 * or cut short) and UsageRecorder counts it for usage rows, cost, metrics and limits.
 */
export interface UsageEvent {
  requestId: string;
  callerSub: string;
  provider: string;
  /** The model as sent upstream, or as the response named it. */
  model?: string;
  /** OpenTelemetry GenAI operation name (chat, embeddings, …). */
  operation: string;
  /** Whose key served it; 'none' when the request failed before a key was chosen. */
  keySource: 'user' | 'org' | 'env' | 'none';
  keyId?: string;
  /** The user or organisation that owns the key ('' for the operator's key or none). */
  keyOwnerId: string;
  /** The status the client got, and why it failed when it did (an error code or undici's). */
  status: number;
  errorType?: string;
  /** From the request's arrival to the end of the exchange, and to the first body chunk. */
  durationMs: number;
  firstChunkMs?: number;
  promptTokens?: number;
  completionTokens?: number;
  /** The request's trace, when it was traced and sampled (the latency metrics' exemplar). */
  traceId?: string;
  /** Admission's reservations to settle: to the usage when `served`, else to nothing. */
  reservations: { reservation: Reservation; served: boolean }[];
}
