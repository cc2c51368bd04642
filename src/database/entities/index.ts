import { AccessTokenEntity } from './access-token.entity';
import { ApiKeyEntity } from './api-key.entity';
import { LocalSecretEntity } from './local-secret.entity';

export { AccessTokenEntity, ApiKeyEntity, LocalSecretEntity };

export const ENTITIES = [ApiKeyEntity, AccessTokenEntity, LocalSecretEntity];
