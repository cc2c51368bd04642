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

/** Seen in an event's first bytes, it cannot be the usage-only chunk: `choices` is not empty. */
const HAS_CHOICE = /"choices"\s*:\s*\[\s*[^\s\]]/;

/** Where the first event terminator (blank line) in `buf` from `from` ends, or -1. */
function eventEnd(buf: Buffer, from: number): number {
  const lf = buf.indexOf(LF2, from);
  const crlf = buf.indexOf(CRLF2, from);
  if (lf < 0 && crlf < 0) return -1;
  return lf >= 0 && (crlf < 0 || lf < crlf) ? lf + LF2.length : crlf + CRLF2.length;
}

/**
 * Takes out of an SSE stream the usage-only chunk that the proxy asked for on the client's
 * behalf (`stream_options.include_usage`), so that usage is counted but a client that reads
 * `choices[0]` of every chunk never sees it. Complete events pass at once, and so does the start
 * of an event that already shows a choice (every content chunk); only an unfinished event that
 * could still be the usage-only one waits for its end.
 */
export class UsageChunkFilter {
  /** The start of an event not yet known to be kept. */
  private pending: Buffer = Buffer.alloc(0);
  /** Inside an event already being passed on: its rest goes out as it comes. */
  private passing = false;
  /** The last bytes passed of that event, to see a terminator split across chunks. */
  private passed: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer {
    const out: Buffer[] = [];
    let buf = chunk;
    if (this.passing) {
      const seen = Buffer.concat([this.passed, chunk]);
      const end = eventEnd(seen, 0);
      if (end < 0) {
        this.passed = seen.subarray(Math.max(0, seen.length - 3));
        return chunk;
      }
      const upTo = end - this.passed.length; // where, in `chunk`, the event ends
      out.push(chunk.subarray(0, upTo));
      this.passing = false;
      this.passed = Buffer.alloc(0);
      buf = chunk.subarray(upTo);
    } else if (this.pending.length) {
      buf = Buffer.concat([this.pending, chunk]);
    }
    let start = 0;
    for (let end = eventEnd(buf, start); end >= 0; end = eventEnd(buf, start)) {
      const event = buf.subarray(start, end);
      if (!isUsageOnly(event)) out.push(event);
      start = end;
    }
    const rest = buf.subarray(start);
    if (rest.length && HAS_CHOICE.test(rest.toString('utf8'))) {
      out.push(rest);
      this.passing = true;
      this.passed = Buffer.from(rest.subarray(Math.max(0, rest.length - 3)));
      this.pending = Buffer.alloc(0);
    } else {
      this.pending = Buffer.from(rest);
    }
    return out.length === 1 ? out[0] : Buffer.concat(out);
  }

  /** Whatever was left after the last complete event (an unterminated one), as is. */
  flush(): Buffer {
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    this.passing = false;
    this.passed = Buffer.alloc(0);
    return rest;
  }
}
