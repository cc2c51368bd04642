import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { LimitsDto } from '../../limits/dto/limits.dto';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { NoControlChars } from '../../common/dto/text.decorators';

const trim = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' ? value.trim() : value;

// With stopAtFirstError, class-validator checks a property's decorators bottom-up: the most
// basic check sits lowest so the first message is the one that says what to fix.

/**
 * Visible ASCII (`!` to `~`) except `"` and `\`: what every provider's keys look like. Those two
 * are left out because a provider echoing the key in JSON would escape them (`\"`, `\\`), a
 * spelling the scrubber would not recognise as the key.
 */
const KEY_SHAPE = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
const KEY_MESSAGE =
  'apiKey must be the key as the provider shows it: visible ASCII characters (! to ~) except " and \\, no spaces';

/** The raw key field of save and rotate: write-only, checked for shape and size. */
function ApiKeyField(): PropertyDecorator {
  // applyDecorators registers in list order, which is the order class-validator checks in.
  return applyDecorators(
    Transform(trim),
    IsString(),
    IsNotEmpty({ message: 'apiKey must not be empty' }),
    MaxLength(4096, { message: 'apiKey must be at most 4096 characters' }),
    Matches(KEY_SHAPE, { message: KEY_MESSAGE }),
    ApiProperty({ example: 'csk-…', writeOnly: true, maxLength: 4096 }),
  );
}

export class SaveKeyDto {
  @ApiProperty({
    example: 'cerebras',
    description: 'A provider id from GET /api/providers.',
    maxLength: 64,
  })
  @Matches(/^[a-z0-9][a-z0-9_-]*$/, { message: 'provider must be a lower-case provider id' })
  @MaxLength(64)
  @IsString()
  provider: string;

  @ApiProperty({ example: 'personal', maxLength: 100 })
  @NoControlChars()
  @MaxLength(100)
  @IsNotEmpty({ message: 'keyName must not be empty' })
  @IsString()
  @Transform(trim)
  keyName: string;

  @ApiKeyField()
  apiKey: string;

  @ApiPropertyOptional({
    description: 'Check the key with the provider first; a rejected key is not saved.',
  })
  @IsOptional()
  @IsBoolean()
  verify?: boolean;
}

export class UpdateKeyDto {
  @ApiPropertyOptional() @IsOptional() @IsBoolean() isActive?: boolean;

  @ApiPropertyOptional({ maxLength: 100 })
  @NoControlChars()
  @MaxLength(100)
  @IsNotEmpty({ message: 'keyName must not be empty' })
  @IsString()
  @Transform(trim)
  @IsOptional()
  keyName?: string;

  @ApiPropertyOptional({ minimum: -1000, maximum: 1000, description: 'Lower is tried first.' })
  @Max(1000)
  @Min(-1000)
  @IsInt()
  @IsOptional()
  priority?: number;

  @ApiPropertyOptional({
    type: LimitsDto,
    nullable: true,
    description: "The key's own limits; a key over one is skipped. null removes them.",
  })
  @ValidateNested()
  @Type(() => LimitsDto)
  @ValidateIf((_: object, v: unknown) => v !== null)
  @IsOptional()
  limits?: LimitsDto | null;
}

export class RotateKeyDto {
  @ApiKeyField()
  apiKey: string;
}

export class AdminKeyQueryDto {
  @ApiPropertyOptional({ enum: ['user', 'org'] })
  @IsOptional()
  @IsIn(['user', 'org'])
  ownerType?: 'user' | 'org';

  @ApiPropertyOptional({ maxLength: 255 })
  @NoControlChars()
  @MaxLength(255)
  @IsString()
  @IsOptional()
  ownerId?: string;

  @ApiPropertyOptional({ maxLength: 64 })
  @NoControlChars()
  @MaxLength(64)
  @IsString()
  @IsOptional()
  provider?: string;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page.', maxLength: 200 })
  @MaxLength(200)
  @IsString()
  @IsOptional()
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? Number(value) : value))
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;
}
