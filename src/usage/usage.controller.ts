import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Caller } from '../auth/caller';
import { CurrentCaller } from '../auth/current-caller.decorator';
import { ApiProblems } from '../common/dto/api-problems.decorator';
import { UsageQueryDto } from './dto/usage-query.dto';
import { UsageReportDto } from './dto/usage-report.dto';
import { UsageService } from './usage.service';

@ApiTags('usage')
@ApiBearerAuth()
@ApiProblems(401, 403)
@Controller('api/user/usage')
export class UsageController {
  constructor(private readonly usage: UsageService) {}

  @Get()
  @ApiOperation({
    summary: 'Requests, tokens and estimated cost per key, provider, model or day',
    description:
      "Your own keys' usage plus the operator keys you used; `scope=org` for your organisation's keys (organisation admins); `ownerType`/`ownerId` for anyone's (administrators). Cost is an estimate from the price table, null for a model without a price. Access tokens may read it.",
  })
  @ApiOkResponse({ type: UsageReportDto })
  @ApiProblems(400)
  report(@CurrentCaller() caller: Caller, @Query() q: UsageQueryDto): Promise<UsageReportDto> {
    return this.usage.report(caller, q);
  }
}
