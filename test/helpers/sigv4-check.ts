import { createHash, createHmac } from 'node:crypto';
import type { RecordedRequest } from './upstream-double';

/**
 * What AWS does with a signed request, written apart from the service's signer (node:crypto, not
 * its @aws-crypto/sha256-js; its own parsing and canonical forms): rebuild the canonical request from the bytes received, derive the
 * signing key from the secret AWS holds for the access key id, and compare. Returns why the
 * signature is wrong, or undefined when it is right. Not checked (only AWS could): the clock
 * skew window, IAM permissions, and which headers a given operation insists on signing.
 */
export function sigV4Problem(
  req: RecordedRequest,
  secrets: ReadonlyMap<string, { secret: string; sessionToken?: string }>,
  service: string,
): string | undefined {
  const auth = String(req.headers.authorization ?? '');
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (!m) return 'no SigV4 authorization header';
  const [, keyId, day, region, svc, signedList, signature] = m;
  const known = secrets.get(keyId);
  if (!known) return `unknown access key id ${keyId}`;
  if (svc !== service) return `signed for service ${svc}, not ${service}`;
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  if (!amzDate.startsWith(day)) return 'x-amz-date does not match the credential scope';
  if (known.sessionToken && req.headers['x-amz-security-token'] !== known.sessionToken)
    return 'missing or wrong session token';
  const signed = signedList.split(';');
  if (!signed.includes('host') || !signed.includes('x-amz-date'))
    return 'host and x-amz-date must be signed';

  const hash = (data: string | Uint8Array): string =>
    createHash('sha256').update(data).digest('hex');
  const mac = (key: string | Uint8Array, data: string): Buffer =>
    createHmac('sha256', key).update(data, 'utf8').digest();
  const strict = (s: string): string =>
    Array.from(new TextEncoder().encode(s), (byte) => {
      const c = String.fromCharCode(byte);
      return /[A-Za-z0-9\-_.~]/.test(c)
        ? c
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    }).join('');
  const [rawPath, rawQuery = ''] = req.url.split('?');
  const path = rawPath
    .split('/')
    .map((seg) => strict(seg))
    .join('/');
  const query = [...new URLSearchParams(rawQuery.replace(/\+/g, '%2B'))]
    .map(([k, v]) => `${strict(k)}=${strict(v)}`)
    .sort()
    .join('&');
  const headerLines = signed
    .map(
      (name) =>
        `${name}:${String(req.headers[name] ?? '')
          .trim()
          .replace(/\s+/g, ' ')}\n`,
    )
    .join('');
  const canonical = [req.method, path, query, headerLines, signedList, hash(req.body)].join('\n');
  const scope = `${day}/${region}/${svc}/aws4_request`;
  const toSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${hash(canonical)}`;
  let key: string | Uint8Array = `AWS4${known.secret}`;
  for (const part of [day, region, svc, 'aws4_request']) key = mac(key, part);
  const expected = mac(key, toSign).toString('hex');
  return expected === signature ? undefined : 'signature does not match';
}

/** The region a SigV4 request was signed for. */
export const signedRegion = (req: RecordedRequest): string | undefined =>
  /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1];
