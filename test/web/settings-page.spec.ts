import Fastify, { type FastifyInstance } from 'fastify';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NOT_BUILT, registerSettingsPage } from '../../src/web/settings-page';

/** How `/` is served from a bundle directory, on a bare Fastify instance (no app, no browser). */
describe('registerSettingsPage', () => {
  let dir: string;
  let fastify: FastifyInstance;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'byok-web-'));
    fastify = Fastify();
    fastify.get('/api/thing', () => ({ ok: true }));
    fastify.get('/healthz', () => ({ status: 'ok' }));
  });

  afterEach(async () => {
    await fastify.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 in words, and does not fail, when the bundle was never built', async () => {
    expect(registerSettingsPage(fastify, join(dir, 'missing'))).toBe('not-built');
    const res = await fastify.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.body).toBe(NOT_BUILT);
    expect(res.body).toContain('npm run build');
    expect((await fastify.inject({ method: 'GET', url: '/api/thing' })).json()).toEqual({
      ok: true,
    });
  });

  it('serves index.html and hashed assets with a strict CSP, and shadows no other route', async () => {
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>settings</title>');
    writeFileSync(join(dir, 'assets', 'index-AbC123xy.js'), 'console.log(1)');
    expect(registerSettingsPage(fastify, dir)).toBe('served');

    for (const url of ['/', '/index.html']) {
      const page = await fastify.inject({ method: 'GET', url });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain('<title>settings</title>');
      expect(page.headers['content-type']).toContain('text/html');
      expect(page.headers['cache-control']).toBe('no-cache');
      expect(page.headers['content-security-policy']).toContain("default-src 'none'");
      expect(page.headers['x-frame-options']).toBe('DENY');
    }
    const asset = await fastify.inject({ method: 'GET', url: '/assets/index-AbC123xy.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');

    expect((await fastify.inject({ method: 'GET', url: '/api/thing' })).json()).toEqual({
      ok: true,
    });
    expect((await fastify.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({
      status: 'ok',
    });
    for (const url of ['/nope.js', '/assets/', '/assets/../index.html/x', '/..%2fpackage.json'])
      expect((await fastify.inject({ method: 'GET', url })).statusCode).toBe(404);
    expect((await fastify.inject({ method: 'POST', url: '/' })).statusCode).toBe(404);
  });
});
