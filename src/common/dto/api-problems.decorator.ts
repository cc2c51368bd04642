import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ProblemDto } from './problem.dto';

const DESCRIPTIONS: Record<number, string> = {
  400: 'Bad input (validation_failed, invalid_json, provider_unknown); `detail` says what to fix',
  401: 'Missing, invalid, expired or revoked credential (unauthorized)',
  403: 'Authenticated but not allowed (forbidden)',
  404: 'No such resource for this caller (not_found)',
  413: 'Body too large (payload_too_large)',
  415: 'Unsupported content type (unsupported_media_type)',
  422: 'The provider rejected the key (provider_key_rejected); nothing was saved',
  502: 'The provider could not be reached (upstream_unavailable)',
  504: 'The provider did not answer in time (upstream_unavailable)',
};

/** Documents RFC 9457 problem responses for the given statuses. */
export function ApiProblems(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: DESCRIPTIONS[status],
        type: ProblemDto,
        content: {
          'application/problem+json': { schema: { $ref: '#/components/schemas/ProblemDto' } },
        },
      }),
    ),
  );
}
