import { ApiClient } from '../helpers/http';
import { testJwt } from '../helpers/modes';
import { openRealtime, refusedHandshake } from '../helpers/realtime-client';
import { type RealtimeDouble, startRealtimeDouble } from '../helpers/realtime-double';
import { startStack, type Stack } from '../helpers/start-stack';
import { eventually } from '../helpers/eventually';

const PATH = '/v1/realtime?model=openai/gpt-realtime';
const KEY = 'sk-lifetimes-realtime-0001';
const jwt = testJwt('rt-life');
const auth = { headers: { authorization: `Bearer ${jwt}` } };

/** How long sessions live: idle and maximum lengths, and shutdown. Store-independent: embedded. */
describe('realtime session lifetimes', () => {
  let rt: RealtimeDouble;

  beforeAll(async () => {
    rt = await startRealtimeDouble();
  });

  afterAll(async () => {
    await rt?.close();
  });

  const stackWith = async (env: Record<string, string>): Promise<Stack> => {
    const stack = await startStack({ env: { OPENAI_BASE_URL: rt.url, ...env } });
    const saved = await new ApiClient(stack.url, jwt).post('/api/user/api-keys', {
      provider: 'openai',
      keyName: 'voice',
      apiKey: KEY,
    });
    expect(saved.status).toBe(201);
    return stack;
  };

  describe('idle and maximum lengths', () => {
    let stack: Stack | undefined;

    beforeAll(async () => {
      stack = await stackWith({ WS_IDLE_TIMEOUT_MS: '1000', WS_MAX_SESSION_MS: '2500' });
    });

    afterAll(async () => {
      await stack?.close();
    });

    it('closes an idle session on both sides with 1001', async () => {
      const c = await openRealtime(stack!.url, PATH, auth);
      const up = rt.sessions.at(-1)!;
      expect(await c.closed).toEqual({ code: 1001, reason: 'idle longer than WS_IDLE_TIMEOUT_MS' });
      await eventually(() => expect(up.closed?.code).toBe(1001));
    });

    it('closes a busy session at its maximum length with 1008', async () => {
      const c = await openRealtime(stack!.url, PATH, auth);
      const chatter = setInterval(() => c.ws.send('still here'), 200);
      try {
        expect(await c.closed).toEqual({
          code: 1008,
          reason: 'session longer than WS_MAX_SESSION_MS',
        });
      } finally {
        clearInterval(chatter);
      }
      expect(c.received.filter((m) => m.data.toString() === 'still here').length).toBeGreaterThan(
        0,
      );
    });
  });

  it('on shutdown: refuses new sessions, lets open ones finish, then closes the rest with 1001', async () => {
    const stack = await stackWith({ SHUTDOWN_TIMEOUT_MS: '3000' });
    try {
      const finishing = await openRealtime(stack.url, PATH, auth);
      const lingering = await openRealtime(stack.url, PATH, auth);
      const upLingering = rt.sessions.at(-1)!;
      const closing = stack.app.close();
      const refused = await refusedHandshake(stack.url, PATH, auth);
      expect(refused.status).toBe(503);
      // Still relayed while the replica drains.
      finishing.ws.send('last words');
      await eventually(() =>
        expect(finishing.received.map((m) => m.data.toString())).toContain('last words'),
      );
      finishing.ws.close(1000, 'finished');
      expect(await finishing.closed).toEqual({ code: 1000, reason: 'finished' });
      expect(await lingering.closed).toEqual({ code: 1001, reason: 'server shutting down' });
      await closing;
      expect(upLingering.closed?.code).toBe(1001);
    } finally {
      await stack.double.close();
    }
  });
});
