import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module';
import { UserLimitsEntity } from '../database/entities';
import { MetricsModule } from '../metrics/metrics.module';
import { InvalidationBus } from '../redis/invalidation-bus';
import { RedisModule } from '../redis/redis.module';
import {
  COUNTER_STORE,
  type CounterStore,
  MemoryCounterStore,
  RedisCounterStore,
} from './counter-store';
import { LimitsController } from './limits.controller';
import { LimitsRepository } from './limits.repository';
import { LimitsService } from './limits.service';

@Module({
  imports: [TypeOrmModule.forFeature([UserLimitsEntity]), RedisModule, MetricsModule, AuditModule],
  controllers: [LimitsController],
  providers: [
    LimitsRepository,
    LimitsService,
    {
      provide: COUNTER_STORE,
      inject: [InvalidationBus],
      useFactory: (bus: InvalidationBus): CounterStore =>
        bus.client ? new RedisCounterStore(bus.client) : new MemoryCounterStore(),
    },
  ],
  exports: [LimitsService, COUNTER_STORE],
})
export class LimitsModule {}
