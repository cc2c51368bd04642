import { Init1764400000000 } from './1764400000000-init';
import { UsageEvents1764500000000 } from './1764500000000-usage-events';
import { UsageDailyAudit1764600000000 } from './1764600000000-usage-daily-audit';
import { Limits1764700000000 } from './1764700000000-limits';
import { UsageCallerIndex1764800000000 } from './1764800000000-usage-caller-index';
import { OrgSightings1764900000000 } from './1764900000000-org-sightings';
import { KeyParams1765000000000 } from './1765000000000-key-params';
import { EventIds1765100000000 } from './1765100000000-event-ids';

/** Every migration, in order. Additive first, so old pods keep serving while they run. */
export const MIGRATIONS = [
  Init1764400000000,
  UsageEvents1764500000000,
  UsageDailyAudit1764600000000,
  Limits1764700000000,
  UsageCallerIndex1764800000000,
  OrgSightings1764900000000,
  KeyParams1765000000000,
  EventIds1765100000000,
];
