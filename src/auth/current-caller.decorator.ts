import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../common/errors/app-error';
import type { Caller } from './caller';
import { MISSING_CREDENTIAL } from './credential';
import type {} from './request-caller';

/** The authenticated Caller. On a @Public() route there is none, and asking for one is a 401. */
export const CurrentCaller = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): Caller => {
    const caller = ctx.switchToHttp().getRequest<FastifyRequest>().caller;
    if (!caller) throw new AppError('unauthorized', MISSING_CREDENTIAL);
    return caller;
  },
);
