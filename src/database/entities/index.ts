import { AccessTokenEntity } from './access-token.entity';
import { ApiKeyEntity } from './api-key.entity';
import { LocalSecretEntity } from './local-secret.entity';
import { UsageEventEntity } from './usage-event.entity';
import { UsageDailyEntity } from './usage-daily.entity';
import { AuditEventEntity } from './audit-event.entity';
import { UserLimitsEntity } from './user-limits.entity';
import { OrgSightingEntity } from './org-sighting.entity';

export { AccessTokenEntity, ApiKeyEntity, LocalSecretEntity, UsageEventEntity };
export { UsageDailyEntity, AuditEventEntity, UserLimitsEntity, OrgSightingEntity };

export const ENTITIES = [
  ApiKeyEntity,
  AccessTokenEntity,
  LocalSecretEntity,
  UsageEventEntity,
  UsageDailyEntity,
  AuditEventEntity,
  UserLimitsEntity,
  OrgSightingEntity,
];
