import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { KeysModule } from '../keys/keys.module';
import { LimitsModule } from '../limits/limits.module';
import { ProvidersModule } from '../providers/providers.module';
import { UsageModule } from '../usage/usage.module';
import { ModelsLister } from './models-lister';
import { ProxyRouter } from './proxy.router';
import { ProxyRoutes } from './proxy.routes';
import { ProxyService } from './proxy.service';
import { ResponseRelay } from './response-relay';
import { UpstreamClient } from './upstream.client';

@Module({
  imports: [AuthModule, KeysModule, LimitsModule, ProvidersModule, UsageModule],
  providers: [ProxyRoutes, ProxyService, ProxyRouter, ResponseRelay, UpstreamClient, ModelsLister],
})
export class ProxyModule {}
