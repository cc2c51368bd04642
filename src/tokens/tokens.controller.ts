import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Caller } from '../auth/caller';
import { CurrentCaller } from '../auth/current-caller.decorator';
import { ApiUuidParam } from '../common/dto/api-params';
import { ApiBodyProblems, ApiProblems } from '../common/dto/api-problems.decorator';
import { AppError } from '../common/errors/app-error';
import { CreateTokenDto } from './dto/create-token.dto';
import { AdminTokenListDto, CreatedTokenDto, TokenListDto, TokenQueryDto } from './dto/token.dto';
import { TokensService } from './tokens.service';

@ApiTags('tokens')
@ApiBearerAuth()
@ApiProblems(401, 403)
@Controller('api/user/tokens')
export class TokensController {
  constructor(private readonly tokens: TokensService) {}

  @Post()
  @ApiOperation({
    summary: 'Create a proxy access token',
    description:
      'The token may call /v1 and /proxy (within `providers`) and read /api. It is returned this once; only its hash is stored. Needs a JWT.',
  })
  @ApiCreatedResponse({ type: CreatedTokenDto })
  @ApiBodyProblems()
  create(@CurrentCaller() caller: Caller, @Body() dto: CreateTokenDto): Promise<CreatedTokenDto> {
    return this.tokens.create(caller, dto);
  }

  @Get()
  @ApiOperation({ summary: 'List your access tokens (without the tokens themselves)' })
  @ApiOkResponse({ type: TokenListDto })
  list(@CurrentCaller() caller: Caller): Promise<TokenListDto> {
    return this.tokens.list(caller);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke an access token', description: 'Needs a JWT.' })
  @ApiUuidParam('token')
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiProblems(400, 404)
  remove(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<void> {
    return this.tokens.revoke(caller, id, 'owner');
  }
}

/** The organisation an org admin acts for; members may not see each other's tokens. */
function adminOrg(caller: Caller): string {
  if (!caller.orgId || !caller.orgAdmin || caller.kind !== 'jwt')
    throw new AppError(
      'forbidden',
      "Only organisation admins (with a JWT that carries the organisation) can list or revoke the organisation's tokens",
    );
  return caller.orgId;
}

@ApiTags('tokens')
@ApiBearerAuth()
@ApiProblems(401, 403)
@Controller('api/org/tokens')
export class OrgTokensController {
  constructor(private readonly tokens: TokensService) {}

  @Get()
  @ApiOperation({
    summary: "Access tokens that can reach your organisation's keys (org admins)",
    description: 'Tokens made in the organisation, by any member; metadata only.',
  })
  @ApiOkResponse({ type: AdminTokenListDto })
  @ApiProblems(400)
  list(@CurrentCaller() caller: Caller, @Query() q: TokenQueryDto): Promise<AdminTokenListDto> {
    return this.tokens.listAll(q, adminOrg(caller));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke a token made in your organisation (org admins)' })
  @ApiUuidParam('token')
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiProblems(400, 404)
  async remove(@CurrentCaller() caller: Caller, @Param('id') id: string): Promise<void> {
    adminOrg(caller);
    await this.tokens.revoke(caller, id, 'org');
  }
}
