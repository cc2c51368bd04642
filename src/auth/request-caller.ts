import type { FastifyRequest } from 'fastify';
import type { Caller } from './caller';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by AuthGuard on every route that is not @Public(). */
    caller?: Caller;
  }
}

/** A request the guard has let through; import this type to get the augmentation above. */
export type AuthenticatedRequest = FastifyRequest & { caller: Caller };
