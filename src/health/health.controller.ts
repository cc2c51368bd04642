import { Controller, Get, HttpException, Inject, Res } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import {
  HealthCheckService,
  type HealthCheckResult,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/public.decorator';
import { COUNTER_STORE, type CounterStore } from '../limits/counter-store';
import { SECRET_STORE, type SecretStore } from '../secret-store/secret-store.port';
import { ShutdownState } from './shutdown-state';

@ApiTags('health')
@Public()
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly db: TypeOrmHealthIndicator,
    @Inject(SECRET_STORE) private readonly store: SecretStore,
    private readonly shutdown: ShutdownState,
    @Inject(COUNTER_STORE) private readonly counters: CounterStore,
  ) {}

  @Get('healthz')
  @ApiOperation({ summary: 'Liveness: the process serves HTTP' })
  @ApiOkResponse({ schema: { example: { status: 'ok' } } })
  healthz(): { status: string } {
    return { status: 'ok' };
  }

  @Get('readyz')
  @ApiOperation({ summary: 'Readiness: the database and the secret store answer' })
  @ApiOkResponse({ description: 'Ready; per-dependency detail' })
  @ApiServiceUnavailableResponse({
    description: 'Not ready; `error` names each failing part and why',
  })
  async readyz(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthCheckResult> {
    try {
      return await this.health.check([
        () => {
          const s = this.indicators.check('lifecycle');
          return this.shutdown.draining ? s.down('shutting down') : s.up();
        },
        () => this.db.pingCheck('database', { timeout: 3000 }),
        () => {
          // Informational: with Redis away the limits fall back to per replica, still serving.
          return this.indicators.check('limits').up(this.counters.status());
        },
        async () => {
          const s = this.indicators.check('secretStore');
          try {
            await this.store.ping();
            return s.up({ kind: this.store.kind });
          } catch (e) {
            return s.down({ kind: this.store.kind, message: (e as Error).message });
          }
        },
      ]);
    } catch (e) {
      if (!(e instanceof HttpException)) throw e;
      void reply.status(e.getStatus());
      return e.getResponse() as HealthCheckResult;
    }
  }
}
