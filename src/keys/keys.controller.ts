import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Res,
  type Type,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { Caller } from '../auth/caller';
import { CurrentCaller } from '../auth/current-caller.decorator';
import { ApiKeyOrProviderParam, ApiUuidParam } from '../common/dto/api-params';
import { ApiBodyProblems, ApiProblems } from '../common/dto/api-problems.decorator';
import { RotateKeyDto, SaveKeyDto, UpdateKeyDto } from './dto/key-input.dto';
import { KeyListDto, KeyMetadataDto, VerifyResultDto } from './dto/key-metadata.dto';
import { KeysService } from './keys.service';
import type { KeyScope } from './owner';

/** The same routes for a user's own keys and for its organisation's. */
function keysController(scope: KeyScope): Type<unknown> {
  const who = scope === 'user' ? 'your' : "your organisation's";

  @ApiTags(scope === 'user' ? 'user keys' : 'organisation keys')
  @ApiBearerAuth()
  @ApiProblems(401, 403)
  @Controller(`api/${scope}/api-keys`)
  class KeysController {
    constructor(readonly keys: KeysService) {}

    @Post()
    @ApiOperation({
      summary: `Save ${who} key for a provider`,
      description:
        'Creates a key (201), or stores a new secret version for the key with the same provider and keyName (200).',
    })
    @ApiCreatedResponse({ type: KeyMetadataDto, description: 'Created' })
    @ApiOkResponse({ type: KeyMetadataDto, description: 'Updated (new secret version)' })
    @ApiBodyProblems()
    @ApiProblems(409, 422, 502, 503, 504)
    async save(
      @CurrentCaller() caller: Caller,
      @Body() dto: SaveKeyDto,
      @Res({ passthrough: true }) reply: FastifyReply,
    ): Promise<KeyMetadataDto> {
      const { created, key } = await this.keys.saveApiKey(caller, scope, dto);
      void reply.status(created ? 201 : 200);
      return key;
    }

    @Get()
    @ApiOperation({ summary: `List ${who} keys (metadata only)` })
    @ApiOkResponse({ type: KeyListDto })
    async list(@CurrentCaller() caller: Caller): Promise<KeyListDto> {
      return { data: await this.keys.listApiKeys(caller, scope) };
    }

    // `:provider` is a provider id or, since the URL is a key's too (PATCH, DELETE), a key id.
    @Get(':provider')
    @ApiOperation({
      summary: `${who} active keys for one provider, in resolution order; or one key by id`,
      description:
        'With a provider id: its active keys, in the order the proxy tries them (404 when there is none). With a key id (the URL PATCH and DELETE take): that key, whatever its status, as a one-item list (404 when there is no such key).',
    })
    @ApiKeyOrProviderParam()
    @ApiOkResponse({ type: KeyListDto })
    @ApiProblems(400, 404)
    async byProvider(
      @CurrentCaller() caller: Caller,
      @Param('provider') idOrProvider: string,
    ): Promise<KeyListDto> {
      return { data: await this.keys.listByIdOrProvider(caller, scope, idOrProvider) };
    }

    @Patch(':id')
    @ApiOperation({
      summary: 'Toggle, rename or reorder a key, or set its limits',
      description:
        'Sets the fields sent (none may be null but `limits`: null removes them) and answers the whole key as stored.',
    })
    @ApiUuidParam('key')
    @ApiOkResponse({ type: KeyMetadataDto })
    @ApiBodyProblems()
    @ApiProblems(404, 409)
    update(
      @CurrentCaller() caller: Caller,
      @Param('id') id: string,
      @Body() dto: UpdateKeyDto,
    ): Promise<KeyMetadataDto> {
      return this.keys.updateApiKey(caller, scope, id, dto);
    }

    @Post(':id/rotate')
    @HttpCode(200)
    @ApiOperation({ summary: 'Replace the secret (new version, same id); clears `invalid`' })
    @ApiUuidParam('key')
    @ApiOkResponse({ type: KeyMetadataDto })
    @ApiBodyProblems()
    @ApiProblems(404, 503)
    rotate(
      @CurrentCaller() caller: Caller,
      @Param('id') id: string,
      @Body() dto: RotateKeyDto,
    ): Promise<KeyMetadataDto> {
      return this.keys.rotateApiKey(caller, scope, id, dto);
    }

    @Post(':id/verify')
    @HttpCode(200)
    @ApiOperation({ summary: "Check the key with the provider's verify request" })
    @ApiUuidParam('key')
    @ApiOkResponse({ type: VerifyResultDto })
    @ApiProblems(400, 404, 502, 503, 504)
    verify(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<VerifyResultDto> {
      return this.keys.verifyApiKey(caller, scope, id);
    }

    @Delete(':id')
    @HttpCode(204)
    @ApiOperation({ summary: 'Delete a key and destroy its secret (every version)' })
    @ApiUuidParam('key')
    @ApiNoContentResponse({ description: 'Deleted' })
    @ApiProblems(400, 404, 503)
    async remove(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<void> {
      await this.keys.deleteApiKey(caller, scope, id);
    }
  }
  Object.defineProperty(KeysController, 'name', {
    value: scope === 'user' ? 'UserKeysController' : 'OrgKeysController',
  });
  return KeysController;
}

export const UserKeysController = keysController('user');
export const OrgKeysController = keysController('org');
