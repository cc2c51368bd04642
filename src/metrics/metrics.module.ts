import { type DynamicModule, Module } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { MetricsController } from './metrics.controller';
import { MetricsServer } from './metrics-server';
import { MetricsService } from './metrics.service';

/** The metrics registry; the modules that count something import it. */
@Module({
  providers: [MetricsService],
  exports: [MetricsService],
})
export class MetricsModule {}

/**
 * Where `/metrics` is served: on the main port by default, or, with METRICS_PORT, only on a
 * listener of its own (the main port then answers 404 there, as for any unknown path).
 */
@Module({})
export class MetricsEndpointModule {
  static forRoot(config: AppConfig): DynamicModule {
    return config.metricsPort === undefined
      ? {
          module: MetricsEndpointModule,
          imports: [MetricsModule],
          controllers: [MetricsController],
        }
      : { module: MetricsEndpointModule, imports: [MetricsModule], providers: [MetricsServer] };
  }
}
