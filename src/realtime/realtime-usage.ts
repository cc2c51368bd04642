import type { TokenUsage } from '../proxy/usage-sniffer';

const MARK = Buffer.from('"response.done"');

/** What one finished realtime response reported. */
export interface RealtimeResponse extends TokenUsage {
  /** The response's own status (`completed`, `cancelled`, `failed`, `incomplete`). */
  status?: string;
}

const count = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined;

/**
 * The usage of a server event when it is a `response.done` (OpenAI Realtime: `response.usage`
 * with `input_tokens` and `output_tokens`), else undefined. Only messages that mention the event
 * type are parsed, so audio deltas pass untouched.
 */
export function responseDone(message: Buffer): RealtimeResponse | undefined {
  if (message.indexOf(MARK) < 0) return undefined;
  let event: unknown;
  try {
    event = JSON.parse(message.toString('utf8'));
  } catch {
    return undefined;
  }
  const e = event as { type?: unknown; response?: { status?: unknown; usage?: unknown } };
  if (e?.type !== 'response.done') return undefined;
  const usage = (e.response?.usage ?? {}) as Record<string, unknown>;
  return {
    promptTokens: count(usage.input_tokens),
    completionTokens: count(usage.output_tokens),
    status: typeof e.response?.status === 'string' ? e.response.status : undefined,
  };
}
