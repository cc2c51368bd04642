import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsNotEmpty, IsOptional, IsString } from 'class-validator';
import { MaxChars, NO_CONTROLS_PATTERN, NoControlChars } from '../../common/dto/text.decorators';
import { DATE_OR_TIME_PATTERN, IsoDateOrTime } from '../../common/iso-date';

export const USAGE_GROUPS = ['key', 'provider', 'model', 'day', 'day-provider', 'day-key'] as const;
export type UsageGroupBy = (typeof USAGE_GROUPS)[number];

export class UsageQueryDto {
  @ApiPropertyOptional({
    example: '2026-11-01',
    description:
      'Start (inclusive): an ISO 8601 date (UTC midnight) or date-time with a zone. Default: 30 days before `to`.',
    pattern: DATE_OR_TIME_PATTERN,
  })
  @IsoDateOrTime('from')
  from?: string;

  @ApiPropertyOptional({
    example: '2026-11-30',
    description:
      'End: a date includes that whole day (UTC); a date-time is exclusive. Default: now.',
    pattern: DATE_OR_TIME_PATTERN,
  })
  @IsoDateOrTime('to')
  to?: string;

  @ApiPropertyOptional({
    enum: USAGE_GROUPS,
    default: 'day',
    description:
      '`day-provider` and `day-key`: one row per day and provider (or key), for charts; the group is `YYYY-MM-DD/<provider or key>`.',
  })
  @IsOptional()
  @IsIn(USAGE_GROUPS, { message: `groupBy must be one of ${USAGE_GROUPS.join(', ')}` })
  groupBy?: UsageGroupBy;

  @ApiPropertyOptional({
    enum: ['user', 'org'],
    default: 'user',
    description: "`org`: your organisation's keys (organisation admins only).",
  })
  @IsOptional()
  @IsIn(['user', 'org'], { message: 'scope must be user or org' })
  scope?: 'user' | 'org';

  @ApiPropertyOptional({
    enum: ['user', 'org', 'env'],
    description: "Administrators only: whose usage. `env` is the operator's keys.",
  })
  @IsOptional()
  @IsIn(['user', 'org', 'env'], { message: 'ownerType must be user, org or env' })
  ownerType?: 'user' | 'org' | 'env';

  @ApiPropertyOptional({
    description: 'Administrators only: the user sub or organisation id.',
    minLength: 1,
    maxLength: 255,
    pattern: NO_CONTROLS_PATTERN,
  })
  @IsOptional()
  @IsString({ message: 'ownerId must be a string' })
  @IsNotEmpty({ message: 'ownerId must not be empty' })
  @MaxChars(255, { message: 'ownerId must be at most 255 characters' })
  @NoControlChars()
  ownerId?: string;
}
