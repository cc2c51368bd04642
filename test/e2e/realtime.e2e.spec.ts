import OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';
import { Client } from 'pg';
import { UsageRecorder } from '../../src/usage/usage.recorder';
import { eventually } from '../helpers/eventually';
import { ApiClient } from '../helpers/http';
import { STORE_MODES, testJwt } from '../helpers/modes';
import { openRealtime, refusedHandshake } from '../helpers/realtime-client';
import { type RealtimeDouble, startRealtimeDouble, USAGE } from '../helpers/realtime-double';
import { startStack, type Stack } from '../helpers/start-stack';
import { startTlsFront } from '../helpers/tls-front';

const KEYS = {
  alice: 'sk-alice-realtime-key-0001',
  bobBad: 'sk-bob-realtime-rejected-0002',
  bobGood: 'sk-bob-realtime-second-0003',
  carol: 'sk-carol-realtime-key-0004',
  daveBad: 'sk-dave-realtime-rejected-0005',
};
const hint = (key: string) => `…${key.slice(-4)}`;
const PATH = '/v1/realtime?model=openai/gpt-realtime';

describe.each(STORE_MODES)('realtime WebSocket pass-through: $name', (mode) => {
  let stack: Stack | undefined;
  let rt: RealtimeDouble;
  const alice = testJwt('rt-alice');
  const bob = testJwt('rt-bob');
  const carol = testJwt('rt-carol');
  const admin = testJwt('rt-admin', { byok_admin: true });

  beforeAll(async () => {
    rt = await startRealtimeDouble();
    stack = await startStack({
      mode,
      env: { OPENAI_BASE_URL: rt.url, WS_MAX_BUFFERED_BYTES: String(256 * 1024) },
    });
    const save = async (jwt: string, keyName: string, apiKey: string) =>
      expect(
        (
          await new ApiClient(stack!.url, jwt).post('/api/user/api-keys', {
            provider: 'openai',
            keyName,
            apiKey,
          })
        ).status,
      ).toBe(201);
    await save(alice, 'voice', KEYS.alice);
    await save(bob, 'first', KEYS.bobBad);
    await save(bob, 'second', KEYS.bobGood);
    await save(carol, 'voice', KEYS.carol);
    rt.rejectKeys.add(KEYS.bobBad);
  });

  afterAll(async () => {
    await stack?.close();
    await rt?.close();
  });

  it('authenticates by subprotocol, injects the key and OpenAI-Beta, and strips the credential', async () => {
    const c = await openRealtime(stack!.url, PATH, {
      protocols: ['realtime', `openai-insecure-api-key.${alice}`],
    });
    const up = rt.sessions.at(-1)!;
    expect(up.key).toBe(KEYS.alice);
    expect(up.headers['openai-beta']).toBe('realtime=v1');
    expect(up.url).toBe('/v1/realtime?model=gpt-realtime');
    expect(up.headers['sec-websocket-protocol']).toBe('realtime');
    expect(JSON.stringify(up.headers)).not.toContain(alice);
    expect(c.ws.protocol).toBe('realtime');
    expect((await c.next('session.created')).session).toMatchObject({ model: 'gpt-realtime' });
    c.ws.close(1000, 'done');
    await c.closed;
  });

  it("serves the official openai SDK's realtime WebSocket client pointed at the proxy", async () => {
    // The SDK always dials wss://: a TLS front stands where a deployment's ingress would.
    const tls = await startTlsFront(stack!.url);
    try {
      const client = new OpenAI({ apiKey: alice, baseURL: `${tls.url}/v1` });
      const rtws = new OpenAIRealtimeWS(
        { model: 'openai/gpt-realtime', options: { ca: tls.ca } },
        client,
      );
      const types: string[] = [];
      const done = new Promise<unknown>((resolve, reject) => {
        rtws.on('event', (e) => types.push(e.type));
        rtws.on('response.done', resolve);
        rtws.on('error', reject);
      });
      await new Promise((resolve) => rtws.socket.once('open', resolve));
      rtws.send({ type: 'session.update', session: { type: 'realtime', instructions: 'hi' } });
      rtws.send({ type: 'response.create' });
      expect(await done).toMatchObject({ response: { usage: USAGE } });
      expect(types).toEqual([
        'session.created',
        'session.updated',
        'response.created',
        'response.output_text.delta',
        'response.output_text.delta',
        'response.output_text.delta',
        'response.done',
      ]);
      expect(rt.sessions.at(-1)!.key).toBe(KEYS.alice);
      expect(JSON.stringify(rt.sessions.at(-1)!.headers)).not.toContain(alice);
      rtws.close();
    } finally {
      await tls.close();
    }
  });

  it('answers a response with usage, recorded per response under operation realtime', async () => {
    const c = await openRealtime(stack!.url, PATH, { headers: { 'x-api-key': carol } });
    c.ws.send(JSON.stringify({ type: 'session.update', session: { instructions: 'hi' } }));
    await c.next('session.updated');
    c.ws.send(JSON.stringify({ type: 'response.create' }));
    await c.next('response.done');
    c.ws.send(JSON.stringify({ type: 'response.create' }));
    await eventually(() =>
      expect(c.events().filter((e) => e.type === 'response.done')).toHaveLength(2),
    );
    const deltas = c.events().filter((e) => e.type === 'response.output_text.delta');
    expect(deltas.map((d) => d.delta).join('')).toBe('Hello from realtimeHello from realtime');
    c.ws.close();
    await c.closed;

    await stack!.app.app.get(UsageRecorder).flush();
    const report = await new ApiClient(stack!.url, carol).get('/api/user/usage?groupBy=model');
    expect(report.json).toMatchObject({
      data: [
        {
          group: 'openai/gpt-realtime',
          requests: 2,
          promptTokens: 2 * USAGE.input_tokens,
          completionTokens: 2 * USAGE.output_tokens,
        },
      ],
    });
    const metrics = await fetch(`${stack!.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(
      /gen_ai_client_token_usage_count\{[^}]*gen_ai_operation_name="realtime"/,
    );
  });

  it('counts realtime tokens against limits: a spent window refuses the next session with 429', async () => {
    const admins = new ApiClient(stack!.url, admin);
    const put = await admins.call('PUT', '/api/admin/users/rt-carol/limits', {
      tokensPerMinute: 10,
    });
    expect(put.status).toBe(200);
    const c = await openRealtime(stack!.url, PATH, { headers: { 'x-api-key': carol } });
    c.ws.send(JSON.stringify({ type: 'response.create' }));
    await c.next('response.done'); // 18 tokens: over the 10 allowed
    c.ws.close();
    await c.closed;
    const refused = await eventually(async () => {
      const r = await refusedHandshake(stack!.url, PATH, { headers: { 'x-api-key': carol } });
      expect(r.status).toBe(429);
      return r;
    });
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: 'rate_limited' } });
    expect(refused.headers['retry-after']).toBeDefined();
    await admins.call('PUT', '/api/admin/users/rt-carol/limits', { tokensPerMinute: null });
  });

  it('scrubs a key the provider echoes in an event', async () => {
    const c = await openRealtime(stack!.url, PATH, {
      headers: { authorization: `Bearer ${alice}` },
    });
    c.ws.send(JSON.stringify({ type: 'test.echo_key' }));
    const e = await c.next('error');
    expect(rt.sessions.at(-1)!.sent.at(-1)!.data.toString()).toContain(KEYS.alice);
    expect(JSON.stringify(e)).toContain(hint(KEYS.alice));
    expect(c.received.map((m) => m.data.toString()).join('')).not.toContain(KEYS.alice);
    c.ws.close();
    await c.closed;
  });

  it('opens declared native paths under /proxy/{provider}/ too', async () => {
    const c = await openRealtime(stack!.url, '/proxy/openai/v1/realtime?model=gpt-realtime', {
      protocols: [`openai-insecure-api-key.${alice}`],
    });
    expect(rt.sessions.at(-1)!.url).toBe('/v1/realtime?model=gpt-realtime');
    expect(rt.sessions.at(-1)!.headers['sec-websocket-protocol']).toBeUndefined();
    await c.next('session.created');
    c.ws.close();
    await c.closed;
  });

  it('fails over to the next key when the provider refuses the handshake', async () => {
    const before = rt.sessions.length;
    const c = await openRealtime(stack!.url, PATH, { headers: { authorization: `Bearer ${bob}` } });
    expect(rt.sessions.length).toBe(before + 1);
    expect(rt.sessions.at(-1)!.key).toBe(KEYS.bobGood);
    c.ws.close();
    await c.closed;
  });

  it("names a rejected key by its hint, with the provider's answer scrubbed of it", async () => {
    const dave = testJwt('rt-dave');
    const saved = await new ApiClient(stack!.url, dave).post('/api/user/api-keys', {
      provider: 'openai',
      keyName: 'only',
      apiKey: KEYS.daveBad,
    });
    expect(saved.status).toBe(201);
    rt.rejectKeys.add(KEYS.daveBad);
    const r = await refusedHandshake(stack!.url, PATH, {
      headers: { authorization: `Bearer ${dave}` },
    });
    expect(r.status).toBe(401);
    expect(JSON.parse(r.body)).toMatchObject({ error: { code: 'provider_key_rejected' } });
    expect(r.body).toContain(`refused key ${hint(KEYS.daveBad)}`); // the provider's words, scrubbed
    expect(r.body).not.toContain(KEYS.daveBad);
  });

  it('refuses before the upgrade, in the OpenAI envelope, saying what to fix', async () => {
    const url = stack!.url;
    const cases: [number, string, Promise<{ status: number; body: string }>][] = [
      [401, 'unauthorized', refusedHandshake(url, PATH)],
      [
        400,
        'validation_failed',
        refusedHandshake(url, '/proxy/openai/v1/chat/completions', {
          headers: { authorization: `Bearer ${alice}` },
        }),
      ],
      [
        400,
        'validation_failed',
        refusedHandshake(url, '/v1/realtime?model=cerebras/llama', {
          headers: { authorization: `Bearer ${alice}` },
        }),
      ],
      [
        400,
        'provider_key_missing',
        refusedHandshake(url, PATH, { headers: { authorization: `Bearer ${testJwt('nokey')}` } }),
      ],
      [404, 'not_found', refusedHandshake(url, '/api/providers')],
    ];
    for (const [status, code, answer] of cases) {
      const r = await answer;
      expect([r.status, JSON.parse(r.body)]).toEqual([
        status,
        { error: expect.objectContaining({ code, message: expect.any(String) }) },
      ]);
    }
  });

  it('writes one access line per session, and no key in any log line', async () => {
    const c = await openRealtime(stack!.url, PATH, {
      headers: { authorization: `Bearer ${alice}` },
    });
    await c.next('session.created');
    c.ws.send('ping-text');
    await eventually(() => expect(c.received).toHaveLength(2));
    c.ws.close(1000);
    await c.closed;
    const reqId = await eventually(() => {
      const lines = stack!.app.logs.filter((l) => l.includes('"realtime session"'));
      const last = JSON.parse(lines.at(-1)!) as Record<string, unknown>;
      expect(last).toMatchObject({
        status: 101,
        path: '/v1/realtime',
        caller: 'rt-alice',
        provider: 'openai',
        model: 'gpt-realtime',
        keySource: 'user',
        keyHint: hint(KEYS.alice),
        framesIn: 1,
        bytesIn: 9,
        framesOut: 2,
        endedBy: 'client',
        clientCloseCode: 1000,
      });
      return last.reqId;
    });
    expect(stack!.app.logs.filter((l) => l.includes(String(reqId)))).toHaveLength(1);
    const logs = stack!.app.logs.join('\n');
    for (const key of Object.values(KEYS)) expect(logs).not.toContain(key);
    expect(logs).not.toContain(alice);
    const metrics = await fetch(`${stack!.url}/metrics`).then((r) => r.text());
    for (const key of Object.values(KEYS)) expect(metrics).not.toContain(key);
  });

  if (mode.vault)
    it('leaves no raw key in any database row (Vault mode)', async () => {
      await stack!.app.app.get(UsageRecorder).flush();
      const db = new Client({ connectionString: stack!.env.DATABASE_URL });
      await db.connect();
      try {
        const tables = await db.query<{ name: string }>(
          `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'`,
        );
        let text = '';
        for (const { name } of tables.rows)
          text += (await db.query(`SELECT t::text AS row FROM "${name}" t`)).rows
            .map((r: { row: string }) => r.row)
            .join('\n');
        expect(text).toContain('rt-alice'); // the rows are there
        for (const key of Object.values(KEYS)) expect(text).not.toContain(key);
      } finally {
        await db.end();
      }
    });
});
