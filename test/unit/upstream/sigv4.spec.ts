import { SecretValue } from '../../../src/common/secret-value';
import type { ProviderRecord } from '../../../src/providers/provider.schema';
import { applySigV4 } from '../../../src/upstream/credentials/aws.credential';
import type { OutboundRequest } from '../../../src/upstream/provider-auth';
import { sigV4Problem } from '../../helpers/sigv4-check';
import type { RecordedRequest } from '../../helpers/upstream-double';

const AWS = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLEsessionTOKEN/0123456789+abcdef==',
};
const known = new Map([
  [AWS.accessKeyId, { secret: AWS.secretAccessKey, sessionToken: AWS.sessionToken }],
]);
const bedrock = { signingService: 'bedrock' } as ProviderRecord;
const NOW = new Date('2026-01-02T03:04:05Z');

/** Signs a request with the production signer, then sees it as the receiving server would. */
async function signAndReceive(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
  credential: object = AWS,
): Promise<RecordedRequest> {
  const request: OutboundRequest = {
    method: init.method ?? 'POST',
    url,
    headers: { ...init.headers },
    body: init.body === undefined ? undefined : Buffer.from(init.body),
  };
  const secret = new SecretValue(JSON.stringify(credential));
  await applySigV4(request, bedrock, secret, { region: 'us-east-1' }, NOW);
  const u = new URL(url);
  return {
    method: request.method,
    url: `${u.pathname}${u.search}`,
    path: u.pathname,
    headers: { ...request.headers, host: u.host },
    body: request.body ?? Buffer.alloc(0),
    json: undefined,
    key: undefined,
  };
}

describe('applySigV4 (AWS signer), checked by an independent SigV4 verifier', () => {
  it.each([
    [
      'a model id with an encoded colon',
      '/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse',
    ],
    [
      'a model ARN with an encoded slash',
      '/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.x/converse',
    ],
    [
      'a query in any order, encoded, repeated and bare',
      '/foundation-models?b=2&a=x%2Fy&a=1&flag&s=a+b',
    ],
    ['a port and no body', '/'],
  ])('signs %s', async (_, path) => {
    const req = await signAndReceive(
      `https://bedrock-runtime.us-east-1.amazonaws.com:8443${path}`,
      {
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: path === '/' ? undefined : '{"messages":[]}',
      },
    );
    expect(sigV4Problem(req, known, 'bedrock')).toBeUndefined();
    expect(req.headers['x-amz-security-token']).toBe(AWS.sessionToken);
    expect(req.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE\/20260102\/us-east-1\/bedrock\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, /,
    );
  });

  it("drops a client's own x-amz-* headers and signature, and signs the exact body", async () => {
    const req = await signAndReceive('https://h.example/model/m/converse', {
      headers: { 'x-amz-date': '20000101T000000Z', 'x-amz-security-token': 'dummy' },
      body: '{"a":1}',
    });
    expect(req.headers['x-amz-date']).toBe('20260102T030405Z');
    expect(sigV4Problem(req, known, 'bedrock')).toBeUndefined();
    expect(sigV4Problem({ ...req, body: Buffer.from('{"a":2}') }, known, 'bedrock')).toBe(
      'signature does not match',
    );
    expect(sigV4Problem({ ...req, url: `${req.url}?x=1` }, known, 'bedrock')).toBe(
      'signature does not match',
    );
  });

  it('signs without a session token for long-term credentials', async () => {
    const longTerm = { accessKeyId: AWS.accessKeyId, secretAccessKey: AWS.secretAccessKey };
    const req = await signAndReceive('https://h.example/x', {}, longTerm);
    expect(req.headers['x-amz-security-token']).toBeUndefined();
    const plain = new Map([[AWS.accessKeyId, { secret: AWS.secretAccessKey }]]);
    expect(sigV4Problem(req, plain, 'bedrock')).toBeUndefined();
  });
});
