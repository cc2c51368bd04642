import { providersAt } from './http';
import { EMBEDDED, JWT_SECRET, type StoreMode } from './modes';
import { startApp, type RunningApp } from './start-app';
import { startUpstreamDouble, type UpstreamDouble } from './upstream-double';

export interface StackOptions {
  /** Where metadata and keys live; EMBEDDED (PGlite + local store) by default. */
  mode?: Pick<StoreMode, 'env'>;
  /**
   * More environment, applied last: it wins over the mode's, AUTH_JWT_SECRET (JWT_SECRET unless
   * given here) and every provider's `<ID>_BASE_URL` (the double's unless given here).
   */
  env?: Record<string, string>;
}

/** The real app with every provider pointed at its own upstream double. */
export interface Stack {
  app: RunningApp;
  double: UpstreamDouble;
  /** The app's base URL (`app.url`). */
  url: string;
  /** The whole environment the app was started with. */
  env: Record<string, string>;
  /** Closes the app, then the double (the double even when closing the app fails). */
  close(): Promise<void>;
}

/**
 * Starts the upstream double, then the app with `{ ...mode env, AUTH_JWT_SECRET: JWT_SECRET,
 * ...providersAt(double.url), ...env }`. Nothing is left running when it fails.
 */
export async function startStack({ mode = EMBEDDED, env = {} }: StackOptions = {}): Promise<Stack> {
  const double = await startUpstreamDouble();
  try {
    const full: Record<string, string> = {
      ...(await mode.env()),
      AUTH_JWT_SECRET: JWT_SECRET,
      ...providersAt(double.url),
      ...env,
    };
    const app = await startApp(full);
    return {
      app,
      double,
      url: app.url,
      env: full,
      close: async () => {
        try {
          await app.close();
        } finally {
          await double.close();
        }
      },
    };
  } catch (err) {
    await double.close();
    throw err;
  }
}
