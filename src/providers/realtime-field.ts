import { readHeaders } from './headers-field';

/** Which native paths of a provider may be upgraded to a WebSocket, and what to add when they are. */
export interface RealtimeSpec {
  /** Paths relative to baseUrl (`/v1/realtime`), matched exactly; the query is free. */
  paths: readonly string[];
  /** Headers the upstream handshake needs (OpenAI's `openai-beta: realtime=v1`). */
  headers: Readonly<Record<string, string>>;
}

const PATH = /^(\/[A-Za-z0-9._~!$&'()*+,;=:@-]+)+$/;
const DOT_SEGMENT = /\/\.\.?(\/|$)/;
// The handshake's own headers and the credential are the proxy's to set.
const RESERVED =
  /^(host|connection|upgrade|authorization|x-api-key|api-key|cookie|sec-websocket-.*)$/;

/**
 * The `realtime` field of a provider record: `{ paths: [...], headers?: {...} }`; undefined when
 * the provider has none (no path of it may upgrade). Problems go to `fail(field, message)`.
 */
export function readRealtime(
  raw: unknown,
  fail: (field: string, message: string) => void,
): RealtimeSpec | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    fail('realtime', 'must be a mapping {paths: [/v1/realtime], headers?: {...}}');
    return undefined;
  }
  const { paths, headers = {}, ...rest } = raw as Record<string, unknown>;
  for (const key of Object.keys(rest))
    fail(`realtime.${key}`, 'is not a known field (paths, headers)');
  const out: RealtimeSpec = { paths: [], headers: {} };
  if (!Array.isArray(paths) || !paths.length)
    fail('realtime.paths', 'must be a non-empty list of paths relative to baseUrl');
  else
    for (const p of paths as unknown[]) {
      if (typeof p !== 'string' || !PATH.test(p) || DOT_SEGMENT.test(p))
        fail('realtime.paths', `${JSON.stringify(p)} must be a plain path starting with "/"`);
      else (out.paths as string[]).push(p);
    }
  out.headers = readHeaders(headers, 'realtime.headers', (h) => RESERVED.test(h), fail);
  return Object.freeze(out);
}
