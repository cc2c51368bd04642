import type { SecretValue } from '../common/secret-value';
import type { KeyParams } from '../providers/key-params';
import type { ProviderRecord } from '../providers/provider.schema';
import { applySigV4 } from './credentials/aws.credential';
import { applyAzure } from './credentials/azure.credential';
import type { GcpTokenMinter } from './credentials/gcp-service-account';

/** An outbound request as it is about to leave, before the provider's credential is applied. */
export interface OutboundRequest {
  method: string;
  /** Absolute URL on the provider's own origin (checked by buildUpstreamUrl). */
  url: string;
  headers: Record<string, string>;
  body?: Buffer;
}

/** What applying a credential may need besides the request: the token minter and a clock. */
export interface AuthContext {
  minter: GcpTokenMinter;
  now: () => Date;
}

/**
 * Applies the provider's credential to a request that is otherwise final: the only place a raw
 * key is ever written. It runs last, in UpstreamClient, because a signature (AWS SigV4) covers
 * the method, URL, headers and body as sent, and a minted token (OAuth) is the provider's
 * business, not the caller's. One small module per credential kind (./credentials).
 */
export async function applyProviderAuth(
  request: OutboundRequest,
  provider: ProviderRecord,
  key: SecretValue,
  params: KeyParams,
  ctx: AuthContext,
): Promise<void> {
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
    case 'azure':
      applyAzure(request, key, params);
      return;
    case 'sigv4':
      await applySigV4(request, provider, key, params, ctx.now());
      return;
    case 'gcp-service-account':
      request.headers.authorization = `Bearer ${await ctx.minter.token(provider, key)}`;
      return;
  }
}
