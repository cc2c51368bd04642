import type { SecretValue } from '../common/secret-value';
import type { ProviderRecord } from '../providers/provider.schema';

/** An outbound request as it is about to leave, before the provider's credential is applied. */
export interface OutboundRequest {
  method: string;
  /** Absolute URL on the provider's own origin (checked by buildUpstreamUrl). */
  url: string;
  headers: Record<string, string>;
  body?: Buffer;
}

/**
 * Applies the provider's credential to a request that is otherwise final: the only place a raw
 * key is ever written. It runs last, in UpstreamClient, because a signature (AWS SigV4) covers
 * the method, URL, headers and body as sent, and a minted token (OAuth) is the provider's
 * business, not the caller's. Today every provider takes the key in one header.
 */
export function applyProviderAuth(
  request: OutboundRequest,
  provider: ProviderRecord,
  key: SecretValue,
): void {
  switch (provider.auth) {
    case 'bearer':
      request.headers.authorization = `Bearer ${key.reveal()}`;
      return;
    case 'x-api-key':
      request.headers['x-api-key'] = key.reveal();
      return;
    case 'api-key':
      request.headers['api-key'] = key.reveal();
      return;
  }
}
