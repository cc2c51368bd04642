import { Module } from '@nestjs/common';
import { InvalidationBus } from './invalidation-bus';

/**
 * Redis, when REDIS_URL is set: the cross-replica invalidation bus, whose connection the limit
 * counters share. Without it everything here is a no-op and each replica keeps its own state.
 */
@Module({ providers: [InvalidationBus], exports: [InvalidationBus] })
export class RedisModule {}
