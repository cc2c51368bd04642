import type { Caller } from '../auth/caller';
import { CurrentCaller } from '../auth/current-caller.decorator';
import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditService } from '../audit/audit.service';
import { AdminOnly } from '../auth/admin-only.decorator';
import { ApiSubParam } from '../common/dto/api-params';
import { ApiBodyProblems, ApiProblems } from '../common/dto/api-problems.decorator';
import { LimitsDto, toLimits } from './dto/limits.dto';
import type { AuditDetail } from '../audit/audit.types';
import type { Limits } from './limits';
import { LimitsService } from './limits.service';

@ApiTags('admin')
@ApiBearerAuth()
@ApiProblems(401, 403)
@AdminOnly()
@Controller('api/admin/users')
export class LimitsController {
  constructor(
    private readonly limits: LimitsService,
    private readonly audit: AuditService,
  ) {}

  @Get(':sub/limits')
  @ApiOperation({ summary: "A user's limits (their own, else the LIMIT_USER_* defaults)" })
  @ApiSubParam()
  @ApiOkResponse({ type: LimitsDto })
  @ApiProblems(400)
  get(@Param('sub') sub: string): Promise<Limits> {
    return this.limits.userLimits(sub);
  }

  @Put(':sub/limits')
  @ApiOperation({ summary: "Set a user's limits; omitted or null fields mean no limit" })
  @ApiSubParam()
  @ApiOkResponse({ type: LimitsDto })
  @ApiBodyProblems()
  async put(
    @CurrentCaller() caller: Caller,
    @Param('sub') sub: string,
    @Body() dto: LimitsDto,
  ): Promise<Limits> {
    // The limits in force before (the user's own, else the defaults), as this replica sees them.
    const old = await this.limits.userLimits(sub);
    const limits = await this.limits.setUserLimits(sub, toLimits(dto));
    this.audit.record({
      action: 'admin.limits.set',
      actor: caller,
      targetType: 'user',
      targetId: sub,
      detail: limitChanges(old, limits),
    });
    return limits;
  }
}

/** Old and new value of every limit, flat (`old.requestsPerMinute`, `new.requestsPerMinute`). */
function limitChanges(old: Limits, now: Limits): AuditDetail {
  const detail: AuditDetail = {};
  for (const k of Object.keys(now) as (keyof Limits)[]) {
    detail[`old.${k}`] = old[k] ?? null;
    detail[`new.${k}`] = now[k];
  }
  return detail;
}
