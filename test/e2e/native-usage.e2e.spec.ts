import { AWS, bedrockDouble, USAGE, vertexDouble } from '../helpers/cloud-doubles';
import { readFrames } from '../helpers/event-stream';
import { eventually } from '../helpers/eventually';
import { GoogleTokenDouble, makeServiceAccount } from '../helpers/google-token-double';
import { ApiClient } from '../helpers/http';
import { STORE_MODES, testJwt } from '../helpers/modes';
import { startStack, type Stack } from '../helpers/start-stack';

/**
 * Tokens used on the cloud providers' native routes, read from each API's own usage shape:
 * Bedrock Converse (JSON), ConverseStream (the `metadata` event of an AWS event stream) and
 * InvokeModel with an Anthropic body; Vertex generateContent and streamGenerateContent (SSE and
 * JSON array). They count in the usage API, in the GenAI metrics under their operation, and
 * against token limits.
 */

const MODEL_ID = 'anthropic.claude-3-haiku-20240307-v1:0';
const VERTEX_MODEL = 'gemini-2.0-flash';
const vertexPath = `/proxy/vertex/v1/projects/my-project/locations/us-central1/publishers/google/models/${VERTEX_MODEL}`;
const messages = [{ role: 'user', content: [{ text: 'hi' }] }];

interface UsageRow {
  group: string;
  requests: number;
  promptTokens: number;
  completionTokens: number;
}

describe.each(STORE_MODES)('usage on the native cloud routes: $name', (mode) => {
  let stack: Stack | undefined;
  let google: GoogleTokenDouble;
  let admin: ApiClient;
  const sa = makeServiceAccount();

  beforeAll(async () => {
    google = await new GoogleTokenDouble().listen();
    google.allow(sa);
    stack = await startStack({ mode, env: { VERTEX_TOKEN_URL: google.tokenUrl } }).catch(
      async (e: unknown) => {
        await google.close();
        throw e;
      },
    );
    bedrockDouble(stack.double);
    vertexDouble(stack.double, google);
    admin = new ApiClient(stack.url, testJwt('root', { byok_admin: true }));
  });

  afterAll(async () => {
    await stack?.close();
    await google?.close();
  });

  /** A user with a Bedrock and a Vertex key of their own. */
  async function userWithKeys(sub: string): Promise<{ api: ApiClient; token: string }> {
    const token = testJwt(sub);
    const api = admin.as(token);
    const bedrock = await api.post('/api/user/api-keys', {
      provider: 'bedrock',
      keyName: 'aws',
      credential: AWS,
      params: { region: 'us-east-1' },
    });
    expect(bedrock.status).toBe(201);
    const vertex = await api.post('/api/user/api-keys', {
      provider: 'vertex',
      keyName: 'gcp',
      credential: sa,
      params: { location: 'us-central1' },
    });
    expect(vertex.status).toBe(201);
    return { api, token };
  }

  /** As an AWS SDK sends it: its own signature (dropped by the proxy), our token in x-api-key. */
  const bedrockCall = (token: string, action: string, body: unknown) =>
    fetch(`${stack!.url}/proxy/bedrock/model/${encodeURIComponent(MODEL_ID)}/${action}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `AWS4-HMAC-SHA256 Credential=AKIDUMMY/20240101/us-east-1/bedrock/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}`,
        'x-api-key': token,
      },
      body: JSON.stringify(body),
    });

  const usageByModel = async (api: ApiClient): Promise<Record<string, UsageRow>> => {
    const res = await api.get('/api/user/usage?groupBy=model');
    expect(res.status).toBe(200);
    const rows = (res.json as { data: UsageRow[] }).data;
    return Object.fromEntries(rows.map((r) => [r.group, r]));
  };

  const tokenMetric = (provider: string, model: string, operation: string, type: string) =>
    new RegExp(
      `gen_ai_client_token_usage_sum\\{gen_ai_provider_name="${provider}",gen_ai_request_model="${model.replaceAll('.', '\\.')}",gen_ai_operation_name="${operation}",gen_ai_token_type="${type}"\\} (\\d+)`,
    );
  const metric = async (re: RegExp): Promise<number | undefined> => {
    const text = await fetch(`${stack!.url}/metrics`).then((r) => r.text());
    const m = re.exec(text);
    return m ? Number(m[1]) : undefined;
  };

  it('Bedrock Converse, ConverseStream and InvokeModel count the tokens AWS reports, as chat', async () => {
    const { api, token } = await userWithKeys('carol');
    const converse = await bedrockCall(token, 'converse', { messages });
    expect(converse.status).toBe(200);
    const stream = await bedrockCall(token, 'converse-stream', { messages });
    expect(stream.status).toBe(200);
    const events = readFrames(Buffer.from(await stream.arrayBuffer())).map((f) => f.eventType);
    expect(events.at(-1)).toBe('metadata'); // relayed to the client as sent, usage included
    const invoke = await bedrockCall(token, 'invoke', {
      anthropic_version: 'bedrock-2023-05-31',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(invoke.status).toBe(200);

    const sum = (i: 0 | 1) => USAGE.converse[i] + USAGE.converseStream[i] + USAGE.invoke[i];
    expect((await usageByModel(api))[`bedrock/${MODEL_ID}`]).toMatchObject({
      requests: 3,
      promptTokens: sum(0),
      completionTokens: sum(1),
    });
    expect(await metric(tokenMetric('bedrock', MODEL_ID, 'chat', 'input'))).toBe(sum(0));
    expect(await metric(tokenMetric('bedrock', MODEL_ID, 'chat', 'output'))).toBe(sum(1));
  });

  it('Vertex generateContent and streamGenerateContent (SSE and JSON array) count usageMetadata', async () => {
    const { api } = await userWithKeys('dora');
    const contents = [{ role: 'user', parts: [{ text: 'hi' }] }];
    expect((await api.post(`${vertexPath}:generateContent`, { contents })).status).toBe(200);
    const sse = await api.post(`${vertexPath}:streamGenerateContent?alt=sse`, { contents });
    expect(sse.headers['content-type']).toMatch(/^text\/event-stream/);
    const array = await api.post(`${vertexPath}:streamGenerateContent`, { contents });
    expect(array.json).toHaveLength(USAGE.streamGenerateContent[1]);

    const [p, c] = [0, 1].map((i) => USAGE.generateContent[i] + 2 * USAGE.streamGenerateContent[i]);
    expect((await usageByModel(api))[`vertex/${VERTEX_MODEL}`]).toMatchObject({
      requests: 3,
      promptTokens: p,
      completionTokens: c,
    });
    const op = 'generate_content';
    expect(await metric(tokenMetric('vertex', VERTEX_MODEL, op, 'input'))).toBe(p);
    expect(await metric(tokenMetric('vertex', VERTEX_MODEL, op, 'output'))).toBe(c);
  });

  it('those tokens count against token limits, streamed ones too', async () => {
    // Limits count per wall-clock minute: start well inside one, so the window cannot reset.
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 50_000) await new Promise((r) => setTimeout(r, 60_500 - intoMinute));
    const put = await admin.call('PUT', '/api/admin/users/erin/limits', { tokensPerMinute: 5 });
    expect(put.status).toBe(200);
    const { api, token } = await userWithKeys('erin');
    // One ConverseStream uses 12 tokens, more than the 5 allowed: the next request is refused.
    expect((await bedrockCall(token, 'converse-stream', { messages })).status).toBe(200);
    // Once it is recorded, its reservation has been settled to what it really used.
    await eventually(async () =>
      expect(Object.values(await usageByModel(api)).map((r) => r.requests)).toEqual([1]),
    );
    const refused = await bedrockCall(token, 'converse', { messages });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('x-byok-ratelimit-scope')).toBe('user:tokens-per-minute');
  });

  it('no secret part of a credential in the usage API, the audit log or the metrics', async () => {
    const audit = await admin.get('/api/admin/audit');
    const metrics = await fetch(`${stack!.url}/metrics`).then((r) => r.text());
    const seen = [metrics, audit.text, ...admin.seen.map((e) => e.text)].join('\n');
    expect(metrics).toContain('gen_ai_provider_name="bedrock"');
    expect(google.issued.length).toBeGreaterThan(0);
    for (const secret of [
      AWS.secretAccessKey,
      AWS.sessionToken,
      sa.private_key.split('\n')[3],
      ...google.issued.map((t) => t.token),
    ])
      expect(seen).not.toContain(secret);
  });
});
