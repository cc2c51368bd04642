import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { CURSOR_PATTERN } from '../../common/cursor';
import { queryInteger } from '../../common/dto/query.transforms';
import { MaxChars, NO_CONTROLS_PATTERN, NoControlChars } from '../../common/dto/text.decorators';

/** An access token as listed: everything but the token itself, which is never stored. */
export class TokenDto {
  @ApiProperty({ format: 'uuid' }) id: string;

  @ApiProperty({ example: 'laptop CLI' }) name: string;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description:
      'When it stops working: at most TOKEN_MAX_TTL_DAYS after creation (null only for tokens made before that cap; they end at the cap all the same).',
  })
  expiresAt: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: 'org_2abc',
    description:
      "The organisation it was made in. It reaches that organisation's keys only while its owner's latest JWT still carries the organisation (seen within TOKEN_ORG_SEEN_DAYS).",
  })
  orgId: string | null;

  @ApiProperty({
    type: [String],
    nullable: true,
    example: ['cerebras'],
    description: 'Provider scope; null: every provider.',
  })
  providers: string[] | null;

  @ApiProperty({ format: 'date-time' }) createdAt: string;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'Roughly when it was last used (updated at most once per cache period).',
  })
  lastUsedAt: string | null;
}

export class CreatedTokenDto extends TokenDto {
  @ApiProperty({
    description:
      'The access token, shown this once: only its hash is stored. Send it as `Authorization: Bearer <token>` or `x-api-key`.',
    example: 'byok_3q2-7wXn4tL0aZ9cV1bN6mK8pQ5rS2uT4vW7xY0zA1B',
  })
  token: string;
}

export class TokenListDto {
  @ApiProperty({ type: [TokenDto], description: 'Newest first.' }) data: TokenDto[];
}

/** A token as administrators see it: whose it is, too. */
export class AdminTokenDto extends TokenDto {
  @ApiProperty({ example: 'user_2abc' }) ownerSub: string;
}

export class AdminTokenListDto {
  @ApiProperty({ type: [AdminTokenDto], description: 'Newest first.' }) data: AdminTokenDto[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as `cursor` for the next page.' })
  nextCursor: string | null;
}

export class TokenQueryDto {
  @ApiPropertyOptional({
    description: "Only this user's tokens.",
    maxLength: 255,
    pattern: NO_CONTROLS_PATTERN,
  })
  @IsOptional()
  @IsString()
  @MaxChars(255)
  @NoControlChars()
  sub?: string;

  @ApiPropertyOptional({
    description: 'nextCursor of the previous page.',
    pattern: CURSOR_PATTERN.uuid,
  })
  @IsOptional()
  @IsString()
  cursor?: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Transform(queryInteger)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;
}
