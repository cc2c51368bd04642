import { Controller, Delete, Get, HttpCode, Param, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { AdminOnly } from '../auth/admin-only.decorator';
import { AdminKeysService } from './admin-keys.service';
import { ApiUuidParam } from '../common/dto/api-params';
import { ApiProblems } from '../common/dto/api-problems.decorator';
import { AdminKeyQueryDto } from '../keys/dto/key-input.dto';
import { AdminKeyListDto } from '../keys/dto/key-metadata.dto';
import type { Caller } from '../auth/caller';
import { CurrentCaller } from '../auth/current-caller.decorator';
import { AdminTokenListDto, TokenQueryDto } from '../tokens/dto/token.dto';
import { TokensService } from '../tokens/tokens.service';

@ApiTags('admin')
@ApiBearerAuth()
@ApiProblems(401, 403)
@AdminOnly()
@Controller('api/admin')
export class AdminController {
  constructor(
    private readonly keys: AdminKeysService,
    private readonly tokens: TokensService,
  ) {}

  @Get('api-keys')
  @ApiOperation({ summary: 'Key metadata across owners (paginated)' })
  @ApiOkResponse({ type: AdminKeyListDto })
  @ApiProblems(400)
  list(@Query() q: AdminKeyQueryDto): Promise<AdminKeyListDto> {
    return this.keys.list(q);
  }

  @Delete('api-keys/:id')
  @HttpCode(204)
  @ApiOperation({ summary: "Revoke any owner's key: destroys the secret and the metadata" })
  @ApiUuidParam('key')
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiProblems(400, 404, 503)
  async remove(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<void> {
    await this.keys.delete(caller, id);
  }

  @Get('tokens')
  @ApiOperation({ summary: "Any user's access tokens (metadata only, paginated)" })
  @ApiOkResponse({ type: AdminTokenListDto })
  @ApiProblems(400)
  listTokens(@Query() q: TokenQueryDto): Promise<AdminTokenListDto> {
    return this.tokens.listAll(q);
  }

  @Delete('tokens/:id')
  @HttpCode(204)
  @ApiOperation({ summary: "Revoke any user's access token" })
  @ApiUuidParam('token')
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiProblems(400, 404)
  async revokeToken(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<void> {
    await this.tokens.revoke(caller, id, 'admin');
  }
}
