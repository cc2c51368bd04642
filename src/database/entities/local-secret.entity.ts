import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One version of a secret in the `local` store: AES-256-GCM ciphertext, never plain text. */
@Entity({ name: 'local_secrets' })
export class LocalSecretEntity {
  @PrimaryColumn({ name: 'key_id', type: 'uuid' })
  keyId: string;

  @PrimaryColumn({ type: 'integer' })
  version: number;

  @Column({ type: 'bytea' })
  ciphertext: Buffer;

  /** 12-byte random GCM nonce, new for every version. */
  @Column({ type: 'bytea' })
  nonce: Buffer;

  @Column({ name: 'auth_tag', type: 'bytea' })
  authTag: Buffer;

  /** Which master key encrypted it (first 16 hex chars of its SHA-256), for rotation of the master key. */
  @Column({ name: 'master_key_id', type: 'varchar', length: 16 })
  masterKeyId: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
