import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module';
import { AuthModule } from '../auth/auth.module';
import { KeysModule } from '../keys/keys.module';
import { LimitsModule } from '../limits/limits.module';
import { ProvidersModule } from '../providers/providers.module';
import { UpstreamModule } from '../upstream/upstream.module';
import { UsageModule } from '../usage/usage.module';
import { Admission } from './admission';
import { ModelsLister } from './models-lister';
import { ProxyEndpoints } from './proxy-endpoints';
import { ProxyService } from './proxy.service';
import { ResponseRelay } from './response-relay';
import { TargetFinder } from './target-finder';

@Module({
  imports: [
    AuthModule,
    KeysModule,
    LimitsModule,
    MetricsModule,
    ProvidersModule,
    UpstreamModule,
    UsageModule,
  ],
  providers: [ProxyEndpoints, ProxyService, TargetFinder, Admission, ResponseRelay, ModelsLister],
  exports: [TargetFinder, Admission],
})
export class ProxyModule {}
