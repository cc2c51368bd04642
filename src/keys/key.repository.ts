import type { Position } from '../common/cursor';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { type FindOptionsWhere, Repository } from 'typeorm';
import { ApiKeyEntity } from '../database/entities';
import type { OwnerType } from '../secret-store/secret-store.port';

export interface Owner {
  ownerType: OwnerType;
  ownerId: string;
}

export interface AdminKeyFilter {
  ownerType?: OwnerType;
  ownerId?: string;
  provider?: string;
  after?: Position;
  limit: number;
}

const RESOLUTION_ORDER = { priority: 'ASC', createdAt: 'ASC', id: 'ASC' } as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Key metadata in Postgres. Every read is scoped to an owner, so ids of others are invisible. */
@Injectable()
export class KeyRepository {
  constructor(@InjectRepository(ApiKeyEntity) private readonly repo: Repository<ApiKeyEntity>) {}

  findById(id: string, owner?: Owner): Promise<ApiKeyEntity | null> {
    if (!UUID.test(id)) return Promise.resolve(null);
    return this.repo.findOneBy(owner ? { id, ...owner } : { id });
  }

  findByName(owner: Owner, provider: string, keyName: string): Promise<ApiKeyEntity | null> {
    return this.repo.findOneBy({ ...owner, provider, keyName });
  }

  countFor(owner: Owner, provider: string): Promise<number> {
    return this.repo.countBy({ ...owner, provider });
  }

  /** Every key of an owner, grouped by provider, each group in resolution order. */
  listByOwner(owner: Owner): Promise<ApiKeyEntity[]> {
    return this.repo.find({ where: owner, order: { provider: 'ASC', ...RESOLUTION_ORDER } });
  }

  /** Active keys of one provider in resolution order (priority, then age, then id). */
  listActive(owner: Owner, provider: string): Promise<ApiKeyEntity[]> {
    return this.repo.find({
      where: { ...owner, provider, isActive: true },
      order: RESOLUTION_ORDER,
    });
  }

  async listForAdmin(f: AdminKeyFilter): Promise<ApiKeyEntity[]> {
    const q = this.repo.createQueryBuilder('k');
    const where: FindOptionsWhere<ApiKeyEntity> = {};
    if (f.ownerType) where.ownerType = f.ownerType;
    if (f.ownerId) where.ownerId = f.ownerId;
    if (f.provider) where.provider = f.provider;
    q.where(where);
    if (f.after)
      q.andWhere('(k.created_at, k.id) > (:createdAt, :id)', {
        createdAt: f.after.at,
        id: f.after.id,
      });
    return q.orderBy('k.created_at', 'ASC').addOrderBy('k.id', 'ASC').take(f.limit).getMany();
  }

  insert(row: ApiKeyEntity): Promise<unknown> {
    return this.repo.insert(row);
  }

  async update(id: string, patch: Partial<ApiKeyEntity>): Promise<void> {
    await this.repo.update({ id }, patch);
  }

  async delete(id: string): Promise<void> {
    await this.repo.delete({ id });
  }
}
