import { randomUUID } from 'node:crypto';
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnModuleInit,
} from '@nestjs/common';
import { BatchWriter } from '../common/batch-writer';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { spillFor } from '../database/spill-file';
import { KeyRepository } from '../keys/key.repository';
import { LimitsService } from '../limits/limits.service';
import { MetricsService } from '../metrics/metrics.service';
import { budgetCost, PriceTable } from './prices';
import type { UsageEvent } from './usage-event';
import { UsageRepository, type UsageRow } from './usage.repository';

const LAST_USED_EVERY_MS = 60_000;

/**
 * The one consumer of usage events: metrics (the access line is the HTTP server's), token and cost
 * windows for limits, and a usage row (plus a key's lastUsedAt, at most once a minute) queued and
 * written in batches, so recording never adds a database round trip to the request.
 */
@Injectable()
export class UsageRecorder implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(UsageRecorder.name);
  private readonly writer: BatchWriter<UsageRow>;
  private readonly lastUsed = new Map<string, number>();
  private touched = new Map<string, Date>();

  constructor(
    private readonly rows: UsageRepository,
    private readonly keys: KeyRepository,
    private readonly prices: PriceTable,
    private readonly limits: LimitsService,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.writer = new BatchWriter({
      name: 'usage_events',
      insert: (batch) => this.write(batch),
      dropped: (n) => metrics.rowsDropped('usage_events', n),
      spilled: (n) => metrics.rowsSpilled('usage_events', n),
      logger: this.logger,
      maxQueue: config.rowBuffer.maxRows,
      spill: spillFor(config, 'usage_events', ['createdAt']),
    });
  }

  onModuleInit(): void {
    this.writer.start();
  }

  // Before TypeORM closes its pool (onApplicationShutdown), so the last rows still get written.
  async beforeApplicationShutdown(): Promise<void> {
    await this.writer.stop();
  }

  record(e: UsageEvent): void {
    this.metrics.observe({
      provider: e.provider,
      model: e.model,
      operation: e.operation,
      keySource: e.keySource,
      status: e.status,
      errorType: e.errorType,
      seconds: e.durationMs / 1000,
      firstChunkSeconds: e.firstChunkMs === undefined ? undefined : e.firstChunkMs / 1000,
      promptTokens: e.promptTokens,
      completionTokens: e.completionTokens,
      traceId: e.traceId,
    });
    this.writer.push({
      createdAt: new Date(),
      callerSub: e.callerSub,
      ownerType: e.keySource,
      ownerId: e.keyOwnerId,
      keyId: e.keyId ?? null,
      provider: e.provider,
      model: e.model?.slice(0, 200) ?? null,
      operation: e.operation.slice(0, 64),
      status: e.status,
      errorType: e.errorType?.slice(0, 64) ?? null,
      latencyMs: Math.round(e.durationMs),
      promptTokens: e.promptTokens ?? null,
      completionTokens: e.completionTokens ?? null,
      requestId: e.requestId.slice(0, 128),
      eventId: randomUUID(),
    });
    if (e.keyId && e.status < 400) this.touch(e.keyId);
    this.count(e);
  }

  /** Writes what is queued. Tests call it to see rows at once. */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  /** Tokens and cost: the byok_usage_* metrics, and settling admission's reservations. */
  private count(e: UsageEvent): void {
    const prompt = e.promptTokens ?? 0;
    const completion = e.completionTokens ?? 0;
    const model = e.model ?? null;
    if (prompt + completion > 0) {
      const cost = this.prices.cost(e.provider, model, prompt, completion);
      this.metrics.usage(e.provider, e.keySource, prompt, completion, cost);
    }
    if (!e.reservations.length) return;
    const charged = budgetCost(this.prices, e.provider, model, prompt, completion);
    for (const { reservation, served } of e.reservations)
      this.limits
        .settle(reservation, served ? prompt + completion : 0, served ? charged : 0)
        .catch((err: unknown) =>
          this.logger.warn(`Counting tokens failed: ${(err as Error).message}`),
        );
  }

  private touch(keyId: string): void {
    const now = Date.now();
    if (now - (this.lastUsed.get(keyId) ?? 0) < LAST_USED_EVERY_MS) return;
    this.lastUsed.set(keyId, now);
    this.touched.set(keyId, new Date(now));
  }

  /** A batch of rows, then the lastUsedAt stamps gathered with them (best effort). */
  private async write(batch: UsageRow[]): Promise<void> {
    await this.rows.insertEvents(batch);
    const touched = this.touched;
    this.touched = new Map();
    for (const [keyId, at] of touched)
      await this.keys.update(keyId, { lastUsedAt: at }).catch((err: unknown) => {
        this.logger.warn(`Could not stamp lastUsedAt of key ${keyId}: ${(err as Error).message}`);
      });
  }
}
