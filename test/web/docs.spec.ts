import type { Browser } from 'playwright-core';
import { launchChromium, requireChromium } from '../helpers/chromium';
import { startStack, type Stack } from '../helpers/start-stack';

/**
 * Swagger UI at /docs shares its origin with the settings page (a token in sessionStorage): it
 * is served under a strict Content-Security-Policy, from this service's own files, and must
 * still render the API in Debian's headless Chromium (never a downloaded browser).
 */

jest.setTimeout(120_000);

let stack: Stack | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  requireChromium();
  stack = await startStack();
  browser = await launchChromium();
});

afterAll(async () => {
  try {
    await browser?.close();
  } finally {
    await stack?.close();
  }
});

describe('/docs', () => {
  it('answers with a strict CSP that forbids framing, and references no other origin', async () => {
    for (const path of ['/docs', '/docs/', '/docs/swagger-ui-init.js', '/docs/swagger-ui.css']) {
      const res = await fetch(`${stack!.url}${path}`);
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
    const api = await fetch(`${stack!.url}/api/providers`);
    expect(api.headers.get('content-security-policy')).toBeNull();
  });

  it('renders the operations in Chromium with no CSP violation', async () => {
    const context = await browser!.newContext();
    try {
      const page = await context.newPage();
      const problems: string[] = [];
      const foreign: string[] = [];
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('console', (m) => {
        if (/Content Security Policy|Refused to|Uncaught/i.test(m.text())) problems.push(m.text());
      });
      page.on('request', (r) => {
        if (!r.url().startsWith(stack!.url) && !r.url().startsWith('data:')) foreign.push(r.url());
      });
      // Init scripts run outside the page's CSP: a listener that sees every violation report.
      await page.addInitScript(
        "document.addEventListener('securitypolicyviolation', (e) => console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));",
      );
      await page.goto(`${stack!.url}/docs`);
      await page.locator('.opblock-summary-path', { hasText: '/api/providers' }).first().waitFor();
      await page
        .locator('.opblock-summary-path', { hasText: '/api/user/api-keys' })
        .first()
        .waitFor();
      expect(await page.locator('.opblock').count()).toBeGreaterThan(10);
      // Expanding an operation renders its parameters and responses (more components, more styles).
      await page.locator('.opblock-summary', { hasText: '/api/providers' }).first().click();
      await page.locator('.responses-wrapper').first().waitFor();
      expect(problems).toEqual([]);
      expect(foreign).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
