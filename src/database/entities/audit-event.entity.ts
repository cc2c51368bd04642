import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type AuditActorKind = 'jwt' | 'token' | 'anonymous';

/** Plain values only, so that nothing richer (an object holding a secret) can slip into a row. */
export type AuditDetail = Record<string, string | number | boolean | null | string[] | undefined>;

/**
 * One audited action. Append-only: a trigger (migration AuditAndUsageDaily) refuses UPDATE,
 * DELETE and TRUNCATE. Holds metadata only: a key appears as its hint, never its value.
 */
@Entity({ name: 'audit_events' })
@Index('audit_events_at', ['at', 'id'])
@Index('audit_events_actor', ['actorSub', 'at'])
@Index('audit_events_target', ['targetId'])
@Index('audit_events_action', ['action', 'at'])
export class AuditEventEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Column({ type: 'timestamptz' })
  at: Date;

  @Column({ name: 'actor_sub', type: 'varchar', length: 255, nullable: true })
  actorSub: string | null;

  @Column({ name: 'actor_kind', type: 'varchar', length: 16 })
  actorKind: AuditActorKind;

  @Column({ type: 'varchar', length: 64 })
  action: string;

  @Column({ name: 'target_type', type: 'varchar', length: 16, nullable: true })
  targetType: string | null;

  @Column({ name: 'target_id', type: 'varchar', length: 255, nullable: true })
  targetId: string | null;

  @Column({ name: 'key_hint', type: 'varchar', length: 8, nullable: true })
  keyHint: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  provider: string | null;

  @Column({ name: 'owner_type', type: 'varchar', length: 8, nullable: true })
  ownerType: string | null;

  @Column({ name: 'owner_id', type: 'varchar', length: 255, nullable: true })
  ownerId: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  ip: string | null;

  @Column({ name: 'request_id', type: 'varchar', length: 128, nullable: true })
  requestId: string | null;

  /**
   * Made when the row is, so a batch written again after an answer that never came (a timeout:
   * the database may have committed it) is not counted twice: inserts skip a known event_id.
   */
  @Index('audit_events_event_id', { unique: true })
  @Column({ name: 'event_id', type: 'uuid' })
  eventId: string;

  @Column({ type: 'jsonb', nullable: true })
  detail: AuditDetail | null;
}
