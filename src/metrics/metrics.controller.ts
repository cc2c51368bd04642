import { Controller, Get, Req, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../auth/public.decorator';
import { exposition } from './exposition';
import { MetricsService } from './metrics.service';

@ApiTags('health')
@Public()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @ApiOperation({ summary: 'Prometheus metrics (GenAI client metrics and byok_*)' })
  @ApiOkResponse({
    description:
      'Prometheus text exposition format, or OpenMetrics (with trace-id exemplars) when Accept asks for application/openmetrics-text',
  })
  async scrape(
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    const { contentType, body } = await exposition(this.metrics.registry, req.headers.accept);
    void reply.header('content-type', contentType);
    return body;
  }
}
