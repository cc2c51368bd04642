import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { eventually } from '../helpers/eventually';
import { ApiClient } from '../helpers/http';
import { STORE_MODES, testJwt } from '../helpers/modes';
import { openRealtime } from '../helpers/realtime-client';
import { type RealtimeDouble, startRealtimeDouble } from '../helpers/realtime-double';
import { startStack, type Stack } from '../helpers/start-stack';

const KEY = 'sk-relay-realtime-key-0001';
const PATH = '/v1/realtime?model=openai/gpt-realtime';

/** What a session carries and how it ends: bytes, pings, close codes, sizes and back-pressure. */
describe.each(STORE_MODES)('realtime relay: $name', (mode) => {
  let stack: Stack | undefined;
  let rt: RealtimeDouble;
  const alice = testJwt('rt-relay');

  beforeAll(async () => {
    rt = await startRealtimeDouble();
    stack = await startStack({
      mode,
      env: { OPENAI_BASE_URL: rt.url, WS_MAX_BUFFERED_BYTES: String(256 * 1024) },
    });
    const saved = await new ApiClient(stack.url, alice).post('/api/user/api-keys', {
      provider: 'openai',
      keyName: 'voice',
      apiKey: KEY,
    });
    expect(saved.status).toBe(201);
  });

  afterAll(async () => {
    await stack?.close();
    await rt?.close();
  });
  it('relays text and binary messages in order and byte for byte, and pings both ways', async () => {
    const c = await openRealtime(stack!.url, PATH, {
      headers: { authorization: `Bearer ${alice}` },
    });
    await c.next('session.created');
    const up = rt.sessions.at(-1)!;
    const texts = ['{"type":"note","text":"héllo ✓"}', '  {"spaced" : 1 }  ', 'not json at all'];
    const binaries = [randomBytes(1000), randomBytes(70_000), Buffer.alloc(0)];
    for (let i = 0; i < 3; i++) {
      c.ws.send(texts[i]);
      c.ws.send(binaries[i], { binary: true });
    }
    const sent = texts.flatMap((t, i) => [
      { data: Buffer.from(t), isBinary: false },
      { data: binaries[i], isBinary: true },
    ]);
    await eventually(() => expect(c.received.length).toBe(1 + sent.length));
    expect(up.received).toEqual(sent);
    expect(c.received.slice(1)).toEqual(sent); // the double echoes each one
    const pong = new Promise<Buffer>((resolve) => c.ws.once('pong', resolve));
    c.ws.ping(Buffer.from('are you there'));
    expect((await pong).toString()).toBe('are you there');
    c.ws.close();
    await c.closed;
  });

  it('refuses a malformed WebSocket handshake with 400 before dialling the provider', async () => {
    const before = rt.sessions.length;
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${stack!.url}${PATH}`, {
        headers: {
          connection: 'Upgrade',
          upgrade: 'websocket',
          authorization: `Bearer ${alice}`,
          'sec-websocket-version': '13',
        },
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({
      error: { code: 'validation_failed', message: expect.stringContaining('Sec-WebSocket-Key') },
    });
    expect(rt.sessions.length).toBe(before);
  });

  it('answers an Upgrade that is not a WebSocket (h2c) with 400 naming the fix', async () => {
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${stack!.url}/v1/chat/completions`, {
        headers: { connection: 'Upgrade, HTTP2-Settings', upgrade: 'h2c', 'http2-settings': '' },
      });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({
      error: { code: 'validation_failed', message: expect.stringContaining('without Upgrade') },
    });
  });

  it('closes a session whose message is larger than WS_MAX_BUFFERED_BYTES with 1009', async () => {
    const c = await openRealtime(stack!.url, PATH, {
      headers: { authorization: `Bearer ${alice}` },
    });
    await c.next('session.created');
    const up = rt.sessions.at(-1)!;
    c.ws.send(Buffer.alloc(300 * 1024), { binary: true }); // the cap is 256 KiB
    expect((await c.closed).code).toBe(1009);
    await eventually(() => expect(up.closed?.code).toBe(1009));
    expect(up.received).toHaveLength(0);
  });

  it('passes close codes and reasons both ways, and a dropped provider as 1014', async () => {
    const auth = { headers: { authorization: `Bearer ${alice}` } };
    const a = await openRealtime(stack!.url, PATH, auth);
    const upA = rt.sessions.at(-1)!;
    a.ws.close(4001, 'client says bye');
    await eventually(() => expect(upA.closed).toEqual({ code: 4001, reason: 'client says bye' }));

    const b = await openRealtime(stack!.url, PATH, auth);
    b.ws.send(JSON.stringify({ type: 'test.close', code: 4002, reason: 'provider says bye' }));
    expect(await b.closed).toEqual({ code: 4002, reason: 'provider says bye' });

    const c = await openRealtime(stack!.url, PATH, auth);
    c.ws.send(JSON.stringify({ type: 'test.drop' }));
    expect((await c.closed).code).toBe(1014);

    const d = await openRealtime(stack!.url, PATH, auth);
    const upD = rt.sessions.at(-1)!;
    d.ws.terminate(); // the client vanishes: the provider's socket is closed too
    await eventually(() => expect(upD.closed?.code).toBe(1001));
  });

  it('applies back-pressure: a client that does not read pauses the provider', async () => {
    const c = await openRealtime(stack!.url, PATH, {
      headers: { authorization: `Bearer ${alice}` },
    });
    await c.next('session.created');
    const up = rt.sessions.at(-1)!;
    const count = 512;
    const size = 64 * 1024; // 32 MiB in all, against a 256 KiB cap
    c.ws.pause();
    c.ws.send(JSON.stringify({ type: 'test.flood', count, size }));
    // The proxy stopped reading: what it did not take waits in the double's own send buffer.
    await eventually(() => expect(up.socket.bufferedAmount).toBeGreaterThan(16 * 1024 * 1024));
    c.ws.resume();
    await eventually(
      () => expect(c.received.filter((m) => m.isBinary)).toHaveLength(count),
      30_000,
    );
    expect(c.received.filter((m) => m.isBinary).every((m, i) => m.data[0] === i % 256)).toBe(true);
    c.ws.close();
    await c.closed;
  });
});
