import { randomBytes } from 'node:crypto';
import { eventually } from '../helpers/eventually';
import { freePort } from '../helpers/free-port';
import { ApiClient } from '../helpers/http';
import { STORE_MODES, testJwt } from '../helpers/modes';
import {
  type OtlpReceiver,
  type RecordedSpan,
  SPAN_KIND,
  startOtlpReceiver,
} from '../helpers/otlp-receiver';
import { startStack, type Stack } from '../helpers/start-stack';

/** A recognisable canary: no span, export body or log line may ever contain it. */
const CANARY = `CANARY${randomBytes(6).toString('hex')}`;
const KEYS = {
  first: `sk-${CANARY}-first-tail0001`,
  second: `sk-${CANARY}-second-tail0002`,
  groq: `gsk-${CANARY}-groq-tail0003`,
  saved: `sk-${CANARY}-saved-tail0004`,
};
const PROMPT = `prompt-${CANARY}`;
const TRACE_ID = randomBytes(16).toString('hex');
const PARENT_ID = randomBytes(8).toString('hex');
const traceparent = (traceId = TRACE_ID, parentId = PARENT_ID) => `00-${traceId}-${parentId}-01`;

describe.each(STORE_MODES)('OpenTelemetry traces: $name', (mode) => {
  let receiver: OtlpReceiver;
  let stack: Stack | undefined;
  let alice: ApiClient;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    stack = await startStack({
      mode,
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_BSP_SCHEDULE_DELAY: '50',
        OTEL_SERVICE_NAME: 'byok-under-test',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=e2e',
        GROQ_PROPAGATE_TRACE: 'true',
      },
    });
    alice = new ApiClient(stack.url, testJwt('alice'));
    for (const [keyName, apiKey] of [
      ['first', KEYS.first],
      ['second', KEYS.second],
    ])
      expect(
        (await alice.post('/api/user/api-keys', { provider: 'mistral', keyName, apiKey })).status,
      ).toBe(201);
    expect(
      (
        await alice.post('/api/user/api-keys', {
          provider: 'groq',
          keyName: 'g',
          apiKey: KEYS.groq,
        })
      ).status,
    ).toBe(201);
  });

  afterAll(async () => {
    await stack?.close();
    await receiver?.close();
  });

  const streamChat = (model: string, headers: Record<string, string> = {}) =>
    alice.post(
      '/v1/chat/completions',
      { model, stream: true, messages: [{ role: 'user', content: PROMPT }] },
      headers,
    );

  /** The upstream attempts under a proxied request's span (the database and store spans aside). */
  const attemptsOf = (server: RecordedSpan) =>
    receiver
      .childrenOf(server)
      .filter((s) => s.kind === SPAN_KIND.CLIENT && s.attributes['byok.attempt'] !== undefined);

  /** The server span of the proxied request the trace id came in with, once exported. */
  const serverSpan = (traceId: string) =>
    eventually(() => {
      const span = receiver
        .trace(traceId)
        .find(
          (s) =>
            s.kind === SPAN_KIND.SERVER && s.attributes['url.path']?.toString().startsWith('/v1'),
        );
      expect(span).toBeDefined();
      return span!;
    });

  it('a streamed chat with one failover: a server span continuing the caller trace, two client spans', async () => {
    stack!.double.rateLimitKey(KEYS.first);
    const res = await streamChat('mistral/mistral-small', { traceparent: traceparent() });
    expect(res.status).toBe(200);
    expect(res.text).toContain('[DONE]');

    const server = await serverSpan(TRACE_ID);
    const attempts = await eventually(() => {
      const children = attemptsOf(server);
      expect(children).toHaveLength(2);
      return children.sort(
        (a, b) => Number(a.attributes['byok.attempt']) - Number(b.attributes['byok.attempt']),
      );
    });
    expect(server.parentSpanId).toBe(PARENT_ID);
    expect(server.name).toBe('chat mistral-small');
    expect(server.resource).toMatchObject({
      'service.name': 'byok-under-test',
      'deployment.environment.name': 'e2e',
    });
    expect(server.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'mistral',
      'gen_ai.request.model': 'mistral-small',
      'gen_ai.response.model': 'mistral-small',
      'http.response.status_code': 200,
      'byok.key.source': 'user',
      'byok.key.hint': '…0002',
      'byok.attempts': 2,
    });
    expect(server.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
    expect(server.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    expect(server.attributes['error.type']).toBeUndefined();

    const [first, second] = attempts;
    expect(first.name).toBe('chat mistral-small');
    expect(first.attributes).toMatchObject({
      'gen_ai.provider.name': 'mistral',
      'gen_ai.request.model': 'mistral-small',
      'byok.attempt': 1,
      'byok.key.source': 'user',
      'byok.key.hint': '…0001',
      'http.response.status_code': 429,
      'error.type': '429',
      'byok.failover.reason': 'rate_limited',
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(stack!.double.url).port),
    });
    expect(second.attributes).toMatchObject({
      'byok.attempt': 2,
      'byok.key.hint': '…0002',
      'http.response.status_code': 200,
      'gen_ai.response.model': 'mistral-small',
      'server.address': '127.0.0.1',
    });
    expect(second.attributes['byok.failover.reason']).toBeUndefined();
    expect(second.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
  });

  it('the access line and the application logs of a traced request carry its trace id', async () => {
    const traceId = randomBytes(16).toString('hex');
    stack!.double.rateLimitKey(KEYS.first);
    expect(
      (await streamChat('mistral/mistral-small', { traceparent: traceparent(traceId) })).status,
    ).toBe(200);
    const server = await serverSpan(traceId);
    const lines = await eventually(() => {
      const mine = stack!.app.logs
        .filter((l) => l.includes(traceId))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(mine.find((l) => l.msg === 'request')).toBeDefined();
      return mine;
    });
    const access = lines.find((l) => l.msg === 'request')!;
    expect(access).toMatchObject({ trace_id: traceId, span_id: server.spanId, status: 200 });
    // The failover warning is written inside the request: it names the request's span.
    expect(lines.find((l) => String(l.msg).includes('trying the next key'))).toMatchObject({
      trace_id: traceId,
      span_id: server.spanId,
    });
  });

  it('the caller trace context reaches no provider by default', async () => {
    stack!.double.reset();
    expect(
      (await streamChat('mistral/mistral-small', { traceparent: traceparent(), tracestate: 'k=v' }))
        .status,
    ).toBe(200);
    const upstream = stack!.double.requests.at(-1)!;
    expect(upstream.headers.traceparent).toBeUndefined();
    expect(upstream.headers.tracestate).toBeUndefined();
  });

  it('a provider with <ID>_PROPAGATE_TRACE=true gets the attempt span as its parent', async () => {
    stack!.double.reset();
    const traceId = randomBytes(16).toString('hex');
    expect(
      (await streamChat('groq/llama-3.1-8b', { traceparent: traceparent(traceId) })).status,
    ).toBe(200);
    const sent = String(stack!.double.requests.at(-1)!.headers.traceparent);
    const server = await serverSpan(traceId);
    const attempt = await eventually(() => {
      const [span] = attemptsOf(server);
      expect(span).toBeDefined();
      return span;
    });
    expect(sent).toBe(`00-${traceId}-${attempt.spanId}-01`);
    // What callers can see of it: the provider listing says which providers get trace context.
    const { data } = (await alice.get('/api/providers')).json as {
      data: { id: string; propagateTrace: boolean }[];
    };
    expect(data.find((p) => p.id === 'groq')?.propagateTrace).toBe(true);
    expect(data.find((p) => p.id === 'mistral')?.propagateTrace).toBe(false);
  });

  it('a request the caller did not sample records no span, and its trace id still travels', async () => {
    stack!.double.reset();
    const traceId = randomBytes(16).toString('hex');
    const unsampled = `00-${traceId}-${PARENT_ID}-00`;
    expect((await streamChat('groq/llama-3.1-8b', { traceparent: unsampled })).status).toBe(200);
    // The provider allowed to see trace context continues the same, unsampled trace.
    expect(String(stack!.double.requests.at(-1)!.headers.traceparent)).toMatch(
      new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`),
    );
    const access = await eventually(() => {
      const line = stack!.app.logs
        .filter((l) => l.includes(traceId))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.msg === 'request');
      expect(line).toBeDefined();
      return line!;
    });
    expect(access.trace_id).toBe(traceId);
    // A sampled request after it, once exported, shows that nothing of the first one was.
    const later = randomBytes(16).toString('hex');
    await streamChat('groq/llama-3.1-8b', { traceparent: traceparent(later) });
    await serverSpan(later);
    expect(receiver.trace(traceId)).toEqual([]);
  });

  it('an /api request: a server span with the secret store and database calls under it', async () => {
    const res = await alice.post(
      '/api/user/api-keys',
      { provider: 'openai', keyName: 'traced', apiKey: KEYS.saved },
      { traceparent: traceparent() },
    );
    expect(res.status).toBe(201);
    const api = await eventually(() => {
      const span = receiver
        .trace(TRACE_ID)
        .find((s) => s.kind === SPAN_KIND.SERVER && s.name === 'POST /api/user/api-keys');
      expect(span).toBeDefined();
      return span!;
    });
    expect(api.parentSpanId).toBe(PARENT_ID);
    expect(api.attributes).toMatchObject({
      'http.route': '/api/user/api-keys',
      'http.response.status_code': 201,
    });
    const under = await eventually(() => {
      const spans = descendants(receiver, api);
      expect(spans.find((s) => s.name === 'secret_store put')).toBeDefined();
      expect(spans.find(isDatabaseSpan)).toBeDefined();
      return spans;
    });
    expect(under.find((s) => s.name === 'secret_store put')!.attributes['byok.secret_store']).toBe(
      mode.vault ? 'vault' : 'local',
    );
    await eventually(() => {
      const access = stack!.app.logs
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.msg === 'request' && l.span_id === api.spanId);
      expect(access).toMatchObject({ path: '/api/user/api-keys', status: 201, trace_id: TRACE_ID });
    });
  });

  it('/metrics in OpenMetrics carries trace-id exemplars of traced requests', async () => {
    const res = await fetch(`${stack!.url}/metrics`, {
      headers: { accept: 'application/openmetrics-text;version=1.0.0,text/plain;q=0.5' },
    });
    expect(res.headers.get('content-type')).toMatch(/^application\/openmetrics-text/);
    const body = await res.text();
    const exemplar =
      /^gen_ai_client_operation_duration_seconds_bucket\{.*gen_ai_provider_name="mistral".*\} \d+ # \{trace_id="([0-9a-f]{32})"\}/m.exec(
        body,
      );
    expect(exemplar).not.toBeNull();
    // The exemplar points at a trace the collector has: a server span of a proxied request.
    expect(receiver.trace(exemplar![1]).some((s) => s.kind === SPAN_KIND.SERVER)).toBe(true);
    const plain = await (await fetch(`${stack!.url}/metrics`)).text();
    expect(plain).not.toContain('trace_id');
  });

  it('never records a key, a token or a prompt in any span', async () => {
    // Everything the tests above did, exported: the canary appears in no export body.
    await eventually(() => expect(receiver.spans.length).toBeGreaterThan(10));
    for (const body of receiver.bodies) {
      expect(body).not.toContain(CANARY);
      expect(body).not.toContain('Bearer');
    }
    expect(stack!.app.logs.join('\n')).not.toContain(CANARY);
  });

  it('exports OTLP protobuf by default', () => {
    expect(receiver.contentTypes.length).toBeGreaterThan(0);
    expect(new Set(receiver.contentTypes)).toEqual(new Set(['application/x-protobuf']));
  });
});

function descendants(receiver: OtlpReceiver, root: RecordedSpan): RecordedSpan[] {
  const out: RecordedSpan[] = [];
  for (let next = [root]; next.length;) {
    next = next.flatMap((s) => receiver.childrenOf(s));
    out.push(...next);
  }
  return out;
}

const isDatabaseSpan = (s: RecordedSpan): boolean =>
  s.attributes['db.system'] === 'postgresql' || s.attributes['db.system.name'] === 'postgresql';

describe('OpenTelemetry traces on shutdown', () => {
  it('sends the spans still queued when the application closes (OTLP JSON here)', async () => {
    const receiver = await startOtlpReceiver();
    // Far beyond the test: only the flush on shutdown can deliver the span.
    const stack = await startStack({
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_BSP_SCHEDULE_DELAY: '600000',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      },
    });
    try {
      const traceId = randomBytes(16).toString('hex');
      const res = await new ApiClient(stack.url, testJwt('carol')).post(
        '/v1/chat/completions',
        { model: 'mistral/mistral-small', messages: [] },
        { traceparent: traceparent(traceId) },
      );
      expect(res.status).toBe(400); // no key: the request is still traced
      expect(receiver.spans).toHaveLength(0);
      await stack.close();
      expect(receiver.trace(traceId).filter((s) => s.kind === SPAN_KIND.SERVER)).toEqual([
        expect.objectContaining({
          kind: SPAN_KIND.SERVER,
          name: 'chat mistral-small',
          attributes: expect.objectContaining({ 'error.type': 'provider_key_missing' }),
        }),
      ]);
      expect(receiver.contentTypes).toEqual(['application/json']);
    } finally {
      await stack.close().catch(() => undefined);
      await receiver.close();
    }
  });

  it('a collector that cannot be reached is reported in the log', async () => {
    // Nothing listens on this port: every export fails.
    const stack = await startStack({
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await freePort()}`,
        OTEL_BSP_SCHEDULE_DELAY: '50',
        OTEL_EXPORTER_OTLP_TIMEOUT: '300',
      },
    });
    try {
      const res = await new ApiClient(stack.url, testJwt('dave')).post('/v1/chat/completions', {
        model: 'mistral/mistral-small',
        messages: [{ role: 'user', content: PROMPT }],
      });
      expect(res.status).toBe(400); // no key; the request is still traced and exported
      const line = await eventually(() => {
        const found = stack.app.logs
          .map((l) => JSON.parse(l) as Record<string, unknown>)
          .find((l) => l.context === 'OpenTelemetry');
        expect(found).toBeDefined();
        return found!;
      });
      expect(line.level).toBe(50);
      expect(String(line.msg)).toMatch(/ECONNREFUSED|connect/i);
      expect(stack.app.logs.join('\n')).not.toContain(CANARY);
    } finally {
      await stack.close();
    }
  });
});
