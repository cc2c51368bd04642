import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { OrgSightingEntity } from '../database/entities';

/** Postgres access for `org_sightings`: the organisation each user's JWTs last carried. */
@Injectable()
export class OrgSightingRepository {
  constructor(
    @InjectRepository(OrgSightingEntity) private readonly repo: Repository<OrgSightingEntity>,
  ) {}

  findBySub(sub: string): Promise<OrgSightingEntity | null> {
    return this.repo.findOneBy({ sub });
  }

  async save(sub: string, orgId: string | null, seenAt: Date): Promise<void> {
    await this.repo.upsert({ sub, orgId, seenAt }, ['sub']);
  }
}
