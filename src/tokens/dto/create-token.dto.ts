import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  IsArray,
  IsNotEmpty,
  IsString,
  Matches,
  ValidateBy,
  ValidateIf,
  type ValidationOptions,
} from 'class-validator';
import {
  MaxChars,
  NAME_PATTERN,
  NoControlChars,
  trimWithin,
} from '../../common/dto/text.decorators';
import { DATE_TIME_PATTERN } from '../../common/iso-date';
import { PROVIDER_ID_FORMAT } from '../../common/dto/api-params';

/** Optional, but null is checked (and refused) rather than skipped as IsOptional would. */
const IfPresent = (): PropertyDecorator => ValidateIf((_: object, v: unknown) => v !== undefined);

/** Rejects a date that is not after now: a token born expired is always a client mistake. */
function IsFutureDate(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isFutureDate',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && Date.parse(value) > Date.now(),
        defaultMessage: () => '$property must be a date-time in the future',
      },
    },
    options,
  );
}

export class CreateTokenDto {
  @ApiProperty({
    description: 'A label to recognise the token by in the list, e.g. where it is used; trimmed.',
    example: 'laptop CLI',
    minLength: 1,
    maxLength: 100,
    pattern: NAME_PATTERN,
  })
  @Transform(trimWithin(100))
  @IsString()
  @IsNotEmpty({ message: 'name must not be empty' })
  @MaxChars(100)
  @NoControlChars()
  name: string;

  @ApiPropertyOptional({
    description:
      'When the token stops working: an RFC 3339 date-time in the future, at most TOKEN_MAX_TTL_DAYS (90 by default) from now. Omit for the longest allowed.',
    format: 'date-time',
    pattern: DATE_TIME_PATTERN,
  })
  @IfPresent()
  @Matches(new RegExp(DATE_TIME_PATTERN), { message: 'expiresAt must be an ISO 8601 date-time' })
  @IsFutureDate()
  expiresAt?: string;

  @ApiPropertyOptional({
    description:
      'Provider ids the token may use through the proxy (not null). Omit for every provider.',
    type: [String],
    format: PROVIDER_ID_FORMAT,
    minItems: 1,
    maxItems: 100,
    example: ['cerebras', 'openai'],
  })
  @IfPresent()
  @IsArray()
  @ArrayNotEmpty({ message: 'providers must list at least one provider id, or be omitted' })
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @MaxChars(64, { each: true })
  @NoControlChars({ each: true })
  providers?: string[];
}
