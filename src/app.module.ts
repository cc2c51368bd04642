import { type DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { AuditModule } from './audit/audit.module';
import { AuthGuard } from './auth/auth.guard';
import { AuthModule } from './auth/auth.module';
import { loggerParams } from './common/logging';
import type { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import type { DatabaseHandle } from './database/data-source';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { KeysModule } from './keys/keys.module';
import { LimitsModule } from './limits/limits.module';
import { MetricsEndpointModule } from './metrics/metrics.module';
import { AdminModule } from './admin/admin.module';
import { ProxyModule } from './proxy/proxy.module';
import { ProvidersModule } from './providers/providers.module';
import { RealtimeModule } from './realtime/realtime.module';
import { TokensModule } from './tokens/tokens.module';
import { WebModule } from './web/web.module';
import { traceLogFields, Tracing } from './tracing/tracing';
import { TracingModule } from './tracing/tracing.module';

export interface AppModuleOptions {
  config: AppConfig;
  database: DatabaseHandle;
  /** Where JSON logs go; tests capture them to prove nothing leaks. */
  logDestination: DestinationStream;
  tracing: Tracing;
}

@Module({})
export class AppModule {
  static forRoot({ config, database, logDestination, tracing }: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        TracingModule.forRoot(tracing),
        LoggerModule.forRoot(
          loggerParams(config, logDestination, tracing.enabled ? traceLogFields : undefined),
        ),
        DatabaseModule.forRoot(config, database),
        LimitsModule,
        ProvidersModule,
        AuditModule,
        AuthModule,
        TokensModule,
        KeysModule,
        AdminModule,
        HealthModule,
        MetricsEndpointModule.forRoot(config),
        ProxyModule,
        RealtimeModule,
        WebModule,
      ],
      providers: [{ provide: APP_GUARD, useExisting: AuthGuard }],
    };
  }
}
