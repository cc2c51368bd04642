import { AppError } from '../common/errors/app-error';
import type { ProviderRecord } from '../providers/provider.schema';

/** The part of the registry routing needs (ProviderRegistryService satisfies it). */
export interface ProviderLookup {
  get(id: string): ProviderRecord | undefined;
  ids(): string[];
}

export interface Route {
  providerId: string;
  /** The model to send upstream: `model` without its provider prefix, or as given. */
  model: string | undefined;
  /** True when the prefix was stripped, so the body needs rewriteModel. */
  modelRewritten: boolean;
}

/**
 * `/v1` routing: the first segment of `model` when it is a known
 * provider id (`cerebras/llama-3.3-70b`), else the `x-byok-provider` header, else the default.
 * `meta-llama/Llama-3-8b` is a model name because `meta-llama` is no provider.
 */
export function pickProvider(
  model: unknown,
  headerProvider: string | undefined,
  registry: ProviderLookup,
  defaultId: string,
): Route {
  if (typeof model === 'string') {
    const slash = model.indexOf('/');
    const prefix = slash > 0 ? model.slice(0, slash) : '';
    if (prefix && registry.get(prefix)) {
      const rest = model.slice(slash + 1);
      if (!rest)
        throw new AppError(
          'validation_failed',
          `model "${model}" names provider "${prefix}" but no model; use "${prefix}/<model>"`,
          { details: { field: 'model' } },
        );
      return { providerId: prefix, model: rest, modelRewritten: true };
    }
  }
  const asString = typeof model === 'string' ? model : undefined;
  const header = headerProvider?.trim().toLowerCase();
  if (header) {
    if (!registry.get(header)) {
      const known = registry.ids();
      throw new AppError(
        'provider_unknown',
        `Unknown provider "${header}" in x-byok-provider. Known providers: ${known.join(', ')}.`,
        { details: { knownProviders: known } },
      );
    }
    return { providerId: header, model: asString, modelRewritten: false };
  }
  return { providerId: defaultId, model: asString, modelRewritten: false };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MODEL_KEY = Buffer.from('model');

/**
 * Replaces the top-level `model` string of a JSON object body with `newModel`, leaving every
 * other byte as the client sent it. The body must be valid JSON (the caller parsed it to route).
 *
 * Fast path: one scan that skips string contents with native indexOf and tracks nesting, so
 * message text (most of a large body) costs almost nothing. It gives up, and the slow path
 * re-serialises, when it cannot be sure: no top-level `"model"` string, two of them, or an escaped
 * top-level key (which might spell `model`).
 */
export function rewriteModel(rawBody: Buffer, newModel: string): Buffer {
  const span = findTopLevelModel(rawBody);
  if (!span) return reserialise(rawBody, newModel);
  return Buffer.concat([
    rawBody.subarray(0, span.start),
    Buffer.from(JSON.stringify(newModel), 'utf8'),
    rawBody.subarray(span.end),
  ]);
}

function reserialise(rawBody: Buffer, newModel: string): Buffer {
  let body: unknown;
  try {
    body = JSON.parse(rawBody.toString('utf8'));
  } catch {
    throw new AppError('invalid_json', 'The request body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new AppError('validation_failed', 'The request body must be a JSON object', {
      details: { field: 'body' },
    });
  return Buffer.from(JSON.stringify({ ...body, model: newModel }), 'utf8');
}

/** Index just past the closing quote of the string starting at `open`, or -1. */
function stringEnd(buf: Buffer, open: number): number {
  let i = open;
  for (;;) {
    i = buf.indexOf(QUOTE, i + 1);
    if (i < 0) return -1;
    let slashes = 0;
    while (buf[i - 1 - slashes] === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return i + 1;
  }
}

const isSpace = (b: number): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/** Byte span of the value of the only top-level `"model": "<string>"`, or undefined if unsure. */
export function findTopLevelModel(buf: Buffer): { start: number; end: number } | undefined {
  let i = 0;
  while (i < buf.length && isSpace(buf[i])) i++;
  if (buf[i] !== 0x7b) return undefined; // not an object
  let depth = 0;
  let expectKey = false; // at depth 1, right after `{` or `,`
  let found: { start: number; end: number } | undefined;

  for (; i < buf.length; i++) {
    const b = buf[i];
    if (b === QUOTE) {
      const end = stringEnd(buf, i);
      if (end < 0) return undefined;
      if (depth === 1 && expectKey) {
        expectKey = false;
        const key = buf.subarray(i + 1, end - 1);
        if (key.includes(BACKSLASH)) return undefined;
        if (key.equals(MODEL_KEY)) {
          if (found) return undefined; // duplicate key: let JSON.parse decide which one counts
          let j = end;
          while (isSpace(buf[j])) j++;
          if (buf[j] !== 0x3a) return undefined;
          j++;
          while (isSpace(buf[j])) j++;
          if (buf[j] !== QUOTE) return undefined; // not a string: nothing to strip
          const valueEnd = stringEnd(buf, j);
          if (valueEnd < 0) return undefined;
          found = { start: j, end: valueEnd };
          i = valueEnd - 1;
          continue;
        }
      }
      i = end - 1;
    } else if (b === 0x7b || b === 0x5b) {
      depth++;
      expectKey = depth === 1;
    } else if (b === 0x7d || b === 0x5d) {
      depth--;
      if (depth === 0) {
        while (++i < buf.length && isSpace(buf[i]));
        return i === buf.length ? found : undefined; // trailing bytes: not one JSON value
      }
    } else if (b === 0x2c && depth === 1) {
      expectKey = true;
    }
  }
  return undefined;
}
