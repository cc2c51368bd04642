import type { SecretValue } from '../common/secret-value';

/** A raw key to hide and what to show instead (`…abcd`, see keyHint). */
export interface ScrubSecret {
  value: string;
  hint: string;
}

/** Characters some JSON encoder writes as an escape: a key without any has one spelling. */
// eslint-disable-next-line no-control-regex -- control characters are among them
const ESCAPED = /["\\/<>&\u0000-\u001f\ud800-\udfff]/;

/**
 * Every way a key may appear in a response: as is, and as a provider echoing it inside a JSON
 * string writes it: JSON-escaped (`"` → `\"`, `\` → `\\`, control characters; only an operator's
 * env key can hold those, saved keys cannot), with `/` escaped as `\/` (PHP, some Java and
 * Ruby encoders), and with `<`, `>`, `&` as `\u003c`, `\u003e`, `\u0026` (Go's encoding/json).
 */
export function spellingsOf(value: string): string[] {
  if (!ESCAPED.test(value)) return [value]; // the usual key: one spelling (hot path)
  const json = JSON.stringify(value).slice(1, -1);
  const all = [
    value,
    json,
    json.replaceAll('/', '\\/'),
    json.replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`),
  ];
  return [...new Set(all)];
}

/** A key an exchange sent upstream: everything the answer must be scrubbed of. */
export interface TriedKey {
  secret: SecretValue;
  hint: string;
}

/**
 * What to scrub for the keys an exchange tried: every secret part of each credential (the whole
 * value, an AWS secret key, a private key, minted access tokens), each shown as the key's hint.
 */
export const secretsOf = (keys: readonly TriedKey[]): ScrubSecret[] =>
  keys.flatMap((k) => k.secret.parts.map((value) => ({ value, hint: k.hint })));

/** A key's patterns, kept with the key while it stays cached: built again when a part is added. */
interface KeyPatterns {
  parts: number;
  hint: string;
  patterns: Pattern[];
  /** Every spelling, as text: what a response header is searched for. */
  spellings: string[];
}
const byKey = new WeakMap<SecretValue, KeyPatterns>();

function patternsOf(k: TriedKey): KeyPatterns {
  const parts = k.secret.parts;
  let cached = byKey.get(k.secret);
  if (!cached || cached.parts !== parts.length || cached.hint !== k.hint) {
    const patterns = toPatterns(parts.map((value) => ({ value, hint: k.hint })));
    const spellings = patterns.map((p) => p.bytes.toString('utf8'));
    cached = { parts: parts.length, hint: k.hint, patterns, spellings };
    byKey.set(k.secret, cached);
  }
  return cached;
}

/** Every spelling of every secret part of the keys an exchange tried (see spellingsOf). */
export const spellingsOfKeys = (keys: readonly TriedKey[]): string[] =>
  keys.length === 1 ? patternsOf(keys[0]).spellings : keys.flatMap((k) => patternsOf(k).spellings);

/**
 * createScrubber for the keys an exchange tried. Their patterns are built once per key, not
 * once per request: the usual exchange tried one key, whose patterns are used as they are.
 */
export function scrubberFor(keys: readonly TriedKey[]): Scrubber {
  if (keys.length === 1) return scrubberOf(patternsOf(keys[0]).patterns);
  return createScrubber(secretsOf(keys));
}

/**
 * Replaces every secret in a byte stream with its hint. `push` returns what can be sent now;
 * `flush` returns the held-back rest at the end of the stream.
 */
export interface Scrubber {
  push(chunk: Buffer): Buffer;
  flush(): Buffer;
  /** A whole body at once (push and flush in one pass, nothing held). */
  all(body: Buffer): Buffer;
}

const EMPTY = Buffer.alloc(0);

interface Pattern {
  bytes: Buffer;
  hint: Buffer;
}

/**
 * Output rule: every byte covered by any occurrence of any secret is dropped, and each run of
 * hidden bytes shows the hint of the occurrence that starts it (the longest one at that byte).
 * Overlapping or nested keys therefore never leave a fragment visible.
 *
 * Streaming: the undecided tail is at most maxLen-1 bytes, and only the part that is a proper
 * prefix of some secret is held back; an SSE chunk with no such tail goes out whole and at once.
 * All work is on bytes: a chunk boundary may split a UTF-8 character or the secret itself.
 */
export function createScrubber(secrets: readonly ScrubSecret[]): Scrubber {
  return scrubberOf(toPatterns(secrets));
}

/** `patterns`: distinct, sorted longest first (toPatterns). */
function scrubberOf(patterns: readonly Pattern[]): Scrubber {
  if (!patterns.length) return { push: (chunk) => chunk, flush: () => EMPTY, all: (body) => body };

  const maxLen = patterns[0].bytes.length;
  const firstBytes = new Uint8Array(256);
  for (const p of patterns) firstBytes[p.bytes[0]] = 1;

  let pending = EMPTY; // bytes not yet decided
  let covered = 0; // leading bytes of `pending` already hidden by an earlier occurrence

  /** Smallest index whose suffix is a proper prefix of some secret: a match may start there. */
  function holdStart(data: Buffer): number {
    for (let j = Math.max(0, data.length - maxLen + 1); j < data.length; j++) {
      if (!firstBytes[data[j]]) continue;
      const rest = data.length - j;
      for (const p of patterns)
        if (p.bytes.length > rest && p.bytes.compare(data, j, data.length, 0, rest) === 0) return j;
    }
    return data.length;
  }

  function scrub(data: Buffer, final: boolean): Buffer {
    const hold = final ? data.length : holdStart(data);
    const next = patterns.map((p) => data.indexOf(p.bytes));
    const parts: Buffer[] = [];
    let pos = 0; // bytes before pos are emitted or hidden
    let cover = covered; // bytes before cover are hidden

    for (;;) {
      // Earliest occurrence; on a tie the longer secret (patterns are sorted longest first).
      let k = -1;
      for (let i = 0; i < next.length; i++)
        if (next[i] >= 0 && next[i] < hold && (k < 0 || next[i] < next[k])) k = i;
      if (k < 0) break;
      const s = next[k];
      const p = patterns[k];
      const from = Math.max(pos, cover);
      if (s > from) parts.push(data.subarray(from, s));
      if (s >= cover) parts.push(p.hint);
      cover = Math.max(cover, s + p.bytes.length);
      pos = Math.max(pos, s);
      next[k] = data.indexOf(p.bytes, s + 1);
    }

    // Copy the tail: the caller may reuse or mutate the chunk it pushed.
    pending = hold < data.length ? Buffer.from(data.subarray(hold)) : EMPTY;
    covered = Math.max(0, cover - hold);
    const from = Math.max(pos, cover);
    if (from === 0 && hold === data.length) return data; // the common case: nothing to hide or hold
    if (hold > from) parts.push(data.subarray(from, hold));
    if (parts.length === 1) return parts[0];
    return parts.length ? Buffer.concat(parts) : EMPTY;
  }

  return {
    push(chunk) {
      if (!chunk.length) return EMPTY;
      return scrub(pending.length ? Buffer.concat([pending, chunk]) : chunk, false);
    },
    flush() {
      const out = pending.length ? scrub(pending, true) : EMPTY;
      pending = EMPTY;
      covered = 0;
      return out;
    },
    all(body) {
      const out = scrub(pending.length ? Buffer.concat([pending, body]) : body, true);
      pending = EMPTY;
      covered = 0;
      return out;
    },
  };
}

/** The same rule for a whole string: log lines, error messages, stored upstream bodies. */
export function scrubText(text: string, secrets: readonly ScrubSecret[]): string {
  if (!secrets.some((s) => s.value && spellingsOf(s.value).some((v) => text.includes(v))))
    return text;
  return createScrubber(secrets).all(Buffer.from(text, 'utf8')).toString('utf8');
}

function toPatterns(secrets: readonly ScrubSecret[]): Pattern[] {
  const seen = new Set<string>();
  const patterns: Pattern[] = [];
  for (const { value, hint } of secrets) {
    if (!value) continue;
    for (const spelling of spellingsOf(value)) {
      if (seen.has(spelling)) continue;
      seen.add(spelling);
      patterns.push({ bytes: Buffer.from(spelling, 'utf8'), hint: Buffer.from(hint, 'utf8') });
    }
  }
  return patterns.sort((a, b) => b.bytes.length - a.bytes.length);
}
