import { Module } from '@nestjs/common';
import { KeysModule } from '../keys/keys.module';
import { LimitsModule } from '../limits/limits.module';
import { MetricsModule } from '../metrics/metrics.module';
import { ProvidersModule } from '../providers/providers.module';
import { SecretStoreModule } from '../secret-store/secret-store.module';
import { HealthController } from './health.controller';
import { ReadinessService } from './readiness.service';
import { ShutdownState } from './shutdown-state';

@Module({
  imports: [SecretStoreModule, LimitsModule, KeysModule, ProvidersModule, MetricsModule],
  controllers: [HealthController],
  providers: [ShutdownState, ReadinessService],
  exports: [ShutdownState],
})
export class HealthModule {}
