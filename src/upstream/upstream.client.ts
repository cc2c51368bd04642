import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Agent, type Dispatcher } from 'undici';
import { AppError } from '../common/errors/app-error';
import type { SecretValue } from '../common/secret-value';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { KeyParams } from '../providers/key-params';
import type { ProviderRecord } from '../providers/provider.schema';
import { GcpTokenMinter } from './credentials/gcp-service-account';
import { CustomBaseUrlPolicy } from './custom-base-url';
import { hasKeyUrl, keyUrl } from './key-url';
import { type AuthContext, applyProviderAuth, type OutboundRequest } from './provider-auth';
import { upstreamUnavailable } from './upstream-error';

export type UpstreamResponse = Dispatcher.ResponseData;

export interface UpstreamRequest extends OutboundRequest {
  provider: ProviderRecord;
  /** The provider credential, applied as the last step before the request leaves. */
  key: SecretValue;
  /** The key's parameters (region, resource, own base URL, …), for kinds that take them. */
  params?: KeyParams | null;
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
  /** For keys with their own base URL: every connection's address is checked as it is resolved. */
  private readonly customAgent: Agent;
  private readonly auth: AuthContext;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly customBaseUrls: CustomBaseUrlPolicy,
  ) {
    const options = {
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
      headersTimeout: config.upstream.timeoutMs,
      bodyTimeout: config.upstream.timeoutMs,
    };
    this.agent = new Agent({ ...options, connect: { timeout: config.upstream.connectTimeoutMs } });
    this.customAgent = new Agent({
      ...options,
      connect: { timeout: config.upstream.connectTimeoutMs, lookup: customBaseUrls.lookup },
    });
    this.auth = {
      minter: new GcpTokenMinter(this.agent, config.upstream.connectTimeoutMs * 2),
      now: () => new Date(),
    };
  }

  /**
   * Sends the request. A failure to connect or to get response headers throws AppError
   * upstream_unavailable; an abort through `signal` rethrows the AbortError as it is.
   */
  async send(r: UpstreamRequest): Promise<UpstreamResponse> {
    const timeout = r.timeoutMs ?? this.config.upstream.timeoutMs;
    const dispatcher = r.provider.keyBaseUrl ? this.customAgent : this.agent;
    try {
      const outbound = await this.authorized(r);
      const url = new URL(outbound.url);
      return await dispatcher.request({
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
      if (r.signal?.aborted || e instanceof AppError) throw e;
      const then = r.onFailure ?? 'try again later';
      throw upstreamUnavailable(e, (reason, timedOut) =>
        timedOut
          ? `${r.provider.name} did not answer in time (${reason}); ${then}`
          : `${r.provider.name} could not be reached (${reason}); ${then}`,
      );
    }
  }

  /**
   * The request as it leaves: the key's URL parameters filled in, a custom base URL's literal
   * address checked, and the provider's credential applied. Only for a caller that hands it
   * straight to a socket (send, and UpstreamSockets for WebSocket handshakes).
   */
  async authorized(r: UpstreamRequest): Promise<OutboundRequest> {
    const params = r.params ?? {};
    const outbound: OutboundRequest = {
      method: r.method,
      url: hasKeyUrl(r.provider) ? keyUrl(r.url, r.provider, params) : r.url,
      headers: { ...r.headers },
      body: r.body,
    };
    // An IP literal connects without a lookup: its address is checked here instead.
    if (r.provider.keyBaseUrl) await this.customBaseUrls.checkLiteral(outbound.url);
    await applyProviderAuth(outbound, r.provider, r.key, params, this.auth);
    return outbound;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.agent.close(), this.customAgent.close()]);
  }
}
