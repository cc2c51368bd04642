import type { ProviderAuth, ProviderRecord } from './provider.schema';

/** A key's non-secret parameters (region, resource, …): stored as key metadata, never secret. */
export type KeyParams = Record<string, string>;

interface ParamSpec {
  /** Every value is matched whole; each pattern keeps it a single DNS label or path segment. */
  pattern: RegExp;
  example: string;
  default?: string;
  describe: string;
}

/** The parameters each credential kind takes; values fill the provider's URL templates. */
export const KIND_PARAMS: Readonly<Record<ProviderAuth, Readonly<Record<string, ParamSpec>>>> = {
  bearer: {},
  'x-api-key': {},
  'api-key': {},
  azure: {
    resource: {
      pattern: /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/,
      example: 'my-openai',
      describe: 'the Azure OpenAI resource name (the `{resource}` of {resource}.openai.azure.com)',
    },
    apiVersion: {
      pattern: /^\d{4}-\d{2}-\d{2}(-preview)?$|^(preview|latest)$/,
      example: '2024-10-21',
      default: '2024-10-21',
      describe: 'the api-version sent on deployment routes that name none',
    },
  },
  sigv4: {
    region: {
      pattern: /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/,
      example: 'us-east-1',
      describe: 'the AWS region the key signs for',
    },
  },
  'gcp-service-account': {
    project: {
      pattern: /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/,
      example: 'my-project',
      describe: 'the Google Cloud project id (defaults to the service account project_id)',
    },
    location: {
      pattern: /^[a-z]+-[a-z]+\d+$/,
      example: 'us-central1',
      default: 'us-central1',
      describe: 'the Vertex AI region',
    },
  },
};

/** The parameters a provider's keys take: its kind's, plus `baseUrl` when keys carry their own. */
export function paramNamesOf(provider: Pick<ProviderRecord, 'auth' | 'keyBaseUrl'>): string[] {
  const names = Object.keys(KIND_PARAMS[provider.auth]);
  return provider.keyBaseUrl ? [...names, 'baseUrl'] : names;
}

/**
 * Checks and completes a key's parameters for its provider's kind: unknown names, bad values and
 * missing required ones are each a message naming the field. `baseUrl` is only shape-checked
 * here; whether it may be used at all is the allowlist's call (upstream/custom-base-url).
 */
export function validateKeyParams(
  provider: Pick<ProviderRecord, 'auth' | 'keyBaseUrl'>,
  given: KeyParams,
  defaults: KeyParams = {},
): { params: KeyParams; problems: string[] } {
  const specs = KIND_PARAMS[provider.auth];
  const problems: string[] = [];
  const params: KeyParams = {};
  const known = paramNamesOf(provider);
  for (const name of Object.keys(given))
    if (!known.includes(name))
      problems.push(
        known.length
          ? `params.${name} is not a parameter of ${provider.auth} keys (known: ${known.join(', ')})`
          : `params.${name}: ${provider.auth} keys take no parameters`,
      );
  for (const [name, spec] of Object.entries(specs)) {
    const value = given[name] ?? defaults[name] ?? spec.default;
    if (value === undefined) problems.push(`params.${name} is required: ${spec.describe}`);
    else if (typeof value !== 'string' || !spec.pattern.test(value))
      problems.push(
        `params.${name} must look like "${spec.example}" (${spec.describe}), got ${JSON.stringify(value)}`,
      );
    else params[name] = value;
  }
  if (provider.keyBaseUrl) {
    const value = given.baseUrl;
    if (typeof value !== 'string' || !value)
      problems.push(
        'params.baseUrl is required: the http(s) root of your OpenAI-compatible server',
      );
    else params.baseUrl = value;
  }
  return { params, problems };
}

/** A save body for the provider's kind, for messages that tell a caller how to add a key. */
export function keyExample(
  provider: Pick<ProviderRecord, 'id' | 'name' | 'auth' | 'keyBaseUrl'>,
): string {
  const params = Object.fromEntries(
    paramNamesOf(provider).map((n) => [n, n === 'baseUrl' ? 'http://<host>:<port>' : `<${n}>`]),
  );
  const secret =
    provider.auth === 'sigv4'
      ? { credential: { accessKeyId: '<AKIA…>', secretAccessKey: '<secret>' } }
      : provider.auth === 'gcp-service-account'
        ? { credential: '<the service-account key file, as JSON>' }
        : { apiKey: `<your ${provider.name} key>` };
  return JSON.stringify({
    provider: provider.id,
    keyName: 'default',
    ...secret,
    ...(Object.keys(params).length ? { params } : {}),
  });
}
