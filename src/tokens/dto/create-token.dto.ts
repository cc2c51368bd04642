import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayNotEmpty,
  IsArray,
  IsISO8601,
  IsNotEmpty,
  IsOptional,
  IsString,
  MaxLength,
  ValidateBy,
  type ValidationOptions,
} from 'class-validator';
import { NoControlChars } from '../../common/dto/text.decorators';

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
    description: 'A label to recognise the token by in the list, e.g. where it is used.',
    example: 'laptop CLI',
    maxLength: 100,
  })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  @IsNotEmpty({ message: 'name must not be empty' })
  @MaxLength(100)
  @NoControlChars()
  name: string;

  @ApiPropertyOptional({
    description: 'When the token stops working (ISO 8601, in the future). Omit for no expiry.',
    format: 'date-time',
    example: '2030-01-01T00:00:00Z',
  })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'expiresAt must be an ISO 8601 date-time' })
  @IsFutureDate()
  expiresAt?: string;

  @ApiPropertyOptional({
    description: 'Provider ids the token may use through the proxy. Omit for every provider.',
    type: [String],
    example: ['cerebras', 'openai'],
  })
  @IsOptional()
  @IsArray()
  @ArrayNotEmpty({ message: 'providers must list at least one provider id, or be omitted' })
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @MaxLength(64, { each: true })
  @NoControlChars({ each: true })
  providers?: string[];
}
