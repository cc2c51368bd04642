import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A `byok_` proxy access token. Only its SHA-256 hash is stored. */
@Entity({ name: 'access_tokens' })
export class AccessTokenEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Index('access_tokens_owner')
  @Column({ name: 'owner_sub', type: 'varchar', length: 255 })
  ownerSub: string;

  /**
   * The organisation of the JWT that created it: the token reaches that organisation's keys
   * while its owner's JWTs still carry it (see OrgSightingEntity).
   */
  @Index('access_tokens_org')
  @Column({ name: 'org_id', type: 'varchar', length: 255, nullable: true })
  orgId: string | null;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  @Index('access_tokens_hash', { unique: true })
  @Column({ name: 'token_hash', type: 'varchar', length: 64 })
  tokenHash: string;

  /** Provider scope; null means every provider. */
  @Column({ type: 'text', array: true, nullable: true })
  providers: string[] | null;

  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;
}
