import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The organisation a user's most recent JWT carried (null: none), and when. An access token
 * reaches its organisation's keys only while this still names that organisation and was seen
 * within TOKEN_ORG_SEEN_DAYS, so leaving an organisation (or switching) also takes it from the
 * tokens made while in it.
 */
@Entity({ name: 'org_sightings' })
export class OrgSightingEntity {
  @PrimaryColumn({ type: 'varchar', length: 255 })
  sub: string;

  @Column({ name: 'org_id', type: 'varchar', length: 255, nullable: true })
  orgId: string | null;

  @Column({ name: 'seen_at', type: 'timestamptz' })
  seenAt: Date;
}
