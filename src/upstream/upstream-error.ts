import { AppError } from '../common/errors/app-error';

/** undici's codes for "the provider took too long": a 504 to the client, everything else a 502. */
const TIMEOUTS = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** A short, safe reason for a failed upstream call (undici's code or the error's name). */
export function failureReason(e: unknown): string {
  return (e as { code?: string } | undefined)?.code ?? (e as Error | undefined)?.name ?? 'Error';
}

/**
 * The one mapping from a failed upstream call to what the client sees: upstream_unavailable, 504
 * when the provider timed out and 502 otherwise. `describe` words the message for the call that
 * failed; it gets the reason (never a body, which could echo a key) and whether it was a timeout.
 */
export function upstreamUnavailable(
  e: unknown,
  describe: (reason: string, timedOut: boolean) => string,
): AppError {
  const reason = failureReason(e);
  const timedOut = TIMEOUTS.has(reason);
  return new AppError('upstream_unavailable', describe(reason, timedOut), {
    status: timedOut ? 504 : 502,
  });
}
