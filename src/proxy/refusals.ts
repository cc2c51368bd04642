import type { Caller } from '../auth/caller';
import { AppError } from '../common/errors/app-error';
import type { KeyCandidate } from '../keys/key-resolver';
import { keyExample } from '../providers/key-params';
import type { ProviderRecord } from '../providers/provider.schema';

/** The refusals the proxy's HTTP and WebSocket routes share, worded once. */

/** An access token limited to some providers may not reach the others. */
export function checkScope(caller: Caller, provider: ProviderRecord): void {
  if (caller.providers && !caller.providers.includes(provider.id))
    throw new AppError(
      'forbidden',
      `This access token may only use ${caller.providers.join(', ')}, not ${provider.id}`,
    );
}

export function keyMissing(provider: ProviderRecord): AppError {
  return new AppError(
    'provider_key_missing',
    `No ${provider.name} key: you have none${provider.envFallback ? ' and the operator has set no fallback key' : ` and ${provider.id} allows no operator fallback key`}. Add yours with POST /api/user/api-keys: curl -X POST <proxy>/api/user/api-keys -H "authorization: Bearer <JWT>" -H "content-type: application/json" -d '${keyExample(provider)}'`,
  );
}

/** A 401 from the provider: names the stored key and how to fix it. `said` is already scrubbed. */
export function keyRejected(
  provider: ProviderRecord,
  candidate: KeyCandidate,
  status: number,
  said: string,
): AppError {
  const which =
    candidate.source === 'env'
      ? `the operator's ${candidate.keyName} (${candidate.hint})`
      : `your ${candidate.source === 'org' ? "organisation's " : ''}stored key "${candidate.keyName}" (${candidate.hint})`;
  const fix =
    candidate.source === 'env'
      ? 'ask the operator to check it, or add your own key with POST /api/user/api-keys'
      : `check it, or rotate it with POST /api/${candidate.source}/api-keys/${candidate.keyId}/rotate`;
  return new AppError(
    'provider_key_rejected',
    `${provider.name} rejected ${which} with HTTP ${status}: ${fix}. ${provider.name} said: ${said.slice(0, 500)}`,
    { status },
  );
}
