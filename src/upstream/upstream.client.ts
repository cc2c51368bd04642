import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Agent, type Dispatcher } from 'undici';
import type { SecretValue } from '../common/secret-value';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { ProviderRecord } from '../providers/provider.schema';
import { applyProviderAuth, type OutboundRequest } from './provider-auth';
import { upstreamUnavailable } from './upstream-error';

export type UpstreamResponse = Dispatcher.ResponseData;

export interface UpstreamRequest extends OutboundRequest {
  provider: ProviderRecord;
  /** The provider credential, applied as the last step before the request leaves. */
  key: SecretValue;
  signal?: AbortSignal;
  /** Overrides UPSTREAM_TIMEOUT_MS for the headers and between body chunks. */
  timeoutMs?: number;
  /** What the client may do when the provider cannot be reached; ends the error message. */
  onFailure?: string;
}

/**
 * The one way out to providers, for proxied requests, key verification and model lists alike:
 * undici with a keep-alive pool per origin, the provider's credential applied last, and one
 * error mapping (upstream_unavailable, 502 or 504). Redirects are never followed (undici's
 * request() does not, and no redirect interceptor is installed), so a key cannot be carried to
 * a host the provider names.
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

  /**
   * Sends the request. A failure to connect or to get response headers throws AppError
   * upstream_unavailable; an abort through `signal` rethrows the AbortError as it is.
   */
  async send(r: UpstreamRequest): Promise<UpstreamResponse> {
    const outbound: OutboundRequest = {
      method: r.method,
      url: r.url,
      headers: { ...r.headers },
      body: r.body,
    };
    applyProviderAuth(outbound, r.provider, r.key);
    const url = new URL(outbound.url);
    const timeout = r.timeoutMs ?? this.config.upstream.timeoutMs;
    try {
      return await this.agent.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: outbound.method,
        headers: outbound.headers,
        body: outbound.body,
        signal: r.signal,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      });
    } catch (e) {
      if (r.signal?.aborted) throw e;
      const then = r.onFailure ?? 'try again later';
      throw upstreamUnavailable(e, (reason, timedOut) =>
        timedOut
          ? `${r.provider.name} did not answer in time (${reason}); ${then}`
          : `${r.provider.name} could not be reached (${reason}); ${then}`,
      );
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.agent.close();
  }
}
