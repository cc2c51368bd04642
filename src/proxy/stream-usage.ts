/**
 * Usage of OpenAI-style chat streams. Those providers report tokens in a stream only when the
 * client sets `stream_options.include_usage`, which most clients do not: the proxy asks on their
 * behalf (so every stream is counted against usage and limits) and takes the extra usage-only
 * chunk out again before the client sees it. A client that asked itself gets it as before.
 */

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The body with `stream_options.include_usage: true` added, for a streaming request that did not
 * ask for usage; undefined when nothing needs to change (not a stream, or usage already asked).
 */
export function askForStreamUsage(body: Buffer): Buffer | undefined {
  if (!body.includes('"stream"')) return undefined; // the common, non-streaming case: no parse
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined; // the provider says what is wrong with it
  }
  if (!isObject(v) || v.stream !== true) return undefined;
  const options = isObject(v.stream_options) ? v.stream_options : {};
  if (options.include_usage === true) return undefined;
  return Buffer.from(JSON.stringify({ ...v, stream_options: { ...options, include_usage: true } }));
}

const LF2 = Buffer.from('\n\n');
const CRLF2 = Buffer.from('\r\n\r\n');

/** The usage-only chunk of an OpenAI-style stream: `choices: []` and a `usage` object. */
function isUsageOnly(event: Buffer): boolean {
  const text = event.toString('utf8');
  if (!text.includes('"usage"')) return false;
  const data = text
    .split(/\r?\n/)
    .filter((l) => l.startsWith('data:'))
    .map((l) => l.slice(5).trim())
    .join('\n');
  try {
    const v = JSON.parse(data) as { choices?: unknown; usage?: unknown };
    return Array.isArray(v.choices) && v.choices.length === 0 && !!v.usage;
  } catch {
    return false;
  }
}

/**
 * Takes out of an SSE stream the usage-only chunk that the proxy asked for on the client's
 * behalf (`stream_options.include_usage`), so that usage is counted but a client that reads
 * `choices[0]` of every chunk never sees it. Complete events pass at once; a partial one waits
 * for its end (a client cannot act on half an event anyway).
 */
export class UsageChunkFilter {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer {
    const buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const out: Buffer[] = [];
    let start = 0;
    for (;;) {
      const lf = buf.indexOf(LF2, start);
      const crlf = buf.indexOf(CRLF2, start);
      const at = lf < 0 ? crlf : crlf < 0 ? lf : Math.min(lf, crlf);
      if (at < 0) break;
      const end = at + (at === crlf ? CRLF2.length : LF2.length);
      const event = buf.subarray(start, end);
      if (!isUsageOnly(event)) out.push(event);
      start = end;
    }
    this.pending = buf.subarray(start);
    return out.length === 1 ? out[0] : Buffer.concat(out);
  }

  /** Whatever was left after the last complete event (an unterminated one), as is. */
  flush(): Buffer {
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    return rest;
  }
}
