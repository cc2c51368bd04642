import { Injectable, Logger } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { badUrl, paramTooLong, MAX_PARAM_LENGTH } from '../common/http/router-errors';
import { Tracing } from '../tracing/tracing';
import { ProxyService } from './proxy.service';

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);

/**
 * `/v1`, `/v1/*` and `/proxy/*`, taken straight from the HTTP server's request listener
 * (frontServer) before Fastify sees them: no router, hooks, content-type parsers or reply object
 * on the hot path. The body is read as raw bytes (readProxyBody: any content type,
 * PROXY_BODY_LIMIT, request encodings) and ProxyService writes the OpenAI-shaped answer itself.
 * Anything else, a proxy path with another method included, goes to Fastify (a 404 in the
 * OpenAI envelope there, as before).
 */
@Injectable()
export class ProxyEndpoints {
  private readonly logger = new Logger('Proxy');

  constructor(
    private readonly proxy: ProxyService,
    private readonly tracing: Tracing,
  ) {}

  /** Takes the request when it is the proxy's: true when taken. */
  take(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url ?? '';
    const end = pathEnd(url);
    const prefix = proxyPrefix(url, end);
    if (prefix === undefined || !METHODS.has(req.method ?? '')) return false;
    // What Fastify's router refused before a route ran (routerErrors), answered the same way.
    const refused = end - prefix > MAX_PARAM_LENGTH ? paramTooLong() : undecodable(url, end);
    // handle() answers every failure itself; this is for a bug past that point (no framework
    // above would catch it, and an unhandled rejection ends the process).
    const trace = this.tracing.proxyRequest(req, res);
    const handled = trace
      ? trace.run(() => this.proxy.handle(req, res, refused, trace))
      : this.proxy.handle(req, res, refused);
    handled.catch((e: unknown) => {
      this.logger.error({ msg: 'proxy handler failed', err: { message: (e as Error).message } });
      res.destroy();
    });
    return true;
  }
}

/** Where the path ends: at `?` or `#`, as the router reads it. */
function pathEnd(url: string): number {
  for (let i = 0; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 0x3f || c === 0x23) return i;
  }
  return url.length;
}

/** The length of `/v1/` or `/proxy/` when the path is a proxy path (`/v1` alone: 3). */
function proxyPrefix(url: string, end: number): number | undefined {
  if (url.startsWith('/v1/')) return 4;
  if (url.startsWith('/proxy/')) return 7;
  return end === 3 && url.startsWith('/v1') ? 3 : undefined;
}

function undecodable(url: string, end: number) {
  const path = url.slice(0, end);
  if (!path.includes('%')) return undefined;
  try {
    decodeURIComponent(path);
    return undefined;
  } catch {
    return badUrl();
  }
}
