import { DependencyError } from './dependency-error';

/** The metadata database could not answer (down, unreachable, or slower than its bound). */
export class DatabaseUnavailableError extends DependencyError {
  override name = 'DatabaseUnavailableError';

  constructor(message: string) {
    super(
      message,
      'database_unavailable',
      'The key database could not be reached in time: try again shortly (repeating the request is safe)',
    );
  }
}

/**
 * SQLSTATEs that say the server could not serve, not that the statement was wrong: connection
 * exceptions (08), insufficient resources (53, e.g. too many connections), shutting down or
 * starting up (57P01–57P03), and a statement ended by statement_timeout (57014).
 */
const UNAVAILABLE_SQLSTATE = /^(08|53|57P0[1-3]$|57014$)/;
/** What `pg` and its pool throw when no answer came: no SQLSTATE, only a message or errno. */
const UNAVAILABLE_MESSAGE =
  /Query read timeout|Connection terminated|timeout exceeded when trying to connect|Connection is not established|ECONNREFUSED|ECONNRESET|EPIPE/;

/**
 * Whether an error thrown by TypeORM or `pg` means the database was away or too slow (503
 * database_unavailable) rather than a fault of ours. TypeORM's QueryFailedError keeps the
 * driver's error as `driverError`.
 */
export function isDatabaseUnavailable(e: unknown): boolean {
  for (const err of [e, (e as { driverError?: unknown } | undefined)?.driverError]) {
    if (!err || typeof err !== 'object') continue;
    const { code, message } = err as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && UNAVAILABLE_SQLSTATE.test(code)) return true;
    if (typeof code === 'string' && UNAVAILABLE_MESSAGE.test(code)) return true;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message)) return true;
  }
  return false;
}
