import { AppError } from './errors/app-error';

/** A keyset position: the row's timestamp and id, the order every paginated list uses. */
export interface Position {
  at: Date;
  id: string;
}

/**
 * A cursor is `<epoch milliseconds>_<row id>`, and every string of that shape is a position (any
 * 1 to 15 digits is a real instant, years 1970 to 33658), so the OpenAPI document's `pattern`
 * says exactly which cursors the server takes. Clients treat it as opaque all the same.
 */
export const CURSOR_PATTERN = {
  uuid: '^[0-9]{1,15}_[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
  bigint: '^[0-9]{1,15}_[0-9]{1,18}$',
} as const;
const CURSOR = { uuid: new RegExp(CURSOR_PATTERN.uuid), bigint: new RegExp(CURSOR_PATTERN.bigint) };

/** A `nextCursor`: opaque to clients, so the order behind it can change. */
export function encodeCursor(p: Position): string {
  return `${p.at.getTime()}_${p.id}`;
}

/**
 * Reads a cursor back, checked all the way (a row id of the right kind, an instant), so a forged
 * or mangled one is a 400 that says so and never reaches the database.
 */
export function decodeCursor(
  cursor: string | undefined,
  ids: 'uuid' | 'bigint',
): Position | undefined {
  if (cursor === undefined) return undefined;
  if (!CURSOR[ids].test(cursor))
    throw new AppError('validation_failed', 'cursor is not a nextCursor from a previous page', {
      details: { field: 'cursor' },
    });
  const at = cursor.indexOf('_');
  return { at: new Date(Number(cursor.slice(0, at))), id: cursor.slice(at + 1) };
}

/** One page of `rows` (fetched with limit + 1), with the cursor of its last row when more follow. */
export function toPage<R, D>(
  rows: R[],
  limit: number,
  dto: (r: R) => D,
  positionOf: (r: R) => Position,
): { data: D[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    data: page.map(dto),
    nextCursor: rows.length > limit && last ? encodeCursor(positionOf(last)) : null,
  };
}
