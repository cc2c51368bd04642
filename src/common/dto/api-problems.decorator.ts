import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { ProblemDto } from './problem.dto';

const DESCRIPTIONS: Record<number, string> = {
  400: 'Bad input (validation_failed, invalid_json, provider_unknown); `detail` says what to fix',
  401: 'Missing, invalid, expired or revoked credential (unauthorized)',
  403: 'Authenticated but not allowed (forbidden)',
  404: 'No such resource for this caller (not_found)',
  409: 'Conflicts with what is stored: MAX_KEYS_PER_PROVIDER keys already (key_cap_reached), or another key has that keyName (key_name_taken)',
  413: 'Body too large (payload_too_large)',
  415: 'Unsupported content type or encoding (unsupported_media_type)',
  422: 'The provider rejected the key (provider_key_rejected); nothing was saved',
  502: 'The provider could not be reached (upstream_unavailable)',
  503: 'The secret store (Vault) refused or could not be reached (secret_store_unavailable); nothing was changed',
  504: 'The provider did not answer in time (upstream_unavailable)',
};

/**
 * Documents RFC 9457 problem responses for the given statuses, as served:
 * `application/problem+json` only. (A `type` here would make @nestjs/swagger describe them as
 * `application/json`, replacing the content given.)
 */
export function ApiProblems(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiExtraModels(ProblemDto),
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: DESCRIPTIONS[status],
        content: { 'application/problem+json': { schema: { $ref: getSchemaPath(ProblemDto) } } },
      }),
    ),
  );
}

/** The problems of a route with a JSON body: malformed or nested too deep (400), too large, not JSON. */
export const ApiBodyProblems = (): MethodDecorator & ClassDecorator => ApiProblems(400, 413, 415);
