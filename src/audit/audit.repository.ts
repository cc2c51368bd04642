import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { AuditEventEntity } from '../database/entities';

export interface AuditFilter {
  action?: string;
  actorSub?: string;
  targetId?: string;
  from?: Date;
  to?: Date;
  /** Rows strictly older than this (at, id): the last row of the previous page. */
  before?: { at: Date; id: string };
  limit: number;
}

/** The audit_events table: insert and read, nothing else (a trigger refuses the rest). */
@Injectable()
export class AuditRepository {
  constructor(
    @InjectRepository(AuditEventEntity) private readonly repo: Repository<AuditEventEntity>,
  ) {}

  async insert(rows: Omit<AuditEventEntity, 'id'>[]): Promise<void> {
    // A batch may be written again after a timeout: rows already there are skipped.
    await this.repo.createQueryBuilder().insert().values(rows).orIgnore().execute();
  }

  /** Newest first, keyset-paginated by (at, id) so pages stay stable while rows are added. */
  list(f: AuditFilter): Promise<AuditEventEntity[]> {
    const q = this.repo.createQueryBuilder('a');
    if (f.action) q.andWhere('a.action = :action', { action: f.action });
    if (f.actorSub) q.andWhere('a.actor_sub = :actorSub', { actorSub: f.actorSub });
    if (f.targetId) q.andWhere('a.target_id = :targetId', { targetId: f.targetId });
    if (f.from) q.andWhere('a.at >= :from', { from: f.from });
    if (f.to) q.andWhere('a.at < :to', { to: f.to });
    if (f.before)
      q.andWhere('(a.at, a.id) < (:beforeAt, :beforeId)', {
        beforeAt: f.before.at,
        beforeId: f.before.id,
      });
    return q.orderBy('a.at', 'DESC').addOrderBy('a.id', 'DESC').take(f.limit).getMany();
  }
}
