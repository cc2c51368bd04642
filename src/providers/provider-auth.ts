import type { SecretValue } from '../common/secret-value';
import type { ProviderRecord } from './provider.schema';

/** The provider's own auth header carrying the key (the only place a raw key is ever written). */
export function providerAuthHeader(provider: ProviderRecord, key: SecretValue): [string, string] {
  switch (provider.auth) {
    case 'bearer':
      return ['authorization', `Bearer ${key.reveal()}`];
    case 'x-api-key':
      return ['x-api-key', key.reveal()];
    case 'api-key':
      return ['api-key', key.reveal()];
  }
}
