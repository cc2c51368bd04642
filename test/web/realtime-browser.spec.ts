import type { Browser } from 'playwright-core';
import { launchChromium, requireChromium } from '../helpers/chromium';
import { ApiClient } from '../helpers/http';
import { testJwt } from '../helpers/modes';
import { type RealtimeDouble, startRealtimeDouble, USAGE } from '../helpers/realtime-double';
import { startStack, type Stack } from '../helpers/start-stack';

const KEY = 'sk-browser-realtime-key-0001';

/**
 * A browser cannot set headers on a WebSocket: the README's example, run in Chromium, opens a
 * realtime session with a provider-scoped byok_ access token in the subprotocol.
 */
describe('realtime from a browser (Chromium)', () => {
  let browser: Browser | undefined;
  let rt: RealtimeDouble;
  let stack: Stack | undefined;
  let token: string;

  beforeAll(async () => {
    requireChromium();
    rt = await startRealtimeDouble();
    stack = await startStack({ env: { OPENAI_BASE_URL: rt.url } });
    const api = new ApiClient(stack.url, testJwt('rt-browser'));
    expect(
      (await api.post('/api/user/api-keys', { provider: 'openai', keyName: 'k', apiKey: KEY }))
        .status,
    ).toBe(201);
    const created = await api.post('/api/user/tokens', { name: 'voice', providers: ['openai'] });
    expect(created.status).toBe(201);
    token = (created.json as { token: string }).token;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await rt?.close();
  });

  it('opens a session with the subprotocol credential and gets a response with usage', async () => {
    const page = await browser!.newPage();
    await page.goto(`${stack!.url}/healthz`);
    const wsUrl = `${stack!.url.replace(/^http/, 'ws')}/v1/realtime?model=openai/gpt-realtime`;
    const seen = await page.evaluate(
      ({ url, token }) =>
        new Promise<{ protocol: string; types: string[]; done: unknown; close: number }>(
          (resolve, reject) => {
            const ws = new WebSocket(url, ['realtime', `openai-insecure-api-key.${token}`]);
            const types: string[] = [];
            let done: unknown;
            ws.onerror = () => reject(new Error('the WebSocket failed'));
            ws.onopen = () => ws.send(JSON.stringify({ type: 'response.create' }));
            ws.onmessage = (e) => {
              const event = JSON.parse(e.data as string) as { type: string };
              types.push(event.type);
              if (event.type === 'response.done') {
                done = event;
                ws.close(1000, 'thanks');
              }
            };
            ws.onclose = (e) => resolve({ protocol: ws.protocol, types, done, close: e.code });
          },
        ),
      { url: wsUrl, token },
    );
    expect(seen.protocol).toBe('realtime');
    expect(seen.types[0]).toBe('session.created');
    expect(seen.types.at(-1)).toBe('response.done');
    expect(seen.done).toMatchObject({ response: { usage: USAGE } });
    expect(seen.close).toBe(1000);
    const up = rt.sessions.at(-1)!;
    expect(up.key).toBe(KEY);
    expect(up.headers.origin).toBeUndefined();
    expect(JSON.stringify(up.headers)).not.toContain(token);
    await page.close();
  });
});
