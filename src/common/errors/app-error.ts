import { ERROR_STATUS, type ErrorCode } from './error-codes';

export interface AppErrorOptions {
  /** Overrides the code's default status (e.g. 504 for upstream_unavailable, 422 for a rejected key on save). */
  status?: number;
  /** Extra response headers (retry-after, x-byok-ratelimit-*). */
  headers?: Record<string, string>;
  /** Extra members for problem details / fields a client can act on; never secrets. */
  details?: Record<string, unknown>;
}

/** The one error type services throw; both filters turn it into their surface's shape. */
export class AppError extends Error {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly details: Record<string, unknown>;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message);
    this.name = 'AppError';
    this.status = options.status ?? ERROR_STATUS[code];
    this.headers = options.headers ?? {};
    this.details = options.details ?? {};
  }
}
