import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** One proxied request, written off the hot path in batches. Never holds a key. */
@Entity({ name: 'usage_events' })
@Index('usage_events_owner_time', ['ownerType', 'ownerId', 'createdAt'])
// The usage API also reads a caller's own use of operator (env) keys by caller.
@Index('usage_events_caller_time', ['callerSub', 'createdAt'])
export class UsageEventEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /** The caller (user sub). */
  @Column({ name: 'caller_sub', type: 'varchar', length: 255 })
  callerSub: string;

  /** The owner of the key used: user, org, or env for the operator's key. */
  @Column({ name: 'owner_type', type: 'varchar', length: 8 })
  ownerType: string;

  @Column({ name: 'owner_id', type: 'varchar', length: 255 })
  ownerId: string;

  @Index('usage_events_key')
  @Column({ name: 'key_id', type: 'uuid', nullable: true })
  keyId: string | null;

  @Column({ type: 'varchar', length: 64 })
  provider: string;

  @Column({ type: 'varchar', length: 200, nullable: true })
  model: string | null;

  @Column({ type: 'varchar', length: 64 })
  operation: string;

  @Column({ type: 'integer' })
  status: number;

  @Column({ name: 'error_type', type: 'varchar', length: 64, nullable: true })
  errorType: string | null;

  @Column({ name: 'latency_ms', type: 'integer' })
  latencyMs: number;

  @Column({ name: 'prompt_tokens', type: 'integer', nullable: true })
  promptTokens: number | null;

  @Column({ name: 'completion_tokens', type: 'integer', nullable: true })
  completionTokens: number | null;

  @Column({ name: 'request_id', type: 'varchar', length: 128 })
  requestId: string;

  /**
   * Made when the row is, so a batch written again after an answer that never came (a timeout:
   * the database may have committed it) is not counted twice: inserts skip a known event_id.
   */
  @Index('usage_events_event_id', { unique: true })
  @Column({ name: 'event_id', type: 'uuid' })
  eventId: string;
}
