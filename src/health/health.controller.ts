import { Controller, Get, Res } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/public.decorator';
import { type Readiness, ReadinessService } from './readiness.service';

@ApiTags('health')
@Public()
@Controller()
export class HealthController {
  constructor(private readonly readiness: ReadinessService) {}

  @Get('healthz')
  @ApiOperation({ summary: 'Liveness: the process serves HTTP' })
  @ApiOkResponse({ schema: { example: { status: 'ok' } } })
  healthz(): { status: string } {
    return { status: 'ok' };
  }

  @Get('readyz')
  @ApiOperation({
    summary: 'Readiness: can this replica serve proxied requests',
    description:
      '200 while it can (with known keys, also when the database or secret store is down: `status` is then `degraded`); 503 only while draining or with no key source at all. `info` gives each dependency as up, degraded or down.',
  })
  @ApiOkResponse({ description: 'Can serve; per-dependency state' })
  @ApiServiceUnavailableResponse({ description: 'Cannot serve: draining, or no key source' })
  async readyz(@Res({ passthrough: true }) reply: FastifyReply): Promise<Readiness> {
    const result = await this.readiness.check();
    if (result.status === 'error') void reply.status(503);
    return result;
  }
}
