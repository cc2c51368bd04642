import {
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
} from '@aws-sdk/client-bedrock-runtime';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import OpenAI from 'openai';
import { AWS, AZURE_KEY, azureDouble, bedrockDouble, vertexDouble } from '../helpers/cloud-doubles';
import { eventFrame, readFrames } from '../helpers/event-stream';
import { GoogleTokenDouble, makeServiceAccount } from '../helpers/google-token-double';
import { ApiClient } from '../helpers/http';
import { STORE_MODES, testJwt } from '../helpers/modes';
import { signedRegion } from '../helpers/sigv4-check';
import { startStack, type Stack } from '../helpers/start-stack';
import { chatChunks, respond, sendJson, type UpstreamDouble } from '../helpers/upstream-double';

/**
 * Keys that are not one bearer string, end to end through the real server against doubles that
 * check what each provider checks: Azure's api-key header, deployment path and api-version;
 * Bedrock's SigV4 signature, recomputed from the secret; Google's JWT-bearer token exchange and
 * the minted token on every Vertex call; a self-hosted server reached only inside the allowlist.
 */

const SELF_HOSTED_KEY = 'vllm-local-key-0123456789-qrst';
const MODEL = 'anthropic.claude-3-haiku-20240307-v1%3A0';

describe.each(STORE_MODES)('credential kinds end to end: $name', (mode) => {
  let stack: Stack | undefined;
  let google: GoogleTokenDouble;
  let double: UpstreamDouble;
  let api: ApiClient;
  const alice = testJwt('alice');
  const sa = makeServiceAccount();
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    google = await new GoogleTokenDouble().listen();
    google.allow(sa);
    stack = await startStack({
      mode,
      env: {
        CUSTOM_BASE_URL_ALLOWLIST: '127.0.0.0/8',
        VERTEX_TOKEN_URL: google.tokenUrl,
      },
    }).catch(async (e: unknown) => {
      await google.close();
      throw e;
    });
    double = stack.double;
    api = new ApiClient(stack.url, alice);
  });

  afterAll(async () => {
    await stack?.close();
    await google?.close();
  });

  beforeEach(() => {
    double.reset();
    azureDouble(double);
    bedrockDouble(double);
    vertexDouble(double, google);
  });

  const save = (body: Record<string, unknown>) => api.post('/api/user/api-keys', body);
  const openai = () => new OpenAI({ apiKey: alice, baseURL: `${stack!.url}/v1`, maxRetries: 0 });
  /** As an AWS SDK sends it: signed with dummy credentials, the proxy credential in x-api-key. */
  const awsCall = (path: string, body: unknown) =>
    fetch(`${stack!.url}/proxy/bedrock/${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `AWS4-HMAC-SHA256 Credential=AKIDUMMY/20240101/us-east-1/bedrock/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
        'x-amz-date': '20240101T000000Z',
        'x-amz-security-token': 'dummy-session',
        'x-api-key': alice,
      },
      body: JSON.stringify(body),
    });
  /** The official AWS SDK with dummy credentials, our token added in x-api-key. */
  const bedrockClient = () => {
    const client = new BedrockRuntimeClient({
      region: 'us-east-1',
      endpoint: `${stack!.url}/proxy/bedrock`,
      credentials: {
        accessKeyId: 'AKIDUMMYDUMMYDUMMY',
        secretAccessKey: 'dummy-secret-0123456789',
      },
      maxAttempts: 1,
      // This client defaults to HTTP/2 (for its bidirectional streams); the proxy speaks HTTP/1.1.
      requestHandler: new NodeHttpHandler(),
    });
    // The proxy credential travels in x-api-key; the SDK's own signature is dropped.
    client.middlewareStack.add(
      (next) => (args) => {
        (args.request as { headers: Record<string, string> }).headers['x-api-key'] = alice;
        return next(args);
      },
      { step: 'build', name: 'byokProxyToken' },
    );
    return client;
  };
  const vertexPath =
    'v1/projects/my-project/locations/us-central1/publishers/google/models/gemini-2.0-flash';

  describe('Azure OpenAI', () => {
    it('saves the key with its resource and api-version, never the key', async () => {
      const res = await save({
        provider: 'azure-openai',
        keyName: 'prod',
        apiKey: AZURE_KEY,
        params: { resource: 'my-openai' },
        verify: true,
      });
      expect(res.status).toBe(201);
      expect(res.json).toMatchObject({
        keyHint: '…89ab',
        params: { resource: 'my-openai', apiVersion: '2024-10-21' },
      });
      ids.azure = (res.json as { id: string }).id;
      expect(double.requests.at(-1)).toMatchObject({ path: '/openai/v1/models' });
      expect(double.requests.at(-1)?.headers['api-key']).toBe(AZURE_KEY);
    });

    it('serves /v1 with the deployment as model, through the official OpenAI SDK', async () => {
      const done = await openai().chat.completions.create({
        model: 'azure-openai/gpt4o-prod',
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(done.choices[0].message.content).toBe('Hello from the upstream double');
      const seen = double.requests.at(-1)!;
      expect(seen.path).toBe('/openai/v1/chat/completions');
      expect(seen.headers['api-key']).toBe(AZURE_KEY);
      expect(seen.headers.authorization).toBeUndefined();
      expect(seen.json?.model).toBe('gpt4o-prod');
    });

    it("passes deployment routes through, adding the key's api-version only when none is sent", async () => {
      const path = '/proxy/azure-openai/openai/deployments/gpt4o-prod/chat/completions';
      const res = await api.post(path, { messages: [{ role: 'user', content: 'hi' }] });
      expect(res.status).toBe(200);
      expect(double.requests.at(-1)?.url).toBe(
        '/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21',
      );
      expect(
        (await api.post(`${path}?api-version=2025-01-01-preview`, { messages: [] })).status,
      ).toBe(200);
      expect(double.requests.at(-1)?.url).toMatch(/\?api-version=2025-01-01-preview$/);
    });
  });

  describe('AWS Bedrock (SigV4)', () => {
    it('saves the credential with its region, hinted by the access key id, after a signed verify', async () => {
      const res = await save({
        provider: 'bedrock',
        keyName: 'prod',
        credential: AWS,
        params: { region: 'us-west-2' },
        verify: true,
      });
      expect(res.status).toBe(201);
      expect(res.json).toMatchObject({ keyHint: 'AKIA…WXYZ', params: { region: 'us-west-2' } });
      ids.bedrock = (res.json as { id: string }).id;
      const check = double.requests.at(-1)!;
      expect(`${check.method} ${check.path}`).toBe('GET /foundation-models');
      expect(signedRegion(check)).toBe('us-west-2');
    });

    it('refuses to save a credential whose signature AWS would reject', async () => {
      const res = await save({
        provider: 'bedrock',
        keyName: 'wrong',
        credential: { ...AWS, secretAccessKey: 'not/the+secret0123456789abcdefEXAMPLE' },
        params: { region: 'us-west-2' },
        verify: true,
      });
      expect(res.status).toBe(422);
      expect(res.json).toMatchObject({ code: 'provider_key_rejected' });
      expect(res.text).toContain('AKIA…WXYZ');
    });

    it('re-signs Converse from an AWS client with dummy credentials, exact path bytes kept', async () => {
      const res = await awsCall(`model/${MODEL}/converse`, {
        messages: [{ role: 'user', content: [{ text: 'hi' }] }],
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        output: { message: { content: [{ text: 'Hello from Bedrock' }] } },
      });
      const seen = double.requests.at(-1)!;
      expect(seen.path).toBe(`/model/${MODEL}/converse`);
      expect(seen.headers['x-amz-security-token']).toBe(AWS.sessionToken);
      expect(String(seen.headers.authorization)).toContain(`Credential=${AWS.accessKeyId}/`);
      expect(seen.headers['x-api-key']).toBeUndefined();
    });

    it('serves the official AWS SDK (Converse and ConverseStream) with dummy credentials', async () => {
      const client = bedrockClient();
      const messages = [{ role: 'user' as const, content: [{ text: 'hi' }] }];
      const modelId = decodeURIComponent(MODEL);
      const done = await client.send(new ConverseCommand({ modelId, messages }));
      expect(done.output?.message?.content?.[0]?.text).toBe('Hello from Bedrock');
      expect(done.usage).toMatchObject({ inputTokens: 3, outputTokens: 3 });
      const seen = double.requests.at(-1)!;
      expect(String(seen.headers.authorization)).toContain(`Credential=${AWS.accessKeyId}/`);
      expect(seen.headers['x-api-key']).toBeUndefined();

      const streamed = await client.send(new ConverseStreamCommand({ modelId, messages }));
      const events: string[] = [];
      let text = '';
      for await (const event of streamed.stream ?? []) {
        events.push(Object.keys(event)[0]);
        text += event.contentBlockDelta?.delta?.text ?? '';
      }
      expect(events).toEqual(['messageStart', 'contentBlockDelta', 'messageStop', 'metadata']);
      expect(text).toBe('Hello');
      client.destroy();
    });

    it('passes model ARNs with an encoded slash, signed as AWS checks them (plain HTTP and the SDK)', async () => {
      const arn =
        'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-sonnet';
      const path = `model/${encodeURIComponent(arn)}/converse`;
      const res = await awsCall(path, { messages: [{ role: 'user', content: [{ text: 'hi' }] }] });
      expect(res.status).toBe(200);
      expect(double.requests.at(-1)?.path).toBe(`/${path}`);
      const client = bedrockClient();
      const done = await client.send(
        new ConverseCommand({
          modelId: arn,
          messages: [{ role: 'user', content: [{ text: 'hi' }] }],
        }),
      );
      expect(done.output?.message?.content?.[0]?.text).toBe('Hello from Bedrock');
      expect(double.requests.at(-1)?.path).toBe(`/${path}`);
      client.destroy();
    });

    it('refuses encoded slashes that would leave the path, and on providers that take none', async () => {
      const paths = [
        '/proxy/bedrock/model/x%2F..%2F..%2Ffoundation-models/converse',
        '/proxy/bedrock/model/x%2F.%2Fy/converse',
        '/proxy/bedrock/model/%2F%2F127.0.0.1:9%2Fx/converse',
        '/proxy/bedrock/model/x%252F..%252Fy/converse',
        '/proxy/bedrock/%2Fmodel/x/converse',
        '/proxy/openai/v1/models/a%2Fb',
      ];
      for (const path of paths) {
        const res = await api.post(path, { messages: [] });
        expect({ path, status: res.status }).toEqual({ path, status: 400 });
        expect(res.json).toMatchObject({ error: { code: 'validation_failed' } });
      }
      expect(double.requests).toEqual([]);
    });

    it("serves /v1 through Bedrock's OpenAI-compatible surface, signed", async () => {
      const done = await openai().chat.completions.create({
        model: 'bedrock/openai.gpt-oss-20b-1:0',
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(done.choices[0].message.content).toBe('Hello from the upstream double');
      const seen = double.requests.at(-1)!;
      expect(seen.path).toBe('/openai/v1/chat/completions');
      expect(signedRegion(seen)).toBe('us-west-2');
      expect(seen.json?.model).toBe('openai.gpt-oss-20b-1:0');
    });

    it('relays ConverseStream event-stream frames byte for byte', async () => {
      const res = await awsCall(`model/${MODEL}/converse-stream`, {
        messages: [{ role: 'user', content: [{ text: 'hi' }] }],
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/vnd.amazon.eventstream');
      const frames = readFrames(Buffer.from(await res.arrayBuffer()));
      expect(frames.map((f) => f.eventType)).toEqual([
        'messageStart',
        'contentBlockDelta',
        'messageStop',
        'metadata',
      ]);
      expect(frames[1].payload).toMatchObject({ delta: { text: 'Hello' } });
    });

    it('verifies with ListFoundationModels and rotates to a new credential', async () => {
      const verified = await api.post(`/api/user/api-keys/${ids.bedrock}/verify`);
      expect(verified.json).toMatchObject({ valid: true, upstreamStatus: 200 });
      const rotated = await api.post(`/api/user/api-keys/${ids.bedrock}/rotate`, {
        credential: {
          accessKeyId: 'AKIAROTATED000000ABCD',
          secretAccessKey: 'rotated/secret+0123456789abcdefEXAMPLE',
        },
      });
      expect(rotated.status).toBe(200);
      expect(rotated.json).toMatchObject({
        keyHint: 'AKIA…ABCD',
        params: { region: 'us-west-2' },
        version: 2,
      });
      // The double does not know the rotated key: AWS would refuse it, and verify says so.
      const refused = await api.post(`/api/user/api-keys/${ids.bedrock}/verify`);
      expect(refused.json).toMatchObject({ valid: false, upstreamStatus: 403 });
      const back = await api.post(`/api/user/api-keys/${ids.bedrock}/rotate`, { credential: AWS });
      expect(back.status).toBe(200);
      expect((await awsCall(`model/${MODEL}/converse`, { messages: [] })).status).toBe(200);
    });
  });

  describe('Google Vertex AI (service account)', () => {
    it('saves the key file, project from it, after a token exchange and a models call', async () => {
      const res = await save({
        provider: 'vertex',
        keyName: 'prod',
        credential: sa,
        params: { location: 'us-central1' },
        verify: true,
      });
      expect(res.status).toBe(201);
      expect(res.json).toMatchObject({
        keyHint: `…${sa.private_key_id.slice(-4)}`,
        params: { project: 'my-project', location: 'us-central1' },
      });
      ids.vertex = (res.json as { id: string }).id;
      expect(google.issued).toHaveLength(1);
    });

    it('refuses a key file that names another token endpoint, or one Google does not know', async () => {
      const redirected = await save({
        provider: 'vertex',
        keyName: 'evil',
        credential: { ...sa, token_uri: 'http://127.0.0.1:9/token' },
      });
      expect(redirected.status).toBe(400);
      expect(redirected.text).toContain('credential.token_uri must be');
      const unknown = await save({
        provider: 'vertex',
        keyName: 'unknown',
        credential: makeServiceAccount('stranger@other.iam.gserviceaccount.com'),
        params: { location: 'us-central1' },
        verify: true,
      });
      expect(unknown.status).toBe(422);
      expect(unknown.json).toMatchObject({ code: 'provider_key_rejected' });
    });

    it('mints one token for many calls, concurrent ones included, on native routes', async () => {
      const before = google.issued.length;
      const calls = await Promise.all(
        Array.from({ length: 5 }, () =>
          api.post(`/proxy/vertex/${vertexPath}:generateContent`, {
            contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
          }),
        ),
      );
      for (const c of calls)
        expect(c.json).toMatchObject({
          candidates: [{ content: { parts: [{ text: 'Hello from Vertex' }] } }],
        });
      expect(google.issued.length - before).toBeLessThanOrEqual(1);
      const tokens = new Set(double.requests.map((r) => r.headers.authorization));
      expect(tokens.size).toBe(1);
    });

    it("serves /v1 through Vertex's OpenAI-compatible endpoint with the key's project and location", async () => {
      const done = await openai().chat.completions.create({
        model: 'vertex/google/gemini-2.0-flash',
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(done.choices[0].message.content).toBe('Hello from the upstream double');
      const seen = double.requests.at(-1)!;
      expect(seen.path).toBe(
        '/v1/projects/my-project/locations/us-central1/endpoints/openapi/chat/completions',
      );
      expect(google.valid(/^Bearer (.+)$/.exec(seen.headers.authorization ?? '')?.[1])).toBe(true);
      expect(seen.json?.model).toBe('google/gemini-2.0-flash');
    });
  });

  describe('self-hosted OpenAI-compatible servers', () => {
    it("serves /v1 from the key's own base URL, inside CUSTOM_BASE_URL_ALLOWLIST", async () => {
      const res = await save({
        provider: 'openai-compatible',
        keyName: 'vllm',
        apiKey: SELF_HOSTED_KEY,
        params: { baseUrl: `${double.url}/` },
      });
      expect(res.status).toBe(201);
      expect(res.json).toMatchObject({ params: { baseUrl: double.url } });
      ids.selfHosted = (res.json as { id: string }).id;
      const done = await openai().chat.completions.create({
        model: 'openai-compatible/llama-3',
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(done.model).toBe('llama-3');
      expect(double.requests.at(-1)).toMatchObject({
        path: '/v1/chat/completions',
        key: SELF_HOSTED_KEY,
      });
    });

    it.each([
      ['link-local (cloud metadata)', 'http://169.254.169.254', 'link-local'],
      ['a private range not listed', 'http://10.0.0.5:8000', 'private'],
      ['IPv6 loopback', 'http://[::1]:8000', 'private'],
      ['an IPv4-mapped private address', 'http://[::ffff:10.0.0.5]:8000', 'private'],
      ['a name not listed', 'http://example.invalid', 'does not resolve'],
      ['another scheme', 'file:///etc/passwd', 'http'],
    ])('refuses a base URL reaching %s, at save and on update', async (_, baseUrl, says) => {
      const res = await save({
        provider: 'openai-compatible',
        keyName: 'bad',
        apiKey: SELF_HOSTED_KEY,
        params: { baseUrl },
      });
      expect(res.status).toBe(400);
      expect(res.text).toContain('params.baseUrl');
      expect(res.text).toContain(says);
      const patched = await api.patch(`/api/user/api-keys/${ids.selfHosted}`, {
        params: { baseUrl },
      });
      expect(patched.status).toBe(400);
    });

    it('never follows a redirect from the server', async () => {
      double.nextResponse(respond.redirect('http://169.254.169.254/latest/meta-data/'));
      const res = await fetch(`${stack!.url}/v1/chat/completions`, {
        method: 'POST',
        redirect: 'manual',
        headers: { authorization: `Bearer ${alice}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'openai-compatible/llama-3', messages: [] }),
      });
      expect(res.status).toBe(302);
      expect(double.requests).toHaveLength(1);
    });
  });

  describe('input checked per kind', () => {
    const cases: [Record<string, unknown>, string][] = [
      [
        { provider: 'bedrock', apiKey: 'x'.repeat(20), params: { region: 'us-east-1' } },
        'take "credential"',
      ],
      [{ provider: 'bedrock', credential: AWS }, 'params.region is required'],
      [
        { provider: 'bedrock', credential: AWS, params: { region: 'us-east-1.evil.example' } },
        'params.region must look like',
      ],
      [
        {
          provider: 'bedrock',
          credential: { ...AWS, accessKeyId: 'lower' },
          params: { region: 'us-east-1' },
        },
        'credential.accessKeyId',
      ],
      [{ provider: 'azure-openai', credential: AWS, params: { resource: 'r' } }, 'take "apiKey"'],
      [
        { provider: 'azure-openai', apiKey: AZURE_KEY, params: { resource: 'a.b' } },
        'params.resource must look like',
      ],
      [
        { provider: 'cerebras', apiKey: AZURE_KEY, params: { region: 'us-east-1' } },
        'take no parameters',
      ],
      [
        {
          provider: 'vertex',
          credential: { type: 'service_account' },
          params: { location: 'us-central1' },
        },
        'credential.private_key',
      ],
      [{ provider: 'openai-compatible', apiKey: SELF_HOSTED_KEY }, 'params.baseUrl is required'],
    ];
    // Titled by the message, so no credential is printed in the test name.
    it.each(cases.map(([body, says]) => [says, body] as const))('400: %s', async (says, body) => {
      const res = await save({ keyName: 'bad', ...body });
      expect(res.status).toBe(400);
      expect((res.json as { detail: string }).detail).toContain(says);
    });
  });

  describe('no secret part of any credential reaches a client', () => {
    const privateLine = sa.private_key.split('\n')[3];
    const secrets = (): string[] => [
      AZURE_KEY,
      AWS.secretAccessKey,
      AWS.sessionToken,
      SELF_HOSTED_KEY,
      sa.private_key,
      JSON.stringify(sa.private_key).slice(1, -1),
      privateLine,
      ...google.issued.map((t) => t.token),
    ];
    const expectClean = (text: string): void => {
      for (const s of secrets()) expect(text).not.toContain(s);
    };

    it('Azure and self-hosted keys echoed in an error', async () => {
      double.nextResponse(respond.echoKey(400));
      const azure = await api.post('/proxy/azure-openai/openai/v1/chat/completions', {
        messages: [],
      });
      expect(double.requests.at(-1)?.headers['api-key']).toBe(AZURE_KEY);
      expect(azure.text).toContain('…89ab');
      double.nextResponse(respond.echoKey(400));
      const own = await api.post('/v1/chat/completions', {
        model: 'openai-compatible/x',
        messages: [],
      });
      expect(own.text).toContain('…qrst');
      expectClean(azure.text + own.text);
    });

    it('an AWS secret key and session token echoed in an error and inside an event stream', async () => {
      double.nextResponse((_req, res) =>
        sendJson(res, 400, {
          message: `bad secret ${AWS.secretAccessKey} token ${AWS.sessionToken} / ${JSON.stringify(AWS.secretAccessKey).replaceAll('/', '\\/')}`,
        }),
      );
      const error = await awsCall(`model/${MODEL}/converse`, { messages: [] });
      expect(error.status).toBe(400);
      const errorText = await error.text();
      expect(errorText).toContain('AKIA…WXYZ');
      double.nextResponse((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream' });
        const frame = eventFrame('contentBlockDelta', {
          delta: { text: `leak ${AWS.secretAccessKey}` },
        });
        res.write(frame.subarray(0, 40));
        res.end(frame.subarray(40));
      });
      const stream = Buffer.from(
        await (await awsCall(`model/${MODEL}/converse-stream`, {})).arrayBuffer(),
      );
      // The frame no longer checks out (its bytes changed): a broken frame, never a leaked key.
      expect(() => readFrames(stream)).toThrow(/damaged frame/);
      expectClean(errorText + stream.toString('latin1'));
    });

    it('a service account private key and the minted token echoed in an error and a stream', async () => {
      double.nextResponse((req, res) =>
        sendJson(res, 400, {
          error: {
            message: `token ${req.headers.authorization} key ${sa.private_key} line ${privateLine}`,
          },
        }),
      );
      const error = await api.post(`/proxy/vertex/${vertexPath}:generateContent`, { contents: [] });
      expect(error.status).toBe(400);
      expect(error.text).toContain(`…${sa.private_key_id.slice(-4)}`);
      double.nextResponse(async (req, res) => {
        const token = String(req.headers.authorization).slice('Bearer '.length);
        const [event, ...rest] = chatChunks('gemini', [`token ${token}`]);
        const cut = event.indexOf(token) + 10;
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(event.slice(0, cut));
        await new Promise((r) => setTimeout(r, 10));
        res.end(event.slice(cut) + rest.join(''));
      });
      const stream = await api.post(`/proxy/vertex/${vertexPath}:streamGenerateContent?alt=sse`, {
        contents: [],
      });
      expect(stream.status).toBe(200);
      expect(google.issued.length).toBeGreaterThan(0);
      expectClean(error.text + stream.text);
    });

    it('in no API response of this run, key listings included', async () => {
      const list = await api.get('/api/user/api-keys');
      expect(list.status).toBe(200);
      expectClean(api.seen.map((e) => e.text).join('\n'));
      expect(list.text).not.toContain('accessKeyId');
    });
  });
});
