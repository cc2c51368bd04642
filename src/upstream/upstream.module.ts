import { Module } from '@nestjs/common';
import { UpstreamClient } from './upstream.client';

/** Outbound provider traffic: the proxy, the key verifier and the model lister all use it. */
@Module({ providers: [UpstreamClient], exports: [UpstreamClient] })
export class UpstreamModule {}
