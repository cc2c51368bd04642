import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../auth/admin-only.decorator';
import { ApiProblems } from '../common/dto/api-problems.decorator';
import { LimitsDto, toLimits } from './dto/limits.dto';
import type { Limits } from './limits';
import { LimitsService } from './limits.service';

@ApiTags('admin')
@ApiBearerAuth()
@ApiProblems(401, 403)
@AdminOnly()
@Controller('api/admin/users')
export class LimitsController {
  constructor(private readonly limits: LimitsService) {}

  @Get(':sub/limits')
  @ApiOperation({ summary: "A user's limits (their own, else the LIMIT_USER_* defaults)" })
  @ApiOkResponse({ type: LimitsDto })
  get(@Param('sub') sub: string): Promise<Limits> {
    return this.limits.userLimits(sub);
  }

  @Put(':sub/limits')
  @ApiOperation({ summary: "Set a user's limits; omitted or null fields mean no limit" })
  @ApiOkResponse({ type: LimitsDto })
  @ApiProblems(400)
  put(@Param('sub') sub: string, @Body() dto: LimitsDto): Promise<Limits> {
    return this.limits.setUserLimits(sub, toLimits(dto));
  }
}
