import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pageHeaders } from '../common/http/page-headers';

/**
 * Where `npm run build:web` (Vite, web/vite.config.mts) writes the settings page. src/web and its
 * build output dist/web both sit two levels below the repository root, so this holds for both.
 */
export const SETTINGS_PAGE_ROOT = resolve(__dirname, '..', '..', 'dist', 'public');

export const NOT_BUILT =
  'The settings page has not been built. Run `npm run build` (it runs `npm run build:web`), then restart byok-proxy.\n';

/** The page holds a credential in sessionStorage: see pageHeaders. */
export const PAGE_HEADERS = pageHeaders();

function setHeaders(reply: FastifyReply, path: string): void {
  void reply.headers(PAGE_HEADERS);
  // Vite puts a content hash in every asset name; index.html must be fetched fresh.
  const hashed = /[\\/]assets[\\/][^\\/]+-[\w-]{8,}\.\w+$/.test(path);
  void reply.header('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
}

/**
 * Serves the built bundle at `/` as plain Fastify routes, one per file (`wildcard: false`), so it
 * can never shadow /api, /v1, /proxy, /docs or the health routes. The routes sit outside Nest's
 * guard: the page is public, its API calls carry the token. Without a bundle `/` answers 503 in
 * words instead of the app failing to start.
 */
export function registerSettingsPage(
  fastify: FastifyInstance,
  root: string = SETTINGS_PAGE_ROOT,
): 'served' | 'not-built' {
  if (!existsSync(join(root, 'index.html'))) {
    fastify.get('/', (_req, reply) =>
      reply
        .code(503)
        .header('cache-control', 'no-store')
        .type('text/plain; charset=utf-8')
        .send(NOT_BUILT),
    );
    return 'not-built';
  }
  void fastify.register(fastifyStatic, {
    root,
    prefix: '/',
    wildcard: false,
    index: ['index.html'],
    decorateReply: false,
    cacheControl: false,
    etag: true,
    lastModified: false,
    setHeaders,
  });
  return 'served';
}
