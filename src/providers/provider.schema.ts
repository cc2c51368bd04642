import type { RealtimeSpec } from './realtime-field';

/**
 * How a provider takes its credential (the credential kind):
 * - `bearer`, `x-api-key`, `api-key`: one key in one header (`Authorization: Bearer`, …);
 * - `azure`: Azure OpenAI's `api-key` header, per-key `resource` (host) and `apiVersion` (query);
 * - `sigv4`: an AWS access key pair (+ session token) signing every request for a `region`;
 * - `gcp-service-account`: a Google service-account JSON key, exchanged for short-lived OAuth
 *   access tokens at the provider's `tokenUrl`; per-key `project` and `location`.
 */
export type ProviderAuth =
  'bearer' | 'x-api-key' | 'api-key' | 'azure' | 'sigv4' | 'gcp-service-account';

/** A provider is data, not a class: one YAML entry (built in, or from PROVIDERS_FILE). */
export interface ProviderRecord {
  /** Lower-case id, also the `provider/` model prefix and the `/proxy/{id}` segment. */
  id: string;
  /** Human name for the settings page. */
  name: string;
  /**
   * API root, scheme + host (+ optional path); native `/proxy/{id}/{path}` goes to `{baseUrl}/{path}`.
   * It may name key parameters (`https://{resource}.openai.azure.com`), filled from the key's
   * metadata when a request leaves; `{baseUrl}` alone means the key carries its own (keyBaseUrl).
   */
  baseUrl: string;
  /** Path of its OpenAI-compatible API under baseUrl, e.g. `/v1`; may name key parameters. */
  openaiPrefix: string;
  auth: ProviderAuth;
  /** Extra fixed headers sent upstream (e.g. `anthropic-version`), unless the client sent its own. */
  headers: Record<string, string>;
  /** Name of the operator's fallback key variable, e.g. `CEREBRAS_API_KEY`. */
  envKey: string;
  /** Whether the env key may serve callers who have no key of their own. */
  envFallback: boolean;
  /** The request that checks a key, relative to baseUrl (or to its own baseUrl template). */
  verify: { method: 'GET' | 'POST'; path: string; body?: unknown; baseUrl?: string };
  /** sigv4: the AWS service name in the signature scope (`bedrock`). */
  signingService?: string;
  /** gcp-service-account: the token endpoint; a stored key's `token_uri` must be this URL. */
  tokenUrl?: string;
  /** Each key carries its own base URL (self-hosted), checked against CUSTOM_BASE_URL_ALLOWLIST. */
  keyBaseUrl: boolean;
  /**
   * Native paths may carry `%2F` inside a segment (Bedrock model ARNs such as
   * `arn%3Aaws%3A…%3Ainference-profile%2Fus.anthropic…`). Decoded, the path is still checked for
   * `.`, `..` and empty segments, so an encoded slash cannot climb out of the base path.
   */
  encodedSlashes: boolean;
  /** The native paths that may be upgraded to a WebSocket (realtime APIs); none when unset. */
  realtime?: RealtimeSpec;
  /** `<ID>_PROPAGATE_TRACE`: upstream requests carry W3C trace context (a provider is a third party: off by default). */
  propagateTrace?: boolean;
}
