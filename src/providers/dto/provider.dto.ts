import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { KIND_PARAMS, paramNamesOf } from '../key-params';
import type { ProviderAuth, ProviderRecord } from '../provider.schema';

// /api/providers is readable by any access token: a fixed header that looks like a credential
// (a gateway token in a custom provider, say) is shown by name only.
const CREDENTIAL_LIKE = /auth|key|token|secret|cookie|signature|password/i;

export class ProviderVerifyDto {
  @ApiProperty({ enum: ['GET', 'POST'], example: 'GET' })
  method: 'GET' | 'POST';

  @ApiProperty({ description: 'Path relative to baseUrl', example: '/v1/models' })
  path: string;

  @ApiPropertyOptional({ description: 'JSON body sent with a POST verify request' })
  body?: unknown;

  @ApiPropertyOptional({
    description: 'Where the verify request goes when not to baseUrl (may name key parameters)',
    example: 'https://bedrock.{region}.amazonaws.com',
  })
  baseUrl?: string;
}

/** A provider record as callers see it: no secrets, plus whether the operator's key can serve them. */
export class ProviderDto {
  @ApiProperty({ example: 'cerebras', pattern: '^[a-z0-9][a-z0-9_-]*$' })
  id: string;

  @ApiProperty({ example: 'Cerebras' })
  name: string;

  @ApiProperty({ example: 'https://api.cerebras.ai' })
  baseUrl: string;

  @ApiProperty({ description: 'Path of the OpenAI-compatible API under baseUrl', example: '/v1' })
  openaiPrefix: string;

  @ApiProperty({
    enum: Object.keys(KIND_PARAMS),
    example: 'bearer',
    description:
      'The credential kind: one key in a header (bearer, x-api-key, api-key), azure, sigv4 (AWS) or gcp-service-account; sigv4 and gcp-service-account keys are saved as `credential`, the others as `apiKey`.',
  })
  auth: ProviderAuth;

  @ApiProperty({
    type: [String],
    description: "Names of the non-secret parameters its keys carry (a key's `params`)",
    example: ['region'],
  })
  params: string[];

  @ApiProperty({ description: 'Each key carries its own base URL (a self-hosted server)' })
  keyBaseUrl: boolean;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    description: 'Fixed headers sent upstream unless the client sends its own',
    example: { 'anthropic-version': '2023-06-01' },
  })
  headers: Record<string, string>;

  @ApiProperty({
    description: "Name of the operator's fallback key variable",
    example: 'CEREBRAS_API_KEY',
  })
  envKey: string;

  @ApiProperty({ description: 'Whether the env key may serve callers without a key of their own' })
  envFallback: boolean;

  @ApiProperty({ description: 'envFallback is true and the env key is set' })
  envFallbackAvailable: boolean;

  @ApiProperty({
    description:
      'Upstream requests carry W3C trace context (traceparent): the operator set <ID>_PROPAGATE_TRACE=true',
  })
  propagateTrace: boolean;

  @ApiProperty({ type: ProviderVerifyDto })
  verify: ProviderVerifyDto;

  static from(record: ProviderRecord, envFallbackAvailable: boolean): ProviderDto {
    const headers = Object.fromEntries(
      Object.entries(record.headers).map(([k, v]) => [
        k,
        CREDENTIAL_LIKE.test(k) ? '[redacted]' : v,
      ]),
    );
    return Object.assign(new ProviderDto(), {
      id: record.id,
      name: record.name,
      baseUrl: record.baseUrl,
      openaiPrefix: record.openaiPrefix,
      auth: record.auth,
      params: paramNamesOf(record),
      keyBaseUrl: record.keyBaseUrl,
      headers,
      envKey: record.envKey,
      envFallback: record.envFallback,
      envFallbackAvailable,
      propagateTrace: record.propagateTrace === true,
      verify: { ...record.verify },
    });
  }
}

export class ProviderListDto {
  @ApiProperty({ type: [ProviderDto] })
  data: ProviderDto[];
}
