import { DependencyError } from '../common/errors/dependency-error';

/**
 * The one error both secret stores throw. Its message names the operation, the store path
 * and a status or error code, never a request or response body: a Vault client error can
 * carry the request body (the raw key), so it is never wrapped, chained or logged.
 */
export class SecretStoreError extends DependencyError {
  override name = 'SecretStoreError';

  constructor(
    message: string,
    /** The HTTP status from Vault (404 also for a missing local secret); undefined for I/O or crypto failures. */
    readonly status?: number,
    /** A Node/axios error code (ECONNREFUSED, ETIMEDOUT…) when no response arrived. */
    readonly code?: string,
  ) {
    super(
      message,
      'secret_store_unavailable',
      'The secret store could not complete the operation; nothing was changed: try again later',
    );
  }

  get notFound(): boolean {
    return this.status === 404;
  }

  /**
   * No answer came although the request may have been sent (a timeout, a dropped connection):
   * the store may still apply it. A refused connection or any HTTP status is an answer.
   */
  get unanswered(): boolean {
    return this.status === undefined && this.code !== undefined && this.code !== 'ECONNREFUSED';
  }
}

export function isSecretNotFound(err: unknown): boolean {
  return err instanceof SecretStoreError && err.notFound;
}
