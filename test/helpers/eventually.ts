/**
 * Retries `check` until it stops throwing, for effects the service completes off the request
 * path (a key check, a batched write). Polls every 50 ms; the last failure is rethrown.
 */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
