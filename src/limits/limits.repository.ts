import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { UserLimitsEntity } from '../database/entities';
import type { Limits } from './limits';

/** Postgres access for per-user limits; the only place that touches `user_limits`. */
@Injectable()
export class LimitsRepository {
  constructor(
    @InjectRepository(UserLimitsEntity) private readonly repo: Repository<UserLimitsEntity>,
  ) {}

  async findBySub(sub: string): Promise<Partial<Limits> | undefined> {
    return (await this.repo.findOneBy({ sub }))?.limits;
  }

  async save(sub: string, limits: Limits): Promise<void> {
    await this.repo.save({ sub, limits, updatedAt: new Date() });
  }
}
