import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors/app-error';

/** Deepest nesting of objects and arrays an /api JSON body may have: ours need 3. */
export const MAX_JSON_DEPTH = 32;

/**
 * True when JSON text nests objects or arrays deeper than `limit`. One pass over the bytes,
 * skipping strings, and stopping at the first level past the limit, so the check costs no
 * more than the parse it spares. Malformed text is the parser's to report.
 */
export function nestsDeeperThan(body: Buffer, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash escapes the next byte (\" stays in the string)
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

type JsonParser = (
  req: unknown,
  body: Buffer,
  done: (err: Error | null, v?: unknown) => void,
) => void;

/**
 * The /api `application/json` parser: Fastify's own (prototype poisoning refused), behind a
 * depth check, so a body nested past MAX_JSON_DEPTH is a 400 before it is parsed, let alone
 * validated (class-transformer and class-validator recurse).
 */
export function depthLimitedJsonParser(fastify: FastifyInstance): JsonParser {
  const parse = fastify.getDefaultJsonParser('error', 'error') as unknown as JsonParser;
  return (req, body, done) => {
    if (nestsDeeperThan(body, MAX_JSON_DEPTH)) {
      done(
        new AppError(
          'validation_failed',
          `body is nested deeper than ${MAX_JSON_DEPTH} levels of objects and arrays`,
          { details: { fields: ['body'] } },
        ),
      );
      return;
    }
    parse(req, body, done);
  };
}
