import { Init1764400000000 } from './1764400000000-init';
import { UsageEvents1764500000000 } from './1764500000000-usage-events';

/** Every migration, in order. Additive first, so old pods keep serving while they run. */
export const MIGRATIONS = [Init1764400000000, UsageEvents1764500000000];
