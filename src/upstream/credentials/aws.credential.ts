import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SecretValue } from '../../common/secret-value';
import type { ProviderRecord } from '../../providers/provider.schema';
import type { KeyParams } from '../../providers/key-params';
import type { OutboundRequest } from '../provider-auth';

/** An AWS credential: the access key pair and, for temporary credentials, a session token. */
export interface AwsCredential {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;
const parsed = new WeakMap<SecretValue, AwsCredential>();

/**
 * Checks an AWS credential document (`accessKeyId`, `secretAccessKey`, optional `sessionToken`)
 * and returns it normalised, or the problems with it (field names only, never values).
 */
export function readAwsCredential(doc: Record<string, unknown>): AwsCredential | string[] {
  const problems: string[] = [];
  const { accessKeyId, secretAccessKey, sessionToken, ...rest } = doc;
  for (const k of Object.keys(rest))
    problems.push(
      `credential.${k} is not a field of an AWS credential (accessKeyId, secretAccessKey, sessionToken)`,
    );
  if (typeof accessKeyId !== 'string' || !ACCESS_KEY_ID.test(accessKeyId))
    problems.push(
      'credential.accessKeyId must be an AWS access key id (AKIA… or ASIA…, upper-case letters and digits)',
    );
  if (typeof secretAccessKey !== 'string' || !/^[\x21-\x7e]{16,256}$/.test(secretAccessKey))
    problems.push(
      'credential.secretAccessKey must be the secret access key as AWS shows it (16 to 256 visible characters)',
    );
  if (
    sessionToken !== undefined &&
    (typeof sessionToken !== 'string' || !/^[\x21-\x7e]{16,4096}$/.test(sessionToken))
  )
    problems.push('credential.sessionToken, when given, must be the session token as AWS shows it');
  if (problems.length) return problems;
  return {
    accessKeyId: accessKeyId as string,
    secretAccessKey: secretAccessKey as string,
    ...(sessionToken ? { sessionToken: sessionToken as string } : {}),
  };
}

/** The stored credential of a sigv4 key; its secret parts are hidden from then on. */
export function awsCredentialOf(secret: SecretValue): AwsCredential {
  let c = parsed.get(secret);
  if (!c) {
    const read = readAwsCredential(JSON.parse(secret.reveal()) as Record<string, unknown>);
    if (Array.isArray(read))
      throw new Error(`stored AWS credential is malformed: ${read.join('; ')}`);
    c = read;
    secret.hide(c.secretAccessKey);
    if (c.sessionToken) secret.hide(c.sessionToken);
    parsed.set(secret, c);
  }
  return c;
}

/** `AKIA…WXYZ`: the access key id is an identifier, not a secret, so both ends are shown. */
export const awsHint = (c: AwsCredential): string =>
  `${c.accessKeyId.slice(0, 4)}…${c.accessKeyId.slice(-4)}`;

/** Signed besides `host` and the `x-amz-*` headers the signer adds: the rest may be re-framed. */
const SIGNED = new Set(['content-type']);

/** The query as the signer wants it: names and values decoded, repeated names as a list. */
function queryOf(url: URL): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  const decode = (s: string): string => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s; // a stray % is signed as the literal text the server sees
    }
  };
  for (const pair of url.search.slice(1).split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const name = decode(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decode(pair.slice(eq + 1));
    const seen = query[name];
    query[name] = seen === undefined ? value : [seen, value].flat();
  }
  return query;
}

/**
 * Signs the request as it will leave, with AWS's own signer (@smithy/signature-v4, the one the
 * AWS SDKs use): the method, the path exactly as sent (encoded once more, as every service but
 * S3 wants), the query, `host`, `content-type` and the SHA-256 of the exact body bytes. A
 * client's own signature headers (an AWS SDK's, made with dummy credentials) were dropped with
 * its `authorization`; its other `x-amz-*` headers are dropped here too, since they would
 * otherwise be signed as ours.
 */
export async function applySigV4(
  request: OutboundRequest,
  provider: ProviderRecord,
  secret: SecretValue,
  params: KeyParams,
  now: Date,
): Promise<void> {
  for (const name of Object.keys(request.headers))
    if (name.startsWith('x-amz-')) delete request.headers[name];
  const url = new URL(request.url);
  const headers: Record<string, string> = { host: url.host };
  for (const [name, value] of Object.entries(request.headers))
    if (SIGNED.has(name)) headers[name] = value;
  const signer = new SignatureV4({
    credentials: awsCredentialOf(secret),
    region: params.region ?? '',
    service: provider.signingService ?? 'execute-api',
    sha256: Sha256,
    // x-amz-content-sha256 is S3's and Glacier's; Bedrock, like the AWS SDK, goes without.
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: request.method.toUpperCase(),
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query: queryOf(url),
      headers,
      body: request.body,
    },
    { signingDate: now },
  );
  for (const [name, value] of Object.entries(signed.headers))
    if (name !== 'host') request.headers[name] = value;
}
