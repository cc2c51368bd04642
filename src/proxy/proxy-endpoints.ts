import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ProxyService } from './proxy.service';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;

/**
 * Registers `/v1/*` and `/proxy/*` as plain Fastify routes in their own encapsulated context:
 * any content type is taken as raw bytes (JSON is never parsed and re-serialised unless the
 * model prefix must be stripped), with PROXY_BODY_LIMIT, and none of the /api pipeline runs on
 * the hot path. ProxyService hijacks the reply and writes the OpenAI-shaped answer itself.
 */
@Injectable()
export class ProxyEndpoints implements OnModuleInit {
  constructor(
    private readonly host: HttpAdapterHost,
    private readonly proxy: ProxyService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const fastify = this.host.httpAdapter.getInstance<FastifyInstance>();
    const bodyLimit = this.config.upstream.bodyLimit;
    void fastify.register((instance, _opts, done) => {
      instance.removeAllContentTypeParsers();
      instance.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_req, body, next) =>
        next(null, body),
      );
      const handler = this.proxy.handle.bind(this.proxy);
      for (const url of ['/v1', '/v1/*', '/proxy/*'])
        instance.route({ method: [...METHODS], url, bodyLimit, handler });
      done();
    });
  }
}
