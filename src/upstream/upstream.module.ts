import { Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { CustomBaseUrlPolicy } from './custom-base-url';
import { UpstreamClient } from './upstream.client';
import { UpstreamSockets } from './upstream-sockets';

/** Outbound provider traffic: the proxy, the key verifier and the model lister all use it. */
@Module({
  providers: [
    UpstreamClient,
    UpstreamSockets,
    {
      provide: CustomBaseUrlPolicy,
      useFactory: (config: AppConfig) =>
        new CustomBaseUrlPolicy(config.upstream.customBaseUrlAllowlist),
      inject: [APP_CONFIG],
    },
  ],
  exports: [UpstreamClient, UpstreamSockets, CustomBaseUrlPolicy],
})
export class UpstreamModule {}
