import { AppError } from './errors/app-error';

/** A keyset position: the row's timestamp and id, the order every paginated list uses. */
export interface Position {
  at: Date;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BIGINT = /^\d{1,18}$/;

/** A `nextCursor`: opaque to clients, so the order behind it can change. */
export function encodeCursor(p: Position): string {
  return Buffer.from(`${p.at.toISOString()}|${p.id}`).toString('base64url');
}

/**
 * Reads a cursor back, checked all the way (a row id of the right kind, a real instant), so a
 * forged or mangled one is a 400 that says so and never reaches the database.
 */
export function decodeCursor(
  cursor: string | undefined,
  ids: 'uuid' | 'bigint',
): Position | undefined {
  if (cursor === undefined) return undefined;
  const [at, id, ...rest] = Buffer.from(cursor, 'base64url').toString().split('|');
  const date = new Date(at ?? '');
  const idOk = (ids === 'uuid' ? UUID : BIGINT).test(id ?? '');
  if (rest.length || !idOk || Number.isNaN(date.getTime()))
    throw new AppError('validation_failed', 'cursor is not a nextCursor from a previous page', {
      details: { field: 'cursor' },
    });
  return { at: date, id };
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
