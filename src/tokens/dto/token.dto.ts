import { ApiProperty } from '@nestjs/swagger';

/** An access token as listed: everything but the token itself, which is never stored. */
export class TokenDto {
  @ApiProperty({ format: 'uuid' }) id: string;

  @ApiProperty({ example: 'laptop CLI' }) name: string;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'null: never expires.',
  })
  expiresAt: string | null;

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
