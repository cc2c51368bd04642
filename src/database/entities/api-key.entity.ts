import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { Limits } from '../../limits/limits';
import type { OwnerType } from '../../secret-store/secret-store.port';

/** Metadata of one stored provider key. The secret itself lives in the secret store. */
@Entity({ name: 'api_keys' })
@Index('api_keys_owner_provider_name', ['ownerType', 'ownerId', 'provider', 'keyName'], {
  unique: true,
})
export class ApiKeyEntity {
  @PrimaryColumn({ type: 'uuid' })
  id: string;

  @Column({ name: 'owner_type', type: 'varchar', length: 8 })
  ownerType: OwnerType;

  @Column({ name: 'owner_id', type: 'varchar', length: 255 })
  ownerId: string;

  @Column({ type: 'varchar', length: 64 })
  provider: string;

  @Column({ name: 'key_name', type: 'varchar', length: 100 })
  keyName: string;

  /** "…abcd": the last four characters, never more (`AKIA…WXYZ` for an AWS access key id). */
  @Column({ name: 'key_hint', type: 'varchar', length: 16 })
  keyHint: string;

  /** Non-secret parameters of the credential (region, resource, project, base URL, …). */
  @Column({ type: 'jsonb', nullable: true })
  params: Record<string, string> | null;

  @Column({ name: 'is_active', type: 'boolean', default: true })
  isActive: boolean;

  /** Set when the provider rejected the key (401/403); cleared by a good verify or a rotate. */
  @Column({ type: 'boolean', default: false })
  invalid: boolean;

  @Column({ type: 'integer', default: 0 })
  priority: number;

  /** The key's own limits (null: none); a key over one is skipped in resolution. */
  @Column({ type: 'jsonb', nullable: true })
  limits: Limits | null;

  /** The secret store version this row points at. */
  @Column({ type: 'integer', default: 1 })
  version: number;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;

  @Column({ name: 'last_verified_at', type: 'timestamptz', nullable: true })
  lastVerifiedAt: Date | null;
}
