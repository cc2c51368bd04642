import type { FastifyInstance } from 'fastify';

const ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
const rank = (m: string): number => (ORDER.includes(m) ? ORDER.indexOf(m) : ORDER.length);

/** Fastify's route syntax (`/api/user/api-keys/:id/rotate`) as a RegExp over request paths. */
function patternOf(url: string): RegExp {
  const segments = url.split('/').map((s) => {
    if (s.startsWith(':')) return '[^/]+';
    if (s === '*') return '.*';
    return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  });
  return new RegExp(`^${segments.join('/')}$`);
}

/**
 * The methods each `/api` route takes, so a request whose path has routes but not for its method
 * is answered 405 with `Allow` (RFC 9110) rather than 404. The proxy routes take every method.
 * Like the router, it goes by the path's shape: `/api/user/api-keys/<anything>` allows GET
 * (a provider id), PATCH and DELETE (a key id), as the OpenAPI document's one path there says.
 */
export class RouteMethods {
  private readonly routes = new Map<string, { pattern: RegExp; methods: Set<string> }>();

  /** Records the /api routes added to `fastify` from now on: call it before app.init(). */
  static track(fastify: FastifyInstance): RouteMethods {
    const table = new RouteMethods();
    fastify.addHook('onRoute', (route) => table.add(route.method, route.url ?? ''));
    return table;
  }

  add(method: string | string[], url: string): void {
    if (url !== '/api' && !url.startsWith('/api/')) return;
    let route = this.routes.get(url);
    if (!route) {
      route = { pattern: patternOf(url), methods: new Set() };
      this.routes.set(url, route);
    }
    for (const m of [method].flat()) route.methods.add(m.toUpperCase());
  }

  /** Every method some route takes for `path` (HEAD with GET), in a stable order; none if no route matches. */
  allowed(path: string): string[] {
    const methods = new Set<string>();
    for (const { pattern, methods: own } of this.routes.values())
      if (pattern.test(path)) for (const m of own) methods.add(m);
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  }
}
