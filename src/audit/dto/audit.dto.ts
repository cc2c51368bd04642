import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { CURSOR_PATTERN } from '../../common/cursor';
import { queryInteger } from '../../common/dto/query.transforms';
import type { AuditEventEntity } from '../../database/entities';
import { MaxChars, NO_CONTROLS_PATTERN, NoControlChars } from '../../common/dto/text.decorators';
import { DATE_OR_TIME_PATTERN, IsoDateOrTime } from '../../common/iso-date';
import { AUDIT_ACTIONS, type AuditAction } from '../audit.types';

export class AuditQueryDto {
  @ApiPropertyOptional({ enum: AUDIT_ACTIONS })
  @IsOptional()
  @IsIn(AUDIT_ACTIONS, { message: `action must be one of ${AUDIT_ACTIONS.join(', ')}` })
  action?: AuditAction;

  @ApiPropertyOptional({
    description: 'The acting user (sub).',
    maxLength: 255,
    pattern: NO_CONTROLS_PATTERN,
  })
  @IsOptional()
  @IsString()
  @MaxChars(255)
  @NoControlChars()
  actorSub?: string;

  @ApiPropertyOptional({
    description: 'A key or token id.',
    maxLength: 255,
    pattern: NO_CONTROLS_PATTERN,
  })
  @IsOptional()
  @IsString()
  @MaxChars(255)
  @NoControlChars()
  targetId?: string;

  @ApiPropertyOptional({
    example: '2026-11-01',
    description: 'From (inclusive); a date or date-time.',
    pattern: DATE_OR_TIME_PATTERN,
  })
  @IsoDateOrTime('from')
  from?: string;

  @ApiPropertyOptional({
    example: '2026-11-30',
    description: 'To: a date includes that whole day (UTC); a date-time is exclusive.',
    pattern: DATE_OR_TIME_PATTERN,
  })
  @IsoDateOrTime('to')
  to?: string;

  @ApiPropertyOptional({
    description: 'nextCursor of the previous page.',
    pattern: CURSOR_PATTERN.bigint,
  })
  @IsOptional()
  @IsString()
  cursor?: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Transform(queryInteger)
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
