/** How a provider expects its key: `Authorization: Bearer`, `x-api-key`, or Azure-style `api-key`. */
export type ProviderAuth = 'bearer' | 'x-api-key' | 'api-key';

/** A provider is data, not a class: one YAML entry (built in, or from PROVIDERS_FILE). */
export interface ProviderRecord {
  /** Lower-case id, also the `provider/` model prefix and the `/proxy/{id}` segment. */
  id: string;
  /** Human name for the settings page. */
  name: string;
  /** API root, scheme + host (+ optional path); native `/proxy/{id}/{path}` goes to `{baseUrl}/{path}`. */
  baseUrl: string;
  /** Path of its OpenAI-compatible API under baseUrl, e.g. `/v1`. */
  openaiPrefix: string;
  auth: ProviderAuth;
  /** Extra fixed headers sent upstream (e.g. `anthropic-version`), unless the client sent its own. */
  headers: Record<string, string>;
  /** Name of the operator's fallback key variable, e.g. `CEREBRAS_API_KEY`. */
  envKey: string;
  /** Whether the env key may serve callers who have no key of their own. */
  envFallback: boolean;
  /** The request that checks a key, relative to baseUrl. */
  verify: { method: 'GET' | 'POST'; path: string; body?: unknown };
}
