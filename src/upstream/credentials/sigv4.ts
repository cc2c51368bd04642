import { createHash, createHmac } from 'node:crypto';

/** An AWS credential: the access key pair and, for temporary credentials, a session token. */
export interface AwsCredential {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SigV4Request {
  method: string;
  /** The URL exactly as it will be sent: its raw path and query are what gets signed. */
  url: URL;
  /** Lower-case header names; `host` is taken from the URL. */
  headers: Record<string, string>;
  body?: Buffer;
}

export interface SigV4Scope {
  region: string;
  service: string;
  /** The signing time; the signature is valid for 15 minutes around it. */
  now: Date;
}

const sha256Hex = (data: string | Buffer): string =>
  createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer =>
  createHmac('sha256', key).update(data, 'utf8').digest();

/** RFC 3986 encoding as SigV4 wants it: everything but A-Z a-z 0-9 - _ . ~ is %XX. */
const encode = (s: string): string =>
  encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );

const decode = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // a stray % is signed as the literal text the server sees
  }
};

/**
 * The canonical path of every service but S3: the path as sent (already percent-encoded)
 * encoded once more, segment by segment, so `/model/a%3A0/converse` signs as
 * `/model/a%253A0/converse`. Dot segments and `//` never reach here (buildUpstreamUrl refuses them).
 */
function canonicalPath(path: string): string {
  return path
    .split('/')
    .map((segment) => encode(segment))
    .join('/');
}

function canonicalQuery(search: string): string {
  if (search.length <= 1) return '';
  return search
    .slice(1)
    .split('&')
    .filter(Boolean)
    .map((pair) => {
      const eq = pair.indexOf('=');
      const k = eq < 0 ? pair : pair.slice(0, eq);
      const v = eq < 0 ? '' : pair.slice(eq + 1);
      return [encode(decode(k)), encode(decode(v))] as const;
    })
    .sort(([ka, va], [kb, vb]) => (ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/** `20150830T123600Z` */
export function amzDate(now: Date): string {
  return now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/**
 * Signs a request with AWS Signature Version 4 (header form) and returns the headers to add:
 * `x-amz-date`, `x-amz-security-token` for temporary credentials, and `authorization`. Signed:
 * `host`, `content-type` and every `x-amz-*` header, plus the SHA-256 of the exact body bytes.
 * Checked against AWS's published signature test suite (test/unit/upstream/sigv4.spec.ts).
 */
export function signV4(
  request: SigV4Request,
  credential: AwsCredential,
  scope: SigV4Scope,
): Record<string, string> {
  const date = amzDate(scope.now);
  const added: Record<string, string> = { 'x-amz-date': date };
  if (credential.sessionToken) added['x-amz-security-token'] = credential.sessionToken;
  const signed: Record<string, string> = { host: request.url.host };
  for (const [name, value] of Object.entries({ ...request.headers, ...added }))
    if (name === 'content-type' || name.startsWith('x-amz-'))
      signed[name] = value.trim().replace(/\s+/g, ' ');
  const names = Object.keys(signed).sort();
  const signedHeaders = names.join(';');
  const canonicalRequest = [
    request.method.toUpperCase(),
    canonicalPath(request.url.pathname),
    canonicalQuery(request.url.search),
    names.map((n) => `${n}:${signed[n]}\n`).join(''),
    signedHeaders,
    sha256Hex(request.body ?? ''),
  ].join('\n');
  const day = date.slice(0, 8);
  const credentialScope = `${day}/${scope.region}/${scope.service}/aws4_request`;
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    date,
    credentialScope,
    sha256Hex(canonicalRequest),
  ].join('\n');
  const key = [day, scope.region, scope.service, 'aws4_request'].reduce<Buffer | string>(
    (k, part) => hmac(k, part),
    `AWS4${credential.secretAccessKey}`,
  );
  const signature = createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
  added.authorization = `AWS4-HMAC-SHA256 Credential=${credential.accessKeyId}/${credentialScope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return added;
}
