import { defineConfig } from 'vite';

/**
 * The settings page bundle. Run from the repository root: `vite build --config web/vite.config.mts`
 * writes dist/public, which src/web/web.module.ts serves at `/`. `vite --config web/vite.config.mts`
 * serves it with live reload and sends /api to a byok-proxy on localhost:8080.
 */
export default defineConfig({
  root: 'web',
  base: '/',
  publicDir: false,
  build: {
    outDir: '../dist/public',
    emptyOutDir: true,
    target: 'es2022',
    // One small script and one stylesheet: nothing inline, so a strict CSP holds.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  server: { proxy: { '/api': 'http://localhost:8080' } },
});
