import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { AccessTokenEntity } from '../database/entities/access-token.entity';

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

  /** Owner's tokens, newest first; `id` breaks ties so the order is stable. */
  listByOwner(ownerSub: string): Promise<AccessTokenEntity[]> {
    return this.repo.find({ where: { ownerSub }, order: { createdAt: 'DESC', id: 'DESC' } });
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
