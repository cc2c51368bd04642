import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../auth/admin-only.decorator';
import { ApiProblems } from '../common/dto/api-problems.decorator';
import { AuditListDto, AuditQueryDto } from './dto/audit.dto';
import { AuditService } from './audit.service';

/** Read-only by design: the audit log has no update or delete route (and the table refuses them). */
@ApiTags('admin')
@ApiBearerAuth()
@ApiProblems(401, 403)
@AdminOnly()
@Controller('api/admin/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiOperation({
    summary: 'The audit log, newest first (cursor-paginated)',
    description:
      'Key and token changes, admin actions and failed authentications: who, what, which key (id and hint), when, from which IP, request id.',
  })
  @ApiOkResponse({ type: AuditListDto })
  @ApiProblems(400)
  list(@Query() q: AuditQueryDto): Promise<AuditListDto> {
    return this.audit.list(q);
  }
}
