import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { FindOptionsWhere, Repository } from 'typeorm';
import type { Position } from '../common/cursor';
import { AccessTokenEntity } from '../database/entities/access-token.entity';

export interface TokenFilter {
  ownerSub?: string;
  orgId?: string;
  /** Keyset position: rows after it in newest-first order. */
  after?: Position;
  limit: number;
}

/** Postgres access for access tokens; the only place that touches the `access_tokens` table. */
@Injectable()
export class TokenRepository {
  constructor(
    @InjectRepository(AccessTokenEntity) private readonly repo: Repository<AccessTokenEntity>,
  ) {}

  async insert(token: AccessTokenEntity): Promise<void> {
    await this.repo.insert(token);
  }

  findByHash(tokenHash: string): Promise<AccessTokenEntity | null> {
    return this.repo.findOneBy({ tokenHash });
  }

  findById(id: string): Promise<AccessTokenEntity | null> {
    return this.repo.findOneBy({ id });
  }

  /** Owner's tokens, newest first; `id` breaks ties so the order is stable. */
  listByOwner(ownerSub: string): Promise<AccessTokenEntity[]> {
    return this.repo.find({ where: { ownerSub }, order: { createdAt: 'DESC', id: 'DESC' } });
  }

  /** Any owner's or organisation's tokens, newest first, keyset-paginated. */
  list(f: TokenFilter): Promise<AccessTokenEntity[]> {
    const where: FindOptionsWhere<AccessTokenEntity> = {};
    if (f.ownerSub !== undefined) where.ownerSub = f.ownerSub;
    if (f.orgId !== undefined) where.orgId = f.orgId;
    const q = this.repo.createQueryBuilder('t').where(where);
    if (f.after)
      q.andWhere('(t.created_at, t.id) < (:at, :id)', { at: f.after.at, id: f.after.id });
    return q.orderBy('t.created_at', 'DESC').addOrderBy('t.id', 'DESC').take(f.limit).getMany();
  }

  findOwned(id: string, ownerSub: string): Promise<AccessTokenEntity | null> {
    return this.repo.findOneBy({ id, ownerSub });
  }

  async delete(id: string): Promise<void> {
    await this.repo.delete({ id });
  }

  async touch(id: string, at: Date): Promise<void> {
    await this.repo.update({ id }, { lastUsedAt: at });
  }
}
