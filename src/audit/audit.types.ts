/** Every audited action; the audit route filters on these names. */
export const AUDIT_ACTIONS = [
  'key.create',
  'key.update',
  'key.toggle',
  'key.rotate',
  'key.verify',
  'key.invalidated',
  'key.delete',
  'token.create',
  'token.revoke',
  'admin.key.delete',
  'admin.limits.set',
  'auth.failed',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export type { AuditDetail } from '../database/entities/audit-event.entity';

/** What an audit row says about a key: its hint, never its value. */
export interface AuditedKey {
  id: string;
  provider: string;
  keyHint: string;
  ownerType: string;
  ownerId: string;
}

/** Where a request came from, as the guard sees it (a FastifyRequest fits). */
export interface RequestOrigin {
  ip?: string;
  id?: string;
  url?: string;
}
