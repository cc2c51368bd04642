import type { ErrorCode } from './error-codes';

/**
 * A shared system (the secret store, say) could not do its part. The message is for the log
 * and may name paths or status codes; the client gets `errorCode` with `clientMessage`, which
 * says nothing of the system's insides. Subclasses live with the system that throws them.
 */
export class DependencyError extends Error {
  constructor(
    message: string,
    readonly errorCode: ErrorCode,
    readonly clientMessage: string,
  ) {
    super(message);
  }
}
