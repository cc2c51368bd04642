import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import type { AuditEventEntity } from '../../database/entities';
import { NoControlChars } from '../../common/dto/text.decorators';
import { IsoDateOrTime } from '../../common/iso-date';
import { AUDIT_ACTIONS, type AuditAction } from '../audit.types';

export class AuditQueryDto {
  @ApiPropertyOptional({ enum: AUDIT_ACTIONS })
  @IsOptional()
  @IsIn(AUDIT_ACTIONS, { message: `action must be one of ${AUDIT_ACTIONS.join(', ')}` })
  action?: AuditAction;

  @ApiPropertyOptional({ description: 'The acting user (sub).' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  @NoControlChars()
  actorSub?: string;

  @ApiPropertyOptional({ description: 'A key or token id.' })
  @IsOptional()
  @IsString()
  @MaxLength(255)
  @NoControlChars()
  targetId?: string;

  @ApiPropertyOptional({
    example: '2026-11-01',
    description: 'From (inclusive); a date or date-time.',
  })
  @IsoDateOrTime('from')
  from?: string;

  @ApiPropertyOptional({
    example: '2026-11-30',
    description: 'To: a date includes that whole day (UTC); a date-time is exclusive.',
  })
  @IsoDateOrTime('to')
  to?: string;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page.' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? Number(value) : value))
  @IsInt({ message: 'limit must be a whole number from 1 to 200' })
  @Min(1, { message: 'limit must be a whole number from 1 to 200' })
  @Max(200, { message: 'limit must be a whole number from 1 to 200' })
  limit?: number;
}

export class AuditEventDto {
  @ApiProperty({ example: '1042' }) id: string;
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({ type: String, nullable: true, description: 'Null for a failed authentication.' })
  actorSub: string | null;
  @ApiProperty({ enum: ['jwt', 'token', 'anonymous'] }) actorKind: string;
  @ApiProperty({ enum: AUDIT_ACTIONS }) action: string;
  @ApiProperty({ type: String, nullable: true, enum: ['key', 'token', 'user'] })
  targetType: string | null;
  @ApiProperty({ type: String, nullable: true }) targetId: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    example: '…a1b2',
    description: 'The last four characters of the key, never more.',
  })
  keyHint: string | null;
  @ApiProperty({ type: String, nullable: true }) provider: string | null;
  @ApiProperty({ type: String, nullable: true, enum: ['user', 'org'] }) ownerType: string | null;
  @ApiProperty({ type: String, nullable: true }) ownerId: string | null;
  @ApiProperty({ type: String, nullable: true, example: '203.0.113.7' }) ip: string | null;
  @ApiProperty({ type: String, nullable: true }) requestId: string | null;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    nullable: true,
    description:
      "Action specifics (changed fields, old and new limits, verify result, failure reason); never a secret. `auth.failed` rows aggregate one address and reason over a minute: `count`, `firstAt`, `lastAt`, and the first request's `credential` kind and `path`.",
  })
  detail: Record<string, unknown> | null;

  static from(e: AuditEventEntity): AuditEventDto {
    return { ...e, id: String(e.id), at: e.at.toISOString() };
  }
}

export class AuditListDto {
  @ApiProperty({ type: [AuditEventDto] }) data: AuditEventDto[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as `cursor` for older rows.' })
  nextCursor: string | null;
}
