import { AsyncLocalStorage } from 'node:async_hooks';
import { ApiClient } from '../helpers/http';
import { testJwt } from '../helpers/modes';
import { startStack, type Stack } from '../helpers/start-stack';

/**
 * Guards for what the proxy's hot path must not pay for. On Node 20 the first
 * AsyncLocalStorage.run() or enterWith() turns on promise hooks for the whole process, for good:
 * every promise of every proxied request then runs through them (measured with bench/cpu.mjs: a
 * third of byok-proxy's CPU per request). /api requests used to start one for the audit
 * context and one for nestjs-pino's request logger; the audit rows now name their request
 * through the caller, and nestjs-pino's middleware is applied to no route.
 */
describe('hot path', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack?.close());

  it('starts no AsyncLocalStorage, for /api writes, audit rows or proxied requests', async () => {
    const run = jest.spyOn(AsyncLocalStorage.prototype, 'run');
    const enterWith = jest.spyOn(AsyncLocalStorage.prototype, 'enterWith');
    try {
      const alice = new ApiClient(stack.url, testJwt('hot-path-alice'));
      const saved = await alice.post('/api/user/api-keys', {
        provider: 'cerebras',
        keyName: 'k',
        apiKey: 'csk-hot-path-0000000000000000000001',
      });
      expect(saved.status).toBe(201);
      const id = (saved.json as { id: string }).id;
      expect((await alice.patch(`/api/user/api-keys/${id}`, { keyName: 'k2' })).status).toBe(200);
      expect((await alice.get('/api/user/api-keys')).status).toBe(200);
      const chat = await alice.post('/v1/chat/completions', {
        model: 'cerebras/llama-3.3-70b',
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(chat.status).toBe(200);
      expect(run).not.toHaveBeenCalled();
      expect(enterWith).not.toHaveBeenCalled();
    } finally {
      run.mockRestore();
      enterWith.mockRestore();
    }
  });
});
