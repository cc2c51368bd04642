import { type DynamicModule, Global, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Tracing } from './tracing';

/** The application's Tracing, injectable everywhere; its last spans are sent on shutdown. */
@Global()
@Module({})
export class TracingModule implements OnApplicationShutdown {
  constructor(private readonly tracing: Tracing) {}

  static forRoot(tracing: Tracing): DynamicModule {
    return {
      module: TracingModule,
      providers: [{ provide: Tracing, useValue: tracing }],
      exports: [Tracing],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.tracing.shutdown();
  }
}
