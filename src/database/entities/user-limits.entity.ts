import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { Limits } from '../../limits/limits';

/** Limits an administrator set for one user (`PUT /api/admin/users/:sub/limits`). */
@Entity({ name: 'user_limits' })
export class UserLimitsEntity {
  @PrimaryColumn({ type: 'varchar', length: 255 })
  sub: string;

  @Column({ type: 'jsonb' })
  limits: Limits;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
