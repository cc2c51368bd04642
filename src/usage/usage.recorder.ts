import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { UsageEventEntity } from '../database/entities';
import { KeyRepository } from '../keys/key.repository';
import { MetricsService } from '../metrics/metrics.service';
import type { Exchange } from '../proxy/response-relay';
import type { TokenUsage } from '../proxy/usage-sniffer';

export interface UsageInput {
  ex: Exchange;
  status: number;
  errorType?: string;
  usage?: TokenUsage;
  firstChunkAt?: number;
  model?: string;
}

type UsageRow = Omit<UsageEventEntity, 'id'>;

/** [column, Postgres array type, field]: one array parameter per column. */
const COLUMNS: [string, string, keyof UsageRow][] = [
  ['created_at', 'timestamptz', 'createdAt'],
  ['caller_sub', 'varchar', 'callerSub'],
  ['owner_type', 'varchar', 'ownerType'],
  ['owner_id', 'varchar', 'ownerId'],
  ['key_id', 'uuid', 'keyId'],
  ['provider', 'varchar', 'provider'],
  ['model', 'varchar', 'model'],
  ['operation', 'varchar', 'operation'],
  ['status', 'int', 'status'],
  ['error_type', 'varchar', 'errorType'],
  ['latency_ms', 'int', 'latencyMs'],
  ['prompt_tokens', 'int', 'promptTokens'],
  ['completion_tokens', 'int', 'completionTokens'],
  ['request_id', 'varchar', 'requestId'],
];
const INSERT = `INSERT INTO usage_events (${COLUMNS.map(([c]) => c).join(', ')}) SELECT * FROM unnest(${COLUMNS.map(([, t], i) => `$${i + 1}::${t}[]`).join(', ')})`;

/**
 * One statement with one array per column, whatever the batch size: building a multi-row
 * INSERT through the query builder cost more CPU than the proxying itself under load.
 */
async function insertRows(repo: Repository<UsageEventEntity>, rows: UsageRow[]): Promise<void> {
  await repo.query(
    INSERT,
    COLUMNS.map(([, , field]) => rows.map((r) => r[field])),
  );
}

const FLUSH_MS = 1000;
const MAX_BATCH = 500;
/** Rows kept while the database is away; past that the oldest are dropped (and counted in logs). */
const MAX_QUEUE = 50_000;
const LAST_USED_EVERY_MS = 60_000;

/**
 * Records each proxied request without slowing it: metrics at once, usage rows and lastUsedAt
 * (at most once a minute per key) queued and written in batches every second.
 */
@Injectable()
export class UsageRecorder implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(UsageRecorder.name);
  private queue: UsageRow[] = [];
  private readonly lastUsed = new Map<string, number>();
  private touched = new Map<string, Date>();
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;

  constructor(
    @InjectRepository(UsageEventEntity) private readonly rows: Repository<UsageEventEntity>,
    private readonly keys: KeyRepository,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  record(u: UsageInput): void {
    const { ex } = u;
    const target = ex.target;
    if (!ex.caller || !target) return;
    const now = performance.now();
    const c = ex.candidate;
    this.metrics.observe({
      provider: target.provider.id,
      model: u.model,
      operation: target.operation,
      keySource: c?.source ?? 'none',
      status: u.status,
      errorType: u.errorType,
      seconds: (now - ex.started) / 1000,
      firstChunkSeconds: u.firstChunkAt ? (u.firstChunkAt - ex.started) / 1000 : undefined,
      promptTokens: u.usage?.promptTokens,
      completionTokens: u.usage?.completionTokens,
    });
    if (this.queue.length >= MAX_QUEUE) this.queue.shift();
    this.queue.push({
      createdAt: new Date(),
      callerSub: ex.caller.sub,
      ownerType: c?.source ?? 'none',
      ownerId: c ? c.ownerId : '',
      keyId: c?.keyId ?? null,
      provider: target.provider.id,
      model: u.model?.slice(0, 200) ?? null,
      operation: target.operation.slice(0, 64),
      status: u.status,
      errorType: u.errorType?.slice(0, 64) ?? null,
      latencyMs: Math.round(now - ex.started),
      promptTokens: u.usage?.promptTokens ?? null,
      completionTokens: u.usage?.completionTokens ?? null,
      requestId: ex.requestId.slice(0, 128),
    });
    this.logger.log({
      msg: 'proxied',
      reqId: ex.requestId,
      provider: target.provider.id,
      model: u.model,
      status: u.status,
      keySource: c?.source,
      ms: Math.round(now - ex.started),
      ...(u.errorType ? { error: u.errorType } : {}),
    });
    if (c?.keyId && u.status < 400) this.touch(c.keyId);
    if (this.queue.length >= MAX_BATCH) void this.flush();
  }

  private touch(keyId: string): void {
    const now = Date.now();
    if (now - (this.lastUsed.get(keyId) ?? 0) < LAST_USED_EVERY_MS) return;
    this.lastUsed.set(keyId, now);
    this.touched.set(keyId, new Date(now));
  }

  /** Writes what is queued; one flush at a time. Tests call it to see rows at once. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (!this.queue.length && !this.touched.size) return;
    this.flushing = this.write().finally(() => (this.flushing = undefined));
    await this.flushing;
  }

  private async write(): Promise<void> {
    const batch = this.queue.splice(0, this.queue.length);
    const touched = this.touched;
    this.touched = new Map();
    try {
      for (let i = 0; i < batch.length; i += MAX_BATCH)
        await insertRows(this.rows, batch.slice(i, i + MAX_BATCH));
      for (const [keyId, at] of touched) await this.keys.update(keyId, { lastUsedAt: at });
    } catch (e) {
      // Put the rows back for the next try; nothing is lost while the database is briefly away.
      this.queue = batch.concat(this.queue).slice(-MAX_QUEUE);
      this.logger.warn(`Usage write failed, will retry: ${(e as Error).message}`);
    }
  }
}
