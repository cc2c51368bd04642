import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AppError } from '../common/errors/app-error';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import type { ApiKeyEntity } from '../database/entities';
import { SecretStoreError } from '../secret-store/secret-store.error';
import { SECRET_STORE, type SecretRef, type SecretStore } from '../secret-store/secret-store.port';
import type { CheckedCredential } from './credential-input';
import type { SaveKeyDto } from './dto/key-input.dto';
import { KeyMetadataDto } from './dto/key-metadata.dto';
import { KeyRepository, type Owner } from './key.repository';

/** Where a key's secret lives in the store. */
export const refOf = (k: Pick<ApiKeyEntity, 'ownerType' | 'ownerId' | 'id'>): SecretRef => ({
  ownerType: k.ownerType,
  ownerId: k.ownerId,
  keyId: k.id,
});

const UNIQUE_VIOLATION = '23505';

/** Cleaning up after an unanswered secret write: every 5 s (the store's request timeout), 10 min. */
const ORPHAN_RETRY_MS = 5000;
const ORPHAN_TRIES = 120;

/**
 * Writes a key's secret and its metadata as one: the secret first, pinned by version, then the
 * row; when the row cannot be written the secret version is destroyed again, so no half-saved
 * key survives either failure, and a secret write that got no answer is cleaned up afterwards.
 */
@Injectable()
export class KeyWriter {
  private readonly logger = new Logger(KeyWriter.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly keys: KeyRepository,
    @Inject(SECRET_STORE) private readonly store: SecretStore,
  ) {}

  /**
   * A new key, or a new secret for the owner's key of the same provider and name; `created` says
   * which.
   */
  async save(
    owner: Owner,
    dto: SaveKeyDto,
    credential: CheckedCredential,
    verifiedAt: Date | null,
    retried = false,
  ): Promise<{ created: boolean; key: KeyMetadataDto }> {
    const { secret, hint, params } = credential;
    const existing = await this.keys.findByName(owner, dto.provider, dto.keyName);
    if (!existing) await this.checkCap(owner, dto.provider);
    const id = existing?.id ?? randomUUID();
    const ref: SecretRef = { ...owner, keyId: id };
    let version: number;
    try {
      ({ version } = await this.store.put(ref, secret));
    } catch (e) {
      if (!existing && e instanceof SecretStoreError && e.unanswered) this.destroyOrphan(ref);
      throw e;
    }
    const now = new Date();
    try {
      if (existing) {
        const patch: Partial<ApiKeyEntity> = {
          keyHint: hint,
          params,
          version,
          invalid: false,
          updatedAt: now,
          ...(verifiedAt ? { lastVerifiedAt: verifiedAt } : {}),
        };
        await this.keys.update(id, patch);
        return { created: false, key: KeyMetadataDto.from({ ...existing, ...patch }) };
      }
      const row: ApiKeyEntity = {
        id,
        ...owner,
        provider: dto.provider,
        keyName: dto.keyName,
        keyHint: hint,
        params,
        isActive: true,
        invalid: false,
        priority: 0,
        limits: null,
        version,
        createdAt: now,
        updatedAt: now,
        lastUsedAt: null,
        lastVerifiedAt: verifiedAt,
      };
      await this.keys.insert(row);
      return { created: true, key: KeyMetadataDto.from(row) };
    } catch (e) {
      await this.undoPut(ref, version, !existing);
      // A concurrent save of the same name won the insert: this one becomes an update.
      if (!retried && (e as { code?: string }).code === UNIQUE_VIOLATION)
        return this.save(owner, dto, credential, verifiedAt, true);
      throw e;
    }
  }

  /** A new secret for `key`: its new version, hint and parameters as written to the row. */
  async rotate(
    key: ApiKeyEntity,
    credential: CheckedCredential,
  ): Promise<Pick<ApiKeyEntity, 'keyHint' | 'params' | 'version' | 'invalid' | 'updatedAt'>> {
    const ref = refOf(key);
    const { version } = await this.store.put(ref, credential.secret);
    const patch = {
      keyHint: credential.hint,
      params: credential.params,
      version,
      invalid: false,
      updatedAt: new Date(),
    };
    try {
      await this.keys.update(key.id, patch);
    } catch (e) {
      await this.undoPut(ref, version, false);
      throw e;
    }
    return patch;
  }

  /**
   * At most MAX_KEYS_PER_PROVIDER keys per owner and provider: each one is a candidate the proxy
   * may try, and a store read when it does. Concurrent saves may pass one over; the cap is a
   * guard against abuse, not an accounting limit.
   */
  private async checkCap(owner: Owner, provider: string): Promise<void> {
    const cap = this.config.maxKeysPerProvider;
    if ((await this.keys.countFor(owner, provider)) < cap) return;
    throw new AppError(
      'key_cap_reached',
      `This ${owner.ownerType === 'org' ? 'organisation' : 'account'} already has ${cap} ${provider} keys, the most allowed (MAX_KEYS_PER_PROVIDER): delete one, or update an existing key by saving under its keyName`,
      { details: { cap } },
    );
  }

  /**
   * A new key's secret write that got no answer may still be applied (a store that was frozen
   * reads the request when it thaws), leaving a secret that no key points to. So it is destroyed
   * once the store answers, and once more a request timeout later, after whatever the store was
   * still holding. In the background; given up (logged) after ten minutes.
   */
  private destroyOrphan(ref: SecretRef): void {
    const pause = () => new Promise((r) => setTimeout(r, ORPHAN_RETRY_MS).unref());
    void (async () => {
      let destroyed = 0;
      for (let i = 0; i < ORPHAN_TRIES && destroyed < 2; i++) {
        await pause();
        destroyed += await this.store.destroy(ref).then(
          () => 1,
          () => 0,
        );
      }
      if (destroyed < 2)
        this.logger.error(`Could not make sure no secret is left for unsaved key ${ref.keyId}`);
    })();
  }

  private async undoPut(ref: SecretRef, version: number, wholeSecret: boolean): Promise<void> {
    try {
      if (wholeSecret) await this.store.destroy(ref);
      else await this.store.destroyVersion(ref, version);
    } catch (e) {
      this.logger.error(
        `Could not undo secret write for key ${ref.keyId} v${version}: ${(e as Error).message}`,
      );
    }
  }
}
