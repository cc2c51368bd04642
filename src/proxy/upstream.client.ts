import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Agent, type Dispatcher } from 'undici';
import { APP_CONFIG, type AppConfig } from '../config/app-config';

export type UpstreamResponse = Dispatcher.ResponseData;

export interface UpstreamRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: Buffer;
  signal: AbortSignal;
}

/**
 * The one way out to providers: undici with a keep-alive pool per origin. Redirects are never
 * followed (undici's request() does not, and no redirect interceptor is installed), so a key
 * cannot be carried to a host the provider names.
 */
@Injectable()
export class UpstreamClient implements OnApplicationShutdown {
  private readonly agent: Agent;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.agent = new Agent({
      connect: { timeout: config.upstream.connectTimeoutMs },
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
      headersTimeout: config.upstream.timeoutMs,
      bodyTimeout: config.upstream.timeoutMs,
    });
  }

  send(r: UpstreamRequest): Promise<UpstreamResponse> {
    const url = new URL(r.url);
    return this.agent.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: r.method,
      headers: r.headers,
      body: r.body,
      signal: r.signal,
      headersTimeout: this.config.upstream.timeoutMs,
      bodyTimeout: this.config.upstream.timeoutMs,
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.agent.close();
  }
}
