import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '../common/errors/app-error';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ProviderRegistryService } from '../providers/provider-registry.service';
import { modelInPath, operationOf, type ProxyRequest, type ProxyTarget } from './proxy-target';
import { findTopLevelModel, pickProvider, rewriteModel } from './model-prefix';
import { askForStreamUsage } from './stream-usage';
import { buildUpstreamUrl, type UpstreamSurface } from '../upstream/upstream-url';
import type { ProviderRecord } from '../providers/provider.schema';

const CHAT = /^chat\/completions\/?$/;
const isJson = (ct: string | undefined): boolean => !!ct && /[/+]json\b/i.test(ct);
/** Distinct upstream URLs remembered per provider; clients call a handful of paths. */
const MAX_URLS = 256;

/**
 * Decides where a proxied request goes. `/v1/*`: the provider from the `provider/` prefix of
 * `model`, else `x-byok-provider`, else DEFAULT_PROVIDER. `/proxy/{provider}/*`: that provider,
 * native path. The model is read by a byte scan; the body is rewritten only to strip a prefix.
 */
@Injectable()
export class TargetFinder {
  /** buildUpstreamUrl is pure and its checks cost more than the rest of routing: its answers. */
  private readonly urls = new WeakMap<ProviderRecord, Map<string, string>>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly registry: ProviderRegistryService,
  ) {}

  find(req: ProxyRequest): ProxyTarget {
    const q = req.url.indexOf('?');
    const path = q < 0 ? req.url : req.url.slice(0, q);
    const search = q < 0 ? '' : req.url.slice(q);
    const body = req.body?.length ? req.body : undefined;
    const json = !!body && isJson(req.headers['content-type']);

    if (path.startsWith('/proxy/')) {
      const rest = path.slice('/proxy/'.length);
      const slash = rest.indexOf('/');
      const provider = this.registry.require(slash < 0 ? rest : rest.slice(0, slash));
      const sub = slash < 0 ? '' : rest.slice(slash + 1);
      return {
        provider,
        url: this.url(provider, sub, search, 'native'),
        method: req.method,
        body,
        json,
        model: (json ? sniffModel(body) : undefined) ?? modelInPath(sub),
        operation: operationOf(sub, body),
        hideUsageChunk: false,
        listModels: false,
      };
    }

    const sub = path.slice('/v1/'.length);
    const header = req.headers['x-byok-provider'];
    const model = json ? readModel(body) : undefined;
    const route = pickProvider(
      model,
      typeof header === 'string' ? header.trim().toLowerCase() : undefined,
      this.registry,
      this.config.defaultProvider,
    );
    const provider = this.registry.require(route.providerId);
    let out = body && route.modelRewritten && route.model ? rewriteModel(body, route.model) : body;
    const withUsage =
      out && json && req.method === 'POST' && CHAT.test(sub) ? askForStreamUsage(out) : undefined;
    if (withUsage) out = withUsage;
    return {
      provider,
      url: this.url(provider, sub, search, 'openai'),
      method: req.method,
      body: out,
      json,
      hideUsageChunk: withUsage !== undefined,
      model: route.model,
      operation: operationOf(sub),
      listModels: req.method === 'GET' && (sub === 'models' || sub === 'models/'),
    };
  }

  /** buildUpstreamUrl, remembered (a refused path throws each time and is never stored). */
  private url(
    provider: ProviderRecord,
    path: string,
    search: string,
    surface: UpstreamSurface,
  ): string {
    let known = this.urls.get(provider);
    if (!known) this.urls.set(provider, (known = new Map<string, string>()));
    const key = `${surface} ${path}${search}`;
    let url = known.get(key);
    if (url === undefined) {
      url = buildUpstreamUrl(provider, path, search, surface);
      if (known.size >= MAX_URLS) known.clear();
      known.set(key, url);
    }
    return url;
  }
}

function sniffModel(body: Buffer): string | undefined {
  const span = findTopLevelModel(body);
  if (!span) return undefined;
  try {
    const v = JSON.parse(body.toString('utf8', span.start, span.end)) as unknown;
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined; // a bad escape in the string (`"\x"`): not unambiguous after all
  }
}

/** The model a JSON body names: a byte scan when it is unambiguous, else a full parse. */
function readModel(body: Buffer): unknown {
  const quick = sniffModel(body);
  if (quick !== undefined) return quick;
  try {
    const parsed = JSON.parse(body.toString('utf8')) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as { model?: unknown }).model : undefined;
  } catch (e) {
    // JSON.parse's message quotes the body: say where it breaks, never what is there.
    throw new AppError(
      'invalid_json',
      `Body is not valid JSON${whereJsonBreaks(e)}: send a JSON object`,
    );
  }
}

/** Where JSON.parse gave up, from its message (which also quotes the text, so is never shown). */
function whereJsonBreaks(e: unknown): string {
  const message = e instanceof Error ? e.message : '';
  if (/end of JSON input/i.test(message)) return ' (it ends before the value is complete)';
  const at = /at position (\d+)/.exec(message);
  return at ? ` (at character ${at[1]})` : '';
}
