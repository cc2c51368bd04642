import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { LimitsModule } from '../limits/limits.module';
import { SecretStoreModule } from '../secret-store/secret-store.module';
import { HealthController } from './health.controller';
import { ShutdownState } from './shutdown-state';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), SecretStoreModule, LimitsModule],
  controllers: [HealthController],
  providers: [ShutdownState],
  exports: [ShutdownState],
})
export class HealthModule {}
