import { ApiParam } from '@nestjs/swagger';
import { MAX_ID_LENGTH, NO_CONTROLS_PATTERN } from './text.decorators';

/**
 * `format` of a provider id: buildOpenApi replaces it with an `enum` of the registry's provider
 * ids (built-in and PROVIDERS_FILE), since any other id is refused (provider_unknown).
 */
export const PROVIDER_ID_FORMAT = 'provider-id';

/** `:id` of a key or token: a UUID; any other value names nothing (404, not 400). */
export const ApiUuidParam = (what: string): MethodDecorator & ClassDecorator =>
  ApiParam({
    name: 'id',
    description: `The ${what}'s id, a UUID (anything else is not found).`,
    schema: { type: 'string', format: 'uuid' },
  });

/**
 * `:provider` of GET /api/{user,org}/api-keys/:provider: a provider id (any other non-UUID is
 * refused, provider_unknown) or a key id, since the URL is also a key's (PATCH, DELETE). The
 * document names it `id`, as those operations do (see mergeIdenticalPaths).
 */
export const ApiKeyOrProviderParam = (): MethodDecorator & ClassDecorator =>
  ApiParam({
    name: 'provider',
    description: 'A provider id from GET /api/providers, or a key id (a UUID).',
    schema: {
      anyOf: [
        { type: 'string', format: PROVIDER_ID_FORMAT },
        { type: 'string', format: 'uuid' },
      ],
    },
  });

/** `:sub` of a user: the JWT `sub`, as stored (1 to 255 characters, no control characters). */
export const ApiSubParam = (): MethodDecorator & ClassDecorator =>
  ApiParam({
    name: 'sub',
    description: 'The user (the JWT `sub`).',
    schema: {
      type: 'string',
      minLength: 1,
      maxLength: MAX_ID_LENGTH,
      pattern: NO_CONTROLS_PATTERN,
    },
  });
