import { Inject, Injectable } from '@nestjs/common';
import { AuditService, auditChanges } from '../audit/audit.service';
import type { Caller } from '../auth/caller';
import { AppError } from '../common/errors/app-error';
import type { ApiKeyEntity } from '../database/entities';
import { toLimits } from '../limits/dto/limits.dto';
import { keyExample } from '../providers/key-params';
import { ProviderRegistryService } from '../providers/provider-registry.service';
import { SECRET_STORE, type SecretStore } from '../secret-store/secret-store.port';
import type { RotateKeyDto, SaveKeyDto, UpdateKeyDto } from './dto/key-input.dto';
import { KeyMetadataDto, type VerifyResultDto } from './dto/key-metadata.dto';
import { CustomBaseUrlPolicy } from '../upstream/custom-base-url';
import { checkCredential, checkParams } from './credential-input';
import { KeyResolver } from './key-resolver';
import { KeyVerifier } from './key-verifier';
import { KeyWriter, refOf } from './key-writer';
import { KeyRepository, type Owner } from './key.repository';
import { ownerOf, type KeyScope } from './owner';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Key management. Operation names follow the original design (saveApiKey, deleteApiKey, …).
 * Saves and rotations go through KeyWriter, so no half-saved key survives a failure.
 */
@Injectable()
export class KeysService {
  constructor(
    private readonly keys: KeyRepository,
    @Inject(SECRET_STORE) private readonly store: SecretStore,
    private readonly registry: ProviderRegistryService,
    private readonly verifier: KeyVerifier,
    private readonly resolver: KeyResolver,
    private readonly audit: AuditService,
    private readonly customBaseUrls: CustomBaseUrlPolicy,
    private readonly writer: KeyWriter,
  ) {}

  async listApiKeys(caller: Caller, scope: KeyScope): Promise<KeyMetadataDto[]> {
    const rows = await this.keys.listByOwner(ownerOf(caller, scope, false));
    return rows.map((k) => KeyMetadataDto.from(k));
  }

  /**
   * GET /api/{scope}/api-keys/:provider, whose URL is also a key's: a key id (a UUID, never a
   * provider id) answers that key, whatever its status; anything else is a provider id.
   */
  async listByIdOrProvider(
    caller: Caller,
    scope: KeyScope,
    idOrProvider: string,
  ): Promise<KeyMetadataDto[]> {
    if (!UUID.test(idOrProvider)) return this.getUserApiKeyByProvider(caller, scope, idOrProvider);
    return [KeyMetadataDto.from(await this.find(caller, scope, idOrProvider, false))];
  }

  /** The active keys for one provider, in the order the proxy tries them. */
  async getUserApiKeyByProvider(
    caller: Caller,
    scope: KeyScope,
    provider: string,
  ): Promise<KeyMetadataDto[]> {
    const record = this.registry.require(provider);
    const rows = await this.getActiveUserApiKeys(ownerOf(caller, scope, false), provider);
    if (!rows.length)
      throw new AppError(
        'not_found',
        `No active ${provider} key: add one with POST /api/${scope}/api-keys ${keyExample(record)}`,
      );
    return rows.map((k) => KeyMetadataDto.from(k));
  }

  /** Active, not-invalid keys of an owner for a provider, in resolution order. */
  async getActiveUserApiKeys(owner: Owner, provider: string): Promise<ApiKeyEntity[]> {
    return (await this.keys.listActive(owner, provider)).filter((k) => !k.invalid);
  }

  async saveApiKey(
    caller: Caller,
    scope: KeyScope,
    dto: SaveKeyDto,
  ): Promise<{ created: boolean; key: KeyMetadataDto }> {
    const owner = ownerOf(caller, scope, true);
    const provider = this.registry.require(dto.provider);
    const credential = await checkCredential(provider, dto, this.customBaseUrls);
    let verifiedAt: Date | null = null;
    if (dto.verify) {
      const status = await this.verifier.check(provider, credential.secret, credential.params);
      if (status === 401 || status === 403)
        throw new AppError(
          'provider_key_rejected',
          `${provider.name} rejected the key ${credential.hint} (HTTP ${status}), so it was not saved: check that you copied the whole key and that it is still active`,
          { status: 422 },
        );
      verifiedAt = new Date();
    }
    const result = await this.writer.save(owner, dto, credential, verifiedAt);
    this.resolver.invalidate(owner);
    const audited = { ...result.key, ownerId: owner.ownerId };
    this.audit.key(caller, result.created ? 'key.create' : 'key.update', audited, {
      keyName: dto.keyName,
      version: result.key.version,
    });
    return result;
  }

  /**
   * Sets the fields sent (none may be null but `limits`, which null clears) and answers the whole
   * key as stored afterwards. An empty patch changes nothing and answers the key as it is.
   */
  async updateApiKey(
    caller: Caller,
    scope: KeyScope,
    id: string,
    dto: UpdateKeyDto,
  ): Promise<KeyMetadataDto> {
    const key = await this.find(caller, scope, id, true);
    // A validated DTO instance holds every declared field, the ones not sent as undefined.
    const sent = Object.fromEntries(
      Object.entries(dto).filter(([, v]) => v !== undefined),
    ) as UpdateKeyDto;
    if (Object.keys(sent).length === 0) return KeyMetadataDto.from(key);
    if (sent.keyName !== undefined && sent.keyName !== key.keyName) {
      const owner = { ownerType: key.ownerType, ownerId: key.ownerId };
      const clash = await this.keys.findByName(owner, key.provider, sent.keyName);
      if (clash)
        throw new AppError(
          'key_name_taken',
          `keyName "${sent.keyName}" is already used by another ${key.provider} key: choose another name`,
          { details: { fields: ['keyName'] } },
        );
    }
    const { limits, params, ...rest } = sent;
    const patch: Partial<ApiKeyEntity> = { ...rest, updatedAt: new Date() };
    if (params !== undefined)
      patch.params = await checkParams(
        this.registry.require(key.provider),
        params,
        this.customBaseUrls,
      );
    if (limits !== undefined) patch.limits = limits && toLimits(limits);
    await this.keys.update(id, patch);
    this.resolver.invalidate(key);
    const changes = auditChanges(sent);
    const toggle = Object.keys(changes).join() === 'isActive';
    this.audit.key(caller, toggle ? 'key.toggle' : 'key.update', key, changes);
    const stored = await this.keys.findById(id);
    return KeyMetadataDto.from(stored ?? { ...key, ...patch });
  }

  /** The original design's toggle: flips isActive. */
  toggleApiKeyStatus(caller: Caller, scope: KeyScope, id: string, isActive: boolean) {
    return this.updateApiKey(caller, scope, id, { isActive });
  }

  async rotateApiKey(
    caller: Caller,
    scope: KeyScope,
    id: string,
    input: RotateKeyDto,
  ): Promise<KeyMetadataDto> {
    const key = await this.find(caller, scope, id, true);
    const provider = this.registry.require(key.provider);
    const credential = await checkCredential(provider, input, this.customBaseUrls, key.params);
    const patch = await this.writer.rotate(key, credential);
    this.resolver.invalidate(key);
    this.audit.key(caller, 'key.rotate', { ...key, ...patch }, { version: patch.version });
    return KeyMetadataDto.from({ ...key, ...patch });
  }

  async verifyApiKey(caller: Caller, scope: KeyScope, id: string): Promise<VerifyResultDto> {
    // A verify can mark the key invalid: for organisation keys that is the org admins' call.
    const key = await this.find(caller, scope, id, true);
    const provider = this.registry.require(key.provider);
    const secret = await this.store.get(refOf(key), key.version);
    const status = await this.verifier.check(provider, secret, key.params);
    const rejected = status === 401 || status === 403;
    if (!rejected && (status < 200 || status >= 300))
      throw new AppError(
        'upstream_unavailable',
        `${provider.name} answered HTTP ${status} to the check, which says nothing about the key; its status is unchanged: try again later`,
      );
    const lastVerifiedAt = new Date();
    await this.keys.update(id, { invalid: rejected, lastVerifiedAt });
    this.resolver.invalidate(key);
    this.audit.key(caller, 'key.verify', key, { valid: !rejected, upstreamStatus: status });
    return {
      valid: !rejected,
      upstreamStatus: status,
      lastVerifiedAt: lastVerifiedAt.toISOString(),
    };
  }

  /** Destroys the secret (every version) first, then the metadata: a retry finishes a half delete. */
  async deleteApiKey(caller: Caller, scope: KeyScope, id: string): Promise<void> {
    const key = await this.find(caller, scope, id, true);
    await this.destroy(key);
    this.audit.key(caller, 'key.delete', key);
  }

  /** Destroys the secret (every version), then the metadata, and drops cached copies. */
  async destroy(key: ApiKeyEntity): Promise<void> {
    await this.store.destroy(refOf(key));
    await this.keys.delete(key.id);
    this.resolver.invalidate(key);
  }

  private async find(caller: Caller, scope: KeyScope, id: string, write: boolean) {
    const key = await this.keys.findById(id, ownerOf(caller, scope, write));
    if (!key) throw new AppError('not_found', `No ${scope} key with id ${id}`);
    return key;
  }
}
