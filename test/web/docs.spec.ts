import { settingsPage } from '../helpers/settings-page';

/**
 * Swagger UI at /docs shares its origin with the settings page (a token in sessionStorage): it
 * is served under a strict Content-Security-Policy, from this service's own files, and must
 * still render the API in Debian's headless Chromium (never a downloaded browser). The harness
 * fails a test on any script error or CSP violation on a page it opened.
 */
const t = settingsPage();

describe('/docs', () => {
  it('answers with a strict CSP that forbids framing, and references no other origin', async () => {
    for (const path of ['/docs', '/docs/', '/docs/swagger-ui-init.js', '/docs/swagger-ui.css']) {
      const res = await fetch(`${t.running.url}${path}`);
      expect(res.status).toBe(200);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toMatch(/script-src[^;]*'unsafe-(inline|eval)'/);
      expect(csp).toContain("connect-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      const text = await res.text();
      if (path === '/docs') {
        // Every script is a file served from here: no inline script, no CDN.
        expect(text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
        for (const src of text.matchAll(/<(?:script|link)\b[^>]*\b(?:src|href)=["']([^"']+)/gi))
          expect(src[1]).not.toMatch(/^(https?:)?\/\//i);
      }
    }
    // The API's own routes are untouched.
    const api = await fetch(`${t.running.url}/api/providers`);
    expect(api.headers.get('content-security-policy')).toBeNull();
  });

  it('renders the operations in Chromium with no CSP violation', async () => {
    const foreign: string[] = [];
    t.context.on('request', (r) => {
      if (!r.url().startsWith(t.running.url) && !r.url().startsWith('data:')) foreign.push(r.url());
    });
    const page = await t.open('/docs');
    await page.locator('.opblock-summary-path', { hasText: '/api/providers' }).first().waitFor();
    await page
      .locator('.opblock-summary-path', { hasText: '/api/user/api-keys' })
      .first()
      .waitFor();
    expect(await page.locator('.opblock').count()).toBeGreaterThan(10);
    // Expanding an operation renders its parameters and responses (more components, more styles).
    await page.locator('.opblock-summary', { hasText: '/api/providers' }).first().click();
    await page.locator('.responses-wrapper').first().waitFor();
    expect(foreign).toEqual([]);
  });
});
