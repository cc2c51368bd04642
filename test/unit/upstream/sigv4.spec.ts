import { signV4 } from '../../../src/upstream/credentials/sigv4';

/**
 * AWS's published Signature Version 4 test suite (aws-sig-v4-test-suite): the example credential,
 * region, service and time every vector uses, and the signatures AWS lists for them.
 */
const EXAMPLE = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
const SCOPE = { region: 'us-east-1', service: 'service', now: new Date('2015-08-30T12:36:00Z') };
const PREFIX =
  'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=';

const sign = (url: string, headers: Record<string, string> = {}, body?: string) =>
  signV4(
    {
      method: 'GET',
      url: new URL(url),
      headers,
      body: body === undefined ? undefined : Buffer.from(body),
    },
    EXAMPLE,
    SCOPE,
  );

describe('signV4 against the AWS test suite', () => {
  it('get-vanilla', () => {
    const h = sign('https://example.amazonaws.com/');
    expect(h['x-amz-date']).toBe('20150830T123600Z');
    expect(h.authorization).toBe(
      `${PREFIX}5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31`,
    );
  });

  it('get-vanilla-query-order-key-case: the query is sorted before signing', () => {
    expect(sign('https://example.amazonaws.com/?Param2=value2&Param1=value1').authorization).toBe(
      `${PREFIX}b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500`,
    );
  });

  it('signs the session token, and a change to any signed part changes the signature', () => {
    const base = sign('https://example.amazonaws.com/x');
    const withToken = signV4(
      { method: 'GET', url: new URL('https://example.amazonaws.com/x'), headers: {} },
      { ...EXAMPLE, sessionToken: 'tok' },
      SCOPE,
    );
    expect(withToken['x-amz-security-token']).toBe('tok');
    expect(withToken.authorization).toContain(
      'SignedHeaders=host;x-amz-date;x-amz-security-token,',
    );
    expect(sign('https://example.amazonaws.com/y').authorization).not.toBe(base.authorization);
    expect(sign('https://example.amazonaws.com/x', {}, 'body').authorization).not.toBe(
      base.authorization,
    );
    expect(
      sign('https://example.amazonaws.com/x', { 'content-type': 'a/b' }).authorization,
    ).toContain('SignedHeaders=content-type;host;x-amz-date,');
  });
});
