import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { LimitsDto } from '../../limits/dto/limits.dto';
import { queryInteger } from '../../common/dto/query.transforms';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import {
  API_KEY_PATTERN,
  MaxChars,
  NAME_PATTERN,
  NO_CONTROLS_PATTERN,
  NoControlChars,
  trimWithin,
} from '../../common/dto/text.decorators';
import { CURSOR_PATTERN } from '../../common/cursor';
import { PROVIDER_ID_FORMAT } from '../../common/dto/api-params';

/**
 * Optional but, when present, not null: null is validated (and refused by the type check below)
 * instead of skipped as IsOptional would, so it never reaches the database as "unset".
 */
const IfPresent = (): PropertyDecorator => ValidateIf((_: object, v: unknown) => v !== undefined);

/** keyName, on save and on update: trimmed, 1 to 100 characters, no control characters. */
function KeyNameChecks(): PropertyDecorator {
  return applyDecorators(
    NoControlChars(),
    MaxChars(100),
    IsNotEmpty({ message: 'keyName must not be empty' }),
    IsString(),
    Transform(trimWithin(100)),
  );
}

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
    Transform(trimWithin(4096)),
    IsString(),
    IsNotEmpty({ message: 'apiKey must not be empty' }),
    MaxChars(4096, { message: 'apiKey must be at most 4096 characters' }),
    Matches(KEY_SHAPE, { message: KEY_MESSAGE }),
    ApiPropertyOptional({
      example: 'csk-0123456789abcdef0123456789abcdef',
      description:
        'The key as the provider shows it: visible ASCII (`!` to `~`) except `"` and `\\`; whitespace around it is trimmed. Required unless the provider takes a `credential`.',
      writeOnly: true,
      minLength: 1,
      maxLength: 4096,
      pattern: API_KEY_PATTERN,
    }),
  );
}

/**
 * The JSON credential of AWS (sigv4) and Google service-account keys: write-only, stored whole.
 * Neither it nor `params` has an example: the schema's example body saves a bearer key.
 */
function CredentialField(): PropertyDecorator {
  return applyDecorators(
    IsObject({ message: 'credential must be a JSON object' }),
    IfPresent(),
    ApiPropertyOptional({
      type: 'object',
      additionalProperties: true,
      writeOnly: true,
      description:
        'For providers whose keys are not one string (GET /api/providers `auth`): `sigv4` takes `{"accessKeyId","secretAccessKey","sessionToken"?}`, `gcp-service-account` the service-account key file. Send `apiKey` instead for every other kind.',
    }),
  );
}

/** The key's non-secret parameters, checked per credential kind by the service. */
function ParamsField(): PropertyDecorator {
  return applyDecorators(
    IsObject({ message: 'params must be a JSON object of strings' }),
    IfPresent(),
    ApiPropertyOptional({
      type: 'object',
      additionalProperties: { type: 'string' },
      description:
        "Non-secret parameters the provider's keys take (GET /api/providers `params`): `azure` resource and apiVersion, `sigv4` region, `gcp-service-account` project and location, and baseUrl for self-hosted endpoints.",
    }),
  );
}

/** The credential of a rotate; a save sends the same, plus the provider and name. */
export class RotateKeyDto {
  @ApiKeyField()
  @IfPresent()
  apiKey?: string;

  @CredentialField()
  credential?: Record<string, unknown>;

  @ParamsField()
  params?: Record<string, string>;
}

export class SaveKeyDto extends RotateKeyDto {
  @ApiProperty({
    example: 'cerebras',
    description: 'A provider id from GET /api/providers.',
    format: PROVIDER_ID_FORMAT,
  })
  @Matches(/^[a-z0-9][a-z0-9_-]*$/, { message: 'provider must be a lower-case provider id' })
  @MaxChars(64)
  @IsString()
  provider: string;

  @ApiProperty({
    example: 'personal',
    description: 'Unique per owner and provider; trimmed.',
    minLength: 1,
    maxLength: 100,
    pattern: NAME_PATTERN,
  })
  @KeyNameChecks()
  keyName: string;

  @ApiPropertyOptional({
    description: 'Check the key with the provider first; a rejected key is not saved.',
  })
  @IsBoolean()
  @IfPresent()
  verify?: boolean;
}

/** Every field is optional; a field sent is set, and none may be null except `limits`. */
export class UpdateKeyDto {
  @ApiPropertyOptional({ description: 'false switches the key off (status `inactive`).' })
  @IsBoolean()
  @IfPresent()
  isActive?: boolean;

  @ApiPropertyOptional({ minLength: 1, maxLength: 100, pattern: NAME_PATTERN })
  @KeyNameChecks()
  @IfPresent()
  keyName?: string;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: -1000,
    maximum: 1000,
    description: 'Lower is tried first.',
  })
  @Max(1000)
  @Min(-1000)
  @IsInt()
  @IfPresent()
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

  @ParamsField()
  params?: Record<string, string>;
}

export class AdminKeyQueryDto {
  @ApiPropertyOptional({ enum: ['user', 'org'] })
  @IsOptional()
  @IsIn(['user', 'org'])
  ownerType?: 'user' | 'org';

  @ApiPropertyOptional({ maxLength: 255, pattern: NO_CONTROLS_PATTERN })
  @NoControlChars()
  @MaxChars(255)
  @IsString()
  @IsOptional()
  ownerId?: string;

  @ApiPropertyOptional({ maxLength: 64, pattern: NO_CONTROLS_PATTERN })
  @NoControlChars()
  @MaxChars(64)
  @IsString()
  @IsOptional()
  provider?: string;

  @ApiPropertyOptional({
    description: 'nextCursor of the previous page.',
    pattern: CURSOR_PATTERN.uuid,
  })
  @IsString()
  @IsOptional()
  cursor?: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Transform(queryInteger)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;
}
