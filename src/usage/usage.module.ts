import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { UsageDailyEntity, UsageEventEntity } from '../database/entities';
import { KeysModule } from '../keys/keys.module';
import { LimitsModule } from '../limits/limits.module';
import { MetricsModule } from '../metrics/metrics.module';
import { loadPrices, PriceTable } from './prices';
import { UsageController } from './usage.controller';
import { UsageRecorder } from './usage.recorder';
import { UsageRepository } from './usage.repository';
import { UsageRollup } from './usage-rollup';
import { UsageService } from './usage.service';

@Module({
  imports: [
    TypeOrmModule.forFeature([UsageEventEntity, UsageDailyEntity]),
    KeysModule,
    LimitsModule,
    MetricsModule,
  ],
  controllers: [UsageController],
  providers: [
    UsageRecorder,
    UsageRepository,
    UsageService,
    UsageRollup,
    // Read once at start-up: a bad PRICES_FILE stops the process with a message, like any config.
    { provide: PriceTable, inject: [APP_CONFIG], useFactory: (c: AppConfig) => loadPrices(c) },
  ],
  exports: [UsageRecorder, PriceTable],
})
export class UsageModule {}
