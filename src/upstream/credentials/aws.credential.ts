import type { SecretValue } from '../../common/secret-value';
import type { ProviderRecord } from '../../providers/provider.schema';
import type { KeyParams } from '../../providers/key-params';
import type { OutboundRequest } from '../provider-auth';
import { type AwsCredential, signV4 } from './sigv4';

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

/**
 * Signs the request as it will leave. A client's own signature headers (an AWS SDK's, made with
 * dummy credentials) were dropped with its `authorization`; its other `x-amz-*` headers are
 * dropped here too, since they would otherwise be signed as ours.
 */
export function applySigV4(
  request: OutboundRequest,
  provider: ProviderRecord,
  secret: SecretValue,
  params: KeyParams,
  now: Date,
): void {
  for (const name of Object.keys(request.headers))
    if (name.startsWith('x-amz-')) delete request.headers[name];
  const added = signV4(
    {
      method: request.method,
      url: new URL(request.url),
      headers: request.headers,
      body: request.body,
    },
    awsCredentialOf(secret),
    { region: params.region, service: provider.signingService ?? 'execute-api', now },
  );
  Object.assign(request.headers, added);
}
