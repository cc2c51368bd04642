import { ApiProperty } from '@nestjs/swagger';
import type { ApiKeyEntity } from '../../database/entities';
import { LimitsDto } from '../../limits/dto/limits.dto';
import type { Limits } from '../../limits/limits';

export type KeyStatus = 'active' | 'inactive' | 'invalid';

/** The only shape a stored key ever has outside the secret store. */
export class KeyMetadataDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ example: 'cerebras' }) provider: string;
  @ApiProperty({ example: 'personal' }) keyName: string;
  @ApiProperty() isActive: boolean;
  @ApiProperty({ description: 'Lower first; ties by createdAt then id.', example: 0 })
  priority: number;
  @ApiProperty({
    example: '…a1b2',
    description:
      'The last four characters, never more; for an AWS key the access key id as `AKIA…WXYZ`.',
  })
  keyHint: string;
  @ApiProperty({ enum: ['active', 'inactive', 'invalid'] }) status: KeyStatus;
  @ApiProperty({ enum: ['user', 'org'] }) ownerType: 'user' | 'org';
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) lastUsedAt: string | null;
  @ApiProperty({ format: 'date-time', nullable: true, type: String })
  lastVerifiedAt: string | null;
  @ApiProperty({ description: 'Secret version; grows on update and rotate.', example: 1 })
  version: number;
  @ApiProperty({ type: LimitsDto, nullable: true, description: "The key's own limits" })
  limits: Limits | null;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    nullable: true,
    description:
      'Non-secret parameters of the credential (region, resource, project, location, baseUrl)',
    example: { region: 'us-east-1' },
  })
  params: Record<string, string> | null;

  static from(k: ApiKeyEntity): KeyMetadataDto {
    return {
      id: k.id,
      provider: k.provider,
      keyName: k.keyName,
      isActive: k.isActive,
      priority: k.priority,
      keyHint: k.keyHint,
      status: !k.isActive ? 'inactive' : k.invalid ? 'invalid' : 'active',
      ownerType: k.ownerType,
      createdAt: k.createdAt.toISOString(),
      updatedAt: k.updatedAt.toISOString(),
      lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
      lastVerifiedAt: k.lastVerifiedAt?.toISOString() ?? null,
      version: k.version,
      limits: k.limits ?? null,
      params: k.params ?? null,
    };
  }
}

export class KeyListDto {
  @ApiProperty({ type: [KeyMetadataDto] }) data: KeyMetadataDto[];
}

/** A key as administrators list it: whose it is, too (never the secret). */
export class AdminKeyMetadataDto extends KeyMetadataDto {
  @ApiProperty({
    description: 'The owner: a user (JWT `sub`) or an organisation id, as `ownerType` says.',
    example: 'alice',
  })
  ownerId: string;

  static override from(k: ApiKeyEntity): AdminKeyMetadataDto {
    return { ...KeyMetadataDto.from(k), ownerId: k.ownerId };
  }
}

export class AdminKeyListDto {
  @ApiProperty({ type: [AdminKeyMetadataDto] }) data: AdminKeyMetadataDto[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as `cursor` for the next page.' })
  nextCursor: string | null;
}

export class VerifyResultDto {
  @ApiProperty() valid: boolean;
  @ApiProperty({ example: 200, description: 'What the provider answered.' })
  upstreamStatus: number;
  @ApiProperty({ format: 'date-time' }) lastVerifiedAt: string;
}
