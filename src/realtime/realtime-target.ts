import { Inject, Injectable } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import { AppError } from '../common/errors/app-error';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ProviderRegistryService } from '../providers/provider-registry.service';
import type { ProviderRecord } from '../providers/provider.schema';
import { standInOf } from '../providers/url-template';
import { pickProvider } from '../proxy/model-prefix';
import type { ProxyTarget } from '../proxy/proxy-target';
import { TargetFinder } from '../proxy/target-finder';

/**
 * Where a WebSocket upgrade goes. `/v1/*`: the provider from the `provider/` prefix of the
 * `model` query parameter (stripped before it goes upstream), else `x-byok-provider`, else
 * DEFAULT_PROVIDER, as for HTTP; `/proxy/{provider}/*`: that provider. The URL is built by
 * TargetFinder (same confinement to the provider's origin), and the native path it lands on
 * must be one the provider's `realtime.paths` declares.
 */
@Injectable()
export class RealtimeTargets {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly registry: ProviderRegistryService,
    private readonly targets: TargetFinder,
  ) {}

  find(url: string, headers: IncomingHttpHeaders): ProxyTarget {
    let request = { method: 'GET', url, headers };
    if (url.startsWith('/v1/')) {
      const q = url.indexOf('?');
      const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
      const header = headers['x-byok-provider'];
      const route = pickProvider(
        query.get('model') ?? undefined,
        typeof header === 'string' ? header : undefined,
        this.registry,
        this.config.defaultProvider,
      );
      // The query is re-encoded only when the model's prefix is taken out of it.
      if (route.modelRewritten && route.model) {
        query.set('model', route.model);
        url = `${url.slice(0, q)}?${query.toString()}`;
      }
      request = {
        method: 'GET',
        url,
        headers: { ...headers, 'x-byok-provider': route.providerId },
      };
    }
    const target = this.targets.find(request);
    const model = new URL(target.url).searchParams.get('model') ?? undefined;
    const path = nativePath(target.provider, target.url);
    const allowed = target.provider.realtime?.paths ?? [];
    if (!allowed.includes(path)) throw notUpgradable(target.provider, path, this.withRealtime());
    return { ...target, model, operation: 'realtime' };
  }

  private withRealtime(): string[] {
    return this.registry.list().flatMap((p) => (p.realtime ? [p.id] : []));
  }
}

/** The path of an upstream URL relative to the provider's base URL (`/v1/realtime`). */
function nativePath(provider: ProviderRecord, url: string): string {
  const base = new URL(standInOf(provider.baseUrl)).pathname.replace(/\/+$/, '');
  return new URL(url).pathname.slice(base.length);
}

function notUpgradable(provider: ProviderRecord, path: string, withRealtime: string[]): AppError {
  const paths = provider.realtime?.paths;
  const where = paths
    ? `${provider.name} takes WebSocket connections only on ${paths.join(', ')} (${path} is not one)`
    : `${provider.name} declares no WebSocket (realtime) API; providers that do: ${withRealtime.join(', ') || 'none'}`;
  return new AppError(
    'validation_failed',
    `${where}. Use /v1/realtime?model=<provider>/<model> or /proxy/<provider>/<realtime path>`,
    { details: { field: 'path' } },
  );
}
