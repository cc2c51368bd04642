import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { type RollupResult, UsageRepository } from './usage.repository';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * The first instant that stays raw: UTC midnight `retentionDays` before today. Whole days only,
 * so each day is compacted in one go and a daily row never holds a part of a day.
 */
export function rollupCutoff(now: Date, retentionDays: number): Date {
  const today = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  return new Date(today - retentionDays * DAY_MS);
}

/**
 * Compacts usage_events older than USAGE_RETENTION_DAYS into usage_daily at start-up and then
 * hourly. Every replica runs it; the advisory lock in the repository lets one do the work.
 */
@Injectable()
export class UsageRollup implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(UsageRollup.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly usage: UsageRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    // Not awaited: a first compaction of a large table must not hold up readiness.
    this.runInBackground();
    this.timer = setInterval(() => this.runInBackground(), HOUR_MS);
    this.timer.unref();
  }

  // Before TypeORM closes its pool, so a run in progress can commit or roll back cleanly.
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One pass; tests call it with their own clock. */
  run(now = new Date()): Promise<RollupResult> {
    return this.usage.rollUpBefore(rollupCutoff(now, this.config.usageRetentionDays));
  }

  private runInBackground(): void {
    if (this.running) return;
    this.running = this.run()
      .then((r) => {
        if (r.events)
          this.logger.log(`Compacted ${r.events} usage rows into ${r.dailyRows} daily rows`);
      })
      .catch((e: unknown) => {
        this.logger.warn(`Usage rollup failed, will retry within the hour: ${String(e)}`);
      })
      .finally(() => (this.running = undefined));
  }
}
