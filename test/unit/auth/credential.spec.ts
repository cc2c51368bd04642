import { MISSING_CREDENTIAL, readCredential } from '../../../src/auth/credential';
import { BoundedTtlCache } from '../../../src/common/ttl-cache';

describe('readCredential', () => {
  it('reads a Bearer credential, case-insensitively', () => {
    expect(readCredential({ authorization: 'Bearer abc.def.ghi' })).toBe('abc.def.ghi');
    expect(readCredential({ authorization: 'bearer   byok_x ' })).toBe('byok_x');
  });

  it('reads x-api-key as Anthropic-style clients send it; Authorization wins', () => {
    expect(readCredential({ 'x-api-key': 'byok_k' })).toBe('byok_k');
    expect(readCredential({ authorization: 'Bearer jwt', 'x-api-key': 'byok_k' })).toBe('jwt');
  });

  it("reads x-api-key beside an AWS SDK's own SigV4 signature, which is for AWS, not us", () => {
    const sigv4 =
      'AWS4-HMAC-SHA256 Credential=AKIDUMMY/20240101/us-east-1/bedrock/aws4_request, SignedHeaders=host, Signature=00';
    expect(readCredential({ authorization: sigv4, 'x-api-key': 'byok_k' })).toBe('byok_k');
    expect(readCredential({ authorization: sigv4 })).toBeUndefined();
  });

  it('is undefined when nothing is sent', () => {
    expect(readCredential({})).toBeUndefined();
    expect(readCredential({ authorization: '', 'x-api-key': ' ' })).toBeUndefined();
    expect(MISSING_CREDENTIAL).toMatch(/Authorization: Bearer/);
  });

  it('refuses other schemes and repeated headers with a message', () => {
    expect(() => readCredential({ authorization: 'Basic dXNlcjpwYXNz' })).toThrow(
      /Unsupported Authorization header/,
    );
    expect(() => readCredential({ authorization: 'Bearer a b' })).toThrow(/Unsupported/);
    expect(() => readCredential({ 'x-api-key': ['a', 'b'] })).toThrow(/exactly one/);
  });
});

describe('BoundedTtlCache', () => {
  it('expires entries at their deadline and caps its size', () => {
    let now = 1000;
    const cache = new BoundedTtlCache<string, number>(2, () => now);
    cache.set('a', 1, 2000);
    cache.set('b', 2, 1500);
    expect(cache.get('a')).toBe(1);
    now = 1500;
    expect(cache.get('b')).toBeUndefined();
    cache.set('c', 3, 5000);
    cache.set('d', 4, 5000);
    expect(cache.size).toBe(2);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('d')).toBe(4);
    cache.set('past', 0, 1500);
    expect(cache.get('past')).toBeUndefined();
  });

  it('stores nothing when its size is zero', () => {
    const cache = new BoundedTtlCache<string, number>(0);
    cache.set('a', 1, Date.now() + 1000);
    expect(cache.get('a')).toBeUndefined();
  });
});
