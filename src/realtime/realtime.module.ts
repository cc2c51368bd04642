import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { KeysModule } from '../keys/keys.module';
import { LimitsModule } from '../limits/limits.module';
import { MetricsModule } from '../metrics/metrics.module';
import { ProvidersModule } from '../providers/providers.module';
import { ProxyModule } from '../proxy/proxy.module';
import { UpstreamModule } from '../upstream/upstream.module';
import { UsageModule } from '../usage/usage.module';
import { RealtimeEndpoints } from './realtime-endpoints';
import { RealtimeTargets } from './realtime-target';
import { RealtimeService } from './realtime.service';

/** WebSocket (realtime) sessions on /v1 and /proxy: the proxy's rules, over one long connection. */
@Module({
  imports: [
    AuthModule,
    KeysModule,
    LimitsModule,
    MetricsModule,
    ProvidersModule,
    ProxyModule,
    UpstreamModule,
    UsageModule,
  ],
  providers: [RealtimeEndpoints, RealtimeService, RealtimeTargets],
})
export class RealtimeModule {}
