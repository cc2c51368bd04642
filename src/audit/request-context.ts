import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Observable } from 'rxjs';
import type { Caller } from '../auth/caller';
import type {} from '../auth/request-caller';

/** Who asked and from where, for the audit rows a handler's services write. */
export interface RequestContext {
  caller?: Caller;
  ip?: string;
  requestId?: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** The context of the /api request being handled, if any (none in scripts and timers). */
export function currentRequest(): RequestContext | undefined {
  return storage.getStore();
}

/**
 * Makes the caller, client IP and request id of each /api request available to the services
 * it calls, so that they can audit with one `audit.record()` line and keep their signatures:
 * threading a context parameter through every key and token operation would touch every
 * controller and service method for a concern that is only the audit log's. Runs after the
 * guard (so the caller is known). The proxy routes are plain Fastify routes and never get here.
 * Nest binds the handler's async scope when `next.handle()` is called, hence the call inside run().
 */
@Injectable()
export class RequestContextInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const req = context.switchToHttp().getRequest<FastifyRequest>();
    const store: RequestContext = { caller: req.caller, ip: req.ip, requestId: String(req.id) };
    return storage.run(store, () => next.handle());
  }
}
