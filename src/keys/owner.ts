import type { Caller } from '../auth/caller';
import { AppError } from '../common/errors/app-error';
import type { Owner } from './key.repository';

/** Which keys a route works on: the caller's own, or its organisation's. */
export type KeyScope = 'user' | 'org';

/** The owner a caller acts for; org keys are read by members and written by org admins. */
export function ownerOf(caller: Caller, scope: KeyScope, write: boolean): Owner {
  if (scope === 'user') return { ownerType: 'user', ownerId: caller.sub };
  if (!caller.orgId)
    throw new AppError(
      'forbidden',
      'Your credential names no organisation, so there are no organisation keys to use: sign in with an organisation selected',
    );
  if (write && !caller.orgAdmin)
    throw new AppError('forbidden', 'Only organisation admins can change organisation keys');
  return { ownerType: 'org', ownerId: caller.orgId };
}
