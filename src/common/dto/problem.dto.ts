import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ERROR_STATUS } from '../errors/error-codes';

/** RFC 9457 problem details, as every /api error is answered. */
export class ProblemDto {
  @ApiProperty({ example: 'about:blank' }) type: string;
  @ApiProperty({ example: 'Validation Failed' }) title: string;
  @ApiProperty({ type: 'integer', example: 400 }) status: number;
  @ApiProperty({ example: 'apiKey must not be empty', description: 'What to fix.' })
  detail: string;
  @ApiProperty({ enum: Object.keys(ERROR_STATUS), example: 'validation_failed' }) code: string;
  @ApiProperty({ example: '/api/user/api-keys' }) instance: string;
  @ApiProperty({ example: '6f1c0b1e-4a57-4a6e-9d1b-2b1f7a3f0c55' }) requestId: string;
  @ApiPropertyOptional({ type: [String], description: 'Known provider ids (provider_unknown).' })
  knownProviders?: string[];
  @ApiPropertyOptional({
    type: [String],
    example: ['keyName'],
    description: 'The fields at fault (validation_failed, key_name_taken).',
  })
  fields?: string[];
  @ApiPropertyOptional({ example: 'cursor', description: 'The field at fault (some refusals).' })
  field?: string;
  @ApiPropertyOptional({
    type: 'integer',
    example: 20,
    description: 'MAX_KEYS_PER_PROVIDER (key_cap_reached).',
  })
  cap?: number;
}
