import { SecretValue } from '../../../src/common/secret-value';
import type { ProviderRecord } from '../../../src/providers/provider.schema';
import { applyProviderAuth } from '../../../src/upstream/provider-auth';
import {
  buildUpstreamHeaders,
  filterResponseHeaders,
} from '../../../src/upstream/upstream-headers';

const record = (
  auth: ProviderRecord['auth'],
  headers: Record<string, string> = {},
): ProviderRecord => ({
  id: 'p',
  name: 'P',
  baseUrl: 'https://api.example.com',
  openaiPrefix: '/v1',
  auth,
  headers,
  envKey: 'P_API_KEY',
  envFallback: true,
  keyBaseUrl: false,
  encodedSlashes: false,
  verify: { method: 'GET', path: '/v1/models' },
});
const key = new SecretValue('sk-provider-key-1234');
// Header kinds need neither a token minter nor a clock.
const ctx = { minter: undefined as never, now: () => new Date() };

describe('buildUpstreamHeaders: trace context', () => {
  const client = {
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    tracestate: 'vendor=x',
    accept: 'application/json',
  };

  it('keeps the caller trace context from a provider by default (a third party)', () => {
    const out = buildUpstreamHeaders(client, record('bearer'));
    expect(out.traceparent).toBeUndefined();
    expect(out.tracestate).toBeUndefined();
    expect(out.accept).toBe('application/json');
  });

  it('passes it on when the operator set <ID>_PROPAGATE_TRACE=true', () => {
    const out = buildUpstreamHeaders(client, { ...record('bearer'), propagateTrace: true });
    expect(out).toMatchObject({ traceparent: client.traceparent, tracestate: 'vendor=x' });
  });
});

describe('buildUpstreamHeaders', () => {
  const client = {
    host: 'proxy.example',
    'content-type': 'application/json',
    'content-length': '123',
    accept: 'text/event-stream',
    'accept-encoding': 'gzip, br',
    'content-encoding': 'gzip', // the body was decoded on its way in
    'user-agent': 'OpenAI/JS 6.49.0',
    'x-stainless-os': 'Linux',
    'openai-organization': 'org-1',
    'x-request-id': 'req-1',
    authorization: 'Bearer caller-jwt',
    'x-api-key': 'byok_callertoken',
    'api-key': 'byok_other',
    'x-goog-api-key': 'byok_goog',
    cookie: 'session=1',
    connection: 'keep-alive, X-Secret-Hop',
    'x-secret-hop': 'hop',
    'keep-alive': 'timeout=5',
    te: 'trailers',
    trailer: 'x',
    'transfer-encoding': 'chunked',
    upgrade: 'h2c',
    'proxy-authorization': 'Basic x',
    'proxy-connection': 'keep-alive',
    forwarded: 'for=1.2.3.4;host=evil.example',
    'x-forwarded-for': '1.2.3.4',
    'x-forwarded-host': 'evil.example',
    'x-forwarded-proto': 'http',
    'x-real-ip': '1.2.3.4',
    origin: 'https://app.example',
    expect: '100-continue',
    'x-byok-provider': 'openai',
    'x-byok-anything': '1',
    ':authority': 'proxy.example',
    'x-multi': ['a', 'b'],
    'x-missing': undefined,
  };

  it('forwards end-to-end headers and drops hop-by-hop, credentials, client location and ours', () => {
    const out = buildUpstreamHeaders(client, record('bearer'));
    expect(out).toEqual({
      'content-type': 'application/json',
      accept: 'text/event-stream',
      'accept-encoding': 'identity',
      'user-agent': 'OpenAI/JS 6.49.0',
      'x-stainless-os': 'Linux',
      'openai-organization': 'org-1',
      'x-request-id': 'req-1',
      'x-multi': 'a, b',
    });
  });

  it('sets the key in each auth style, and only there, over whatever the client sent', async () => {
    const withKey = async (auth: ProviderRecord['auth']) => {
      const req = { method: 'POST', url: 'https://api.example.com/v1/x', headers: {} };
      req.headers = buildUpstreamHeaders(client, record(auth));
      await applyProviderAuth(req, record(auth), key, {}, ctx);
      return req.headers as Record<string, string>;
    };
    expect((await withKey('bearer')).authorization).toBe('Bearer sk-provider-key-1234');
    const xApi = await withKey('x-api-key');
    expect(xApi['x-api-key']).toBe('sk-provider-key-1234');
    expect(xApi.authorization).toBeUndefined();
    const azure = await withKey('api-key');
    expect(azure['api-key']).toBe('sk-provider-key-1234');
    expect(azure.authorization).toBeUndefined();
    expect(azure['x-api-key']).toBeUndefined();
    for (const out of [xApi, azure])
      expect(Object.values(out).join('\n')).not.toMatch(/byok_|caller-jwt/);
  });

  it("adds the provider's fixed headers unless the client sent its own", () => {
    const anthropic = record('x-api-key', { 'anthropic-version': '2023-06-01', 'x-team': 'ml' });
    expect(buildUpstreamHeaders({}, anthropic)).toEqual({
      'anthropic-version': '2023-06-01',
      'x-team': 'ml',
      'accept-encoding': 'identity',
    });
    expect(
      buildUpstreamHeaders({ 'Anthropic-Version': '2024-01-01' }, anthropic)['anthropic-version'],
    ).toBe('2024-01-01');
  });

  it('cannot be talked into a credential or out of identity encoding by header case', () => {
    const out = buildUpstreamHeaders(
      { Authorization: 'Bearer x', 'Accept-Encoding': 'gzip', Host: 'evil' },
      record('bearer'),
    );
    expect(out).toEqual({ 'accept-encoding': 'identity' });
  });
});

describe('filterResponseHeaders', () => {
  it('drops hop-by-hop, content-length, cookies, origin policy and x-byok-*; renames x-request-id', () => {
    const out = filterResponseHeaders({
      'content-type': 'text/event-stream; charset=utf-8',
      'content-length': '42',
      'cache-control': 'no-cache',
      connection: 'keep-alive, x-hop',
      'x-hop': '1',
      'keep-alive': 'timeout=5',
      'transfer-encoding': 'chunked',
      trailer: 'x',
      upgrade: 'h2c',
      'proxy-authenticate': 'Basic',
      'set-cookie': ['__cf_bm=1', 'b=2'],
      'alt-svc': 'h3=":443"',
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
      'x-byok-key-source': 'user',
      'x-request-id': 'req_upstream',
      'retry-after': '7',
      'x-ratelimit-remaining-requests': '99',
      'www-authenticate': 'Bearer',
      'openai-processing-ms': '12',
      'x-undefined': undefined,
    });
    expect(out).toEqual({
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-upstream-request-id': 'req_upstream',
      'retry-after': '7',
      'x-ratelimit-remaining-requests': '99',
      'www-authenticate': 'Bearer',
      'openai-processing-ms': '12',
    });
  });

  it('keeps content-length when asked (body forwarded byte for byte)', () => {
    expect(filterResponseHeaders({ 'content-length': '42' }, { keepContentLength: true })).toEqual({
      'content-length': '42',
    });
  });
});
