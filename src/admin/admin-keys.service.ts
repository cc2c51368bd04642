import type { Caller } from '../auth/caller';
import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { decodeCursor, toPage } from '../common/cursor';
import { AppError } from '../common/errors/app-error';
import type { AdminKeyQueryDto } from '../keys/dto/key-input.dto';
import { type AdminKeyListDto, AdminKeyMetadataDto } from '../keys/dto/key-metadata.dto';
import { KeyRepository } from '../keys/key.repository';
import { KeysService } from '../keys/keys.service';

/** Keys across owners, for administrators: list them, and revoke any. */
@Injectable()
export class AdminKeysService {
  constructor(
    private readonly keys: KeyRepository,
    private readonly owners: KeysService,
    private readonly audit: AuditService,
  ) {}

  /** Metadata across owners, keyset-paginated by (createdAt, id). */
  async list(q: AdminKeyQueryDto): Promise<AdminKeyListDto> {
    const limit = q.limit ?? 50;
    const rows = await this.keys.listForAdmin({
      ...q,
      after: decodeCursor(q.cursor, 'uuid'),
      limit: limit + 1,
    });
    return toPage(
      rows,
      limit,
      (k) => AdminKeyMetadataDto.from(k),
      (k) => ({ at: k.createdAt, id: k.id }),
    );
  }

  /** Destroys any owner's key as the owner's delete does, audited as an admin action. */
  async delete(caller: Caller, id: string): Promise<void> {
    const key = await this.keys.findById(id);
    if (!key) throw new AppError('not_found', `No key with id ${id}`);
    await this.owners.destroy(key);
    this.audit.key(caller, 'admin.key.delete', key);
  }
}
