import { DependencyError } from '../common/errors/dependency-error';

/** The metadata database could not answer (down, unreachable, or slower than its bound). */
export class DatabaseUnavailableError extends DependencyError {
  override name = 'DatabaseUnavailableError';

  constructor(message: string) {
    super(
      message,
      'database_unavailable',
      'The key database could not be reached; nothing was changed: try again shortly',
    );
  }
}
