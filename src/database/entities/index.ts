import { AccessTokenEntity } from './access-token.entity';
import { ApiKeyEntity } from './api-key.entity';
import { LocalSecretEntity } from './local-secret.entity';
import { UsageEventEntity } from './usage-event.entity';

export { AccessTokenEntity, ApiKeyEntity, LocalSecretEntity, UsageEventEntity };

export const ENTITIES = [ApiKeyEntity, AccessTokenEntity, LocalSecretEntity, UsageEventEntity];
