import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import type { Caller } from '../auth/caller';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { KeyResolver } from '../keys/key-resolver';
import { ProviderRegistryService } from '../providers/provider-registry.service';
import type { ProviderRecord } from '../providers/provider.schema';
import { buildUpstreamHeaders } from '../upstream/upstream-headers';
import { buildUpstreamUrl } from '../upstream/upstream-url';
import { UpstreamClient } from '../upstream/upstream.client';
import type { Exchange } from './exchange';
import type { ProxyRequest } from './proxy-target';
import { scrubText, secretsOf } from './key-scrubber';

interface Model {
  id: string;
  [field: string]: unknown;
}

/**
 * `GET /v1/models`: the models of every provider the caller has a usable key for, asked in
 * parallel with the first key of each, ids prefixed `provider/` so they route back. A provider
 * that fails is left out (and logged) rather than failing the whole list.
 */
@Injectable()
export class ModelsLister {
  private readonly logger = new Logger('Proxy');

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly registry: ProviderRegistryService,
    private readonly resolver: KeyResolver,
    private readonly upstream: UpstreamClient,
  ) {}

  async list(caller: Caller, req: ProxyRequest, res: ServerResponse, ex: Exchange): Promise<void> {
    const providers = this.registry
      .list()
      .filter((p) => !caller.providers || caller.providers.includes(p.id));
    const lists = await Promise.all(providers.map((p) => this.modelsOf(caller, p, req)));
    const used = providers.filter((_, i) => lists[i] !== undefined).map((p) => p.id);
    res.writeHead(200, {
      'content-type': 'application/json',
      'x-request-id': ex.requestId,
      'x-byok-provider': used.join(','),
    });
    res.end(JSON.stringify({ object: 'list', data: lists.flatMap((l) => l ?? []) }));
  }

  private async modelsOf(
    caller: Caller,
    provider: ProviderRecord,
    req: ProxyRequest,
  ): Promise<Model[] | undefined> {
    const [key] = await this.resolver.resolve(caller, provider.id);
    if (!key) return undefined;
    try {
      const secret = await key.secret();
      const up = await this.upstream.send({
        provider,
        key: secret,
        params: key.params,
        url: buildUpstreamUrl(provider, 'models', '', 'openai'),
        method: 'GET',
        headers: buildUpstreamHeaders(
          { accept: 'application/json', 'user-agent': req.headers['user-agent'] },
          provider,
        ),
        signal: AbortSignal.timeout(Math.min(this.config.upstream.timeoutMs, 15_000)),
      });
      const text = scrubText(await up.body.text(), secretsOf([{ secret, hint: key.hint }]));
      if (up.statusCode !== 200) throw new Error(`HTTP ${up.statusCode}`);
      const data = (JSON.parse(text) as { data?: Model[] }).data ?? [];
      return data.map((m) => ({
        ...m,
        id: `${provider.id}/${m.id}`,
        owned_by: m.owned_by ?? provider.id,
      }));
    } catch (e) {
      this.logger.warn(`Listing ${provider.id} models failed: ${(e as Error).message}`);
      return undefined;
    }
  }
}
