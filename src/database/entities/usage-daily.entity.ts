import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * Usage compacted per UTC day, once raw usage_events rows pass USAGE_RETENTION_DAYS. Same
 * dimensions as the raw rows minus per-request detail. A day may hold more than one row per
 * dimension set (rows that arrive after their day was compacted), so readers always sum.
 */
@Entity({ name: 'usage_daily' })
@Index('usage_daily_owner_day', ['ownerType', 'ownerId', 'day'])
@Index('usage_daily_caller_day', ['callerSub', 'day'])
export class UsageDailyEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id: string;

  /** 'YYYY-MM-DD' (UTC). */
  @Column({ type: 'date' })
  day: string;

  @Column({ name: 'caller_sub', type: 'varchar', length: 255 })
  callerSub: string;

  @Column({ name: 'owner_type', type: 'varchar', length: 8 })
  ownerType: string;

  @Column({ name: 'owner_id', type: 'varchar', length: 255 })
  ownerId: string;

  @Column({ name: 'key_id', type: 'uuid', nullable: true })
  keyId: string | null;

  @Column({ type: 'varchar', length: 64 })
  provider: string;

  @Column({ type: 'varchar', length: 200, nullable: true })
  model: string | null;

  // bigint: a busy key's daily token sum can pass 2^31. pg returns bigint as a string.
  @Column({ type: 'bigint' })
  requests: string;

  @Column({ type: 'bigint' })
  errors: string;

  @Column({ name: 'prompt_tokens', type: 'bigint' })
  promptTokens: string;

  @Column({ name: 'completion_tokens', type: 'bigint' })
  completionTokens: string;
}
