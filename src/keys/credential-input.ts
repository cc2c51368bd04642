import { AppError } from '../common/errors/app-error';
import { SecretValue } from '../common/secret-value';
import { type KeyParams, paramNamesOf, validateKeyParams } from '../providers/key-params';
import type { ProviderRecord } from '../providers/provider.schema';
import { awsHint, readAwsCredential } from '../upstream/credentials/aws.credential';
import {
  readServiceAccount,
  serviceAccountHint,
} from '../upstream/credentials/gcp-service-account';
import type { CustomBaseUrlPolicy } from '../upstream/custom-base-url';

/** What a save or rotate sends for the secret: `apiKey` for one-string kinds, else `credential`. */
export interface CredentialInput {
  apiKey?: string;
  credential?: Record<string, unknown>;
}

/** A credential ready to store: the secret, the hint shown for it, and its checked parameters. */
export interface CheckedCredential {
  secret: SecretValue;
  hint: string;
  params: KeyParams | null;
}

const MAX_CREDENTIAL_CHARS = 16 * 1024;

function invalid(problems: string[], fields: string[]): never {
  throw new AppError('validation_failed', problems.join('; '), { details: { fields } });
}

/** Kinds whose secret is a JSON document of several parts rather than one string. */
const takesDocument = (p: ProviderRecord): boolean =>
  p.auth === 'sigv4' || p.auth === 'gcp-service-account';

/**
 * The secret a save or rotate stores, checked for the provider's credential kind: one string
 * (`apiKey`) for header and Azure keys, a JSON document (`credential`) for AWS keys and Google
 * service accounts, stored whole in the secret store. Messages name fields, never values.
 */
function readSecret(
  provider: ProviderRecord,
  input: CredentialInput,
): { secret: SecretValue; hint: string; defaults: KeyParams } {
  if (!takesDocument(provider)) {
    if (input.credential !== undefined)
      invalid([`${provider.id} keys take "apiKey", not "credential"`], ['credential']);
    if (input.apiKey === undefined) invalid(['apiKey is required'], ['apiKey']);
    const secret = new SecretValue(input.apiKey);
    return { secret, hint: secret.hint, defaults: {} };
  }
  const shape =
    provider.auth === 'sigv4'
      ? '{"accessKeyId","secretAccessKey","sessionToken"?}'
      : 'the service-account key file (JSON)';
  if (input.apiKey !== undefined)
    invalid([`${provider.id} keys take "credential" (${shape}), not "apiKey"`], ['apiKey']);
  const doc = input.credential;
  if (doc === undefined) invalid([`credential is required: ${shape}`], ['credential']);
  if (JSON.stringify(doc).length > MAX_CREDENTIAL_CHARS)
    invalid(
      [`credential must be at most ${MAX_CREDENTIAL_CHARS} characters of JSON`],
      ['credential'],
    );
  if (provider.auth === 'sigv4') {
    const aws = readAwsCredential(doc);
    if (Array.isArray(aws)) invalid(aws, ['credential']);
    return { secret: new SecretValue(JSON.stringify(aws)), hint: awsHint(aws), defaults: {} };
  }
  const sa = readServiceAccount(doc, provider.tokenUrl);
  if (Array.isArray(sa)) invalid(sa, ['credential']);
  return {
    secret: new SecretValue(JSON.stringify(sa)),
    hint: serviceAccountHint(sa),
    defaults: sa.project_id ? { project: sa.project_id } : {},
  };
}

/** Checks a key's parameters for its provider; a base URL also against the operator's allowlist. */
export async function checkParams(
  provider: ProviderRecord,
  given: KeyParams,
  customBaseUrls: CustomBaseUrlPolicy,
  defaults: KeyParams = {},
): Promise<KeyParams | null> {
  const { params, problems } = validateKeyParams(provider, given, defaults);
  if (problems.length) invalid(problems, ['params']);
  if (params.baseUrl !== undefined) params.baseUrl = await customBaseUrls.check(params.baseUrl);
  return paramNamesOf(provider).length ? params : null;
}

export async function checkCredential(
  provider: ProviderRecord,
  input: CredentialInput & { params?: KeyParams },
  customBaseUrls: CustomBaseUrlPolicy,
  current: KeyParams | null = null,
): Promise<CheckedCredential> {
  const { secret, hint, defaults } = readSecret(provider, input);
  const given = input.params ?? current ?? {};
  const params = await checkParams(provider, given, customBaseUrls, defaults);
  return { secret, hint, params };
}
