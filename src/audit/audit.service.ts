import { randomUUID } from 'node:crypto';
import {
  Inject,
  type BeforeApplicationShutdown,
  Injectable,
  Logger,
  type OnModuleInit,
} from '@nestjs/common';
import type { Caller } from '../auth/caller';
import { MISSING_CREDENTIAL, type RequestHeaders } from '../auth/credential';
import { BatchWriter } from '../common/batch-writer';
import { decodeCursor, toPage } from '../common/cursor';
import { AppError } from '../common/errors/app-error';
import { rangeEnd, rangeStart } from '../common/iso-date';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { spillFor } from '../database/spill-file';
import type { AuditEventEntity } from '../database/entities';
import { MetricsService } from '../metrics/metrics.service';
import { AuditRepository } from './audit.repository';
import { AuthFailureAggregator, type AuthFailureWindow, windowDetail } from './auth-failures';
import type { AuditAction, AuditDetail, AuditedKey, RequestOrigin } from './audit.types';
import { AuditEventDto, type AuditListDto, type AuditQueryDto } from './dto/audit.dto';

export interface AuditInput {
  action: AuditAction;
  /** Who acted (its `origin` gives the request's address and id); null: no one, the service itself. */
  actor: Caller | null;
  targetType?: 'key' | 'token' | 'user';
  targetId?: string;
  key?: AuditedKey;
  detail?: AuditDetail;
  origin?: RequestOrigin;
}

type AuditRow = Omit<AuditEventEntity, 'id'>;

/** Anything token-shaped in a failure reason is cut out, in case a message ever quotes one. */
const TOKEN_LIKE = /[\w.~+/=-]{24,}/g;

/**
 * A change request as audit detail: plain values kept, anything structured as compact JSON.
 * Only for inputs that hold no secret (a key update, never a save or rotate body).
 */
export function auditChanges(patch: object): AuditDetail {
  const out: AuditDetail = {};
  for (const [k, v] of Object.entries(patch) as [string, unknown][]) {
    if (v === undefined) continue;
    out[k] =
      v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
        ? v
        : JSON.stringify(v).slice(0, 500);
  }
  return out;
}

const cut = (v: string | undefined | null, n: number): string | null =>
  v === undefined || v === null ? null : v.slice(0, n);

/** Failed authentications from one address for one reason are one row per this long. */
export const AUTH_FAILED_WINDOW_MS = 60_000;
/** Open failed-authentication windows at most (then one overflow window takes the rest). */
const AUTH_FAILED_MAX_WINDOWS = 1_000;
/** How often windows that have run out are written. */
const AUTH_FAILED_SWEEP_MS = 5_000;

/**
 * The audit log. `record()` costs a push onto a queue and one structured log line; rows are
 * written in batches every second (like usage rows), so auditing never adds a database round
 * trip to the request it describes. Rows carry metadata only: a key by id and hint. Failed
 * authentications are aggregated per client address and reason over AUTH_FAILED_WINDOW_MS (one
 * row with `detail.count`), so junk requests cannot fill the append-only table.
 */
@Injectable()
export class AuditService implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('Audit');
  private readonly writer: BatchWriter<AuditRow>;
  private readonly authFailures = new AuthFailureAggregator({
    windowMs: AUTH_FAILED_WINDOW_MS,
    maxWindows: AUTH_FAILED_MAX_WINDOWS,
  });
  private sweep?: NodeJS.Timeout;

  constructor(
    private readonly rows: AuditRepository,
    metrics: MetricsService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.writer = new BatchWriter({
      name: 'audit_events',
      insert: (batch) => this.rows.insert(batch),
      dropped: (n) => metrics.rowsDropped('audit_events', n),
      spilled: (n) => metrics.rowsSpilled('audit_events', n),
      logger: this.logger,
      maxQueue: config.rowBuffer.maxRows,
      spill: spillFor(config, 'audit_events', ['at']),
    });
  }

  onModuleInit(): void {
    this.writer.start();
    this.sweep = setInterval(() => this.closeAuthWindows(false), AUTH_FAILED_SWEEP_MS);
    this.sweep.unref();
  }

  // Before TypeORM closes its pool (onApplicationShutdown), so the last rows still get written.
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.sweep);
    this.closeAuthWindows(true);
    await this.writer.stop();
  }

  record(input: AuditInput): void {
    const actor = input.actor;
    const origin = input.origin ?? actor?.origin;
    const key = input.key;
    const row: AuditRow = {
      at: new Date(),
      actorSub: cut(actor?.sub, 255),
      actorKind: actor?.kind ?? 'anonymous',
      action: input.action,
      targetType: input.targetType ?? (key ? 'key' : null),
      targetId: cut(input.targetId ?? key?.id, 255),
      keyHint: cut(key?.keyHint, 8),
      provider: cut(key?.provider, 64),
      ownerType: cut(key?.ownerType, 8),
      ownerId: cut(key?.ownerId, 255),
      ip: cut(origin?.ip, 64),
      requestId: cut(origin?.id, 128),
      detail: input.detail ?? null,
      eventId: randomUUID(),
    };
    this.emit(row);
  }

  private emit(row: AuditRow): void {
    const { at, ...fields } = row;
    this.logger.log({ msg: `audit ${row.action}`, audit: { ...fields, at: at.toISOString() } });
    this.writer.push(row);
  }

  /** A key operation by the current caller. */
  key(actor: Caller, action: AuditAction, key: AuditedKey, detail?: AuditDetail): void {
    this.record({ action, actor, key, detail });
  }

  /**
   * A credential the guard refused. A request with no credential at all is not an attempt and
   * is not recorded (every anonymous probe would fill the log). The reason is the message the
   * client got, which never quotes the credential; token-shaped text is cut out all the same.
   * Counted into the (ip, reason) window, written as one row (and one log line) when it closes.
   */
  authFailed(error: unknown, headers: RequestHeaders, origin?: RequestOrigin): void {
    if (!(error instanceof AppError) || error.code !== 'unauthorized') return;
    if (error.message === MISSING_CREDENTIAL) return;
    const auth = headers.authorization ?? headers['x-api-key'];
    const presented = (Array.isArray(auth) ? auth.join(' ') : (auth ?? '')).trim();
    const closed = this.authFailures.add({
      ip: cut(origin?.ip, 64),
      requestId: cut(origin?.id, 128),
      reason: error.message.replace(TOKEN_LIKE, '[redacted]').slice(0, 300),
      credential: /(^|\s)byok_/i.test(presented)
        ? 'access_token'
        : /^bearer\s/i.test(presented) || !headers.authorization
          ? 'jwt'
          : 'unsupported',
      path: (origin?.url ?? '').split('?')[0].slice(0, 200),
    });
    if (closed) this.emitAuthWindow(closed);
  }

  /** Writes the failed-authentication windows that have run out, or all of them. */
  private closeAuthWindows(all: boolean): void {
    for (const w of this.authFailures.take(all)) this.emitAuthWindow(w);
  }

  /** One row for a window, at its first failure, with that request's id and the count. */
  private emitAuthWindow(w: AuthFailureWindow): void {
    this.emit({
      at: w.firstAt,
      actorSub: null,
      actorKind: 'anonymous',
      action: 'auth.failed',
      targetType: null,
      targetId: null,
      keyHint: null,
      provider: null,
      ownerType: null,
      ownerId: null,
      ip: w.ip,
      requestId: w.first.requestId,
      detail: windowDetail(w),
      eventId: randomUUID(),
    });
  }

  /** Newest first; this replica's queued rows are written first, so a change is seen at once. */
  async list(q: AuditQueryDto): Promise<AuditListDto> {
    const limit = q.limit ?? 50;
    await this.flush();
    const rows = await this.rows.list({
      action: q.action,
      actorSub: q.actorSub,
      targetId: q.targetId,
      from: q.from ? rangeStart(q.from) : undefined,
      to: q.to ? rangeEnd(q.to) : undefined,
      before: decodeCursor(q.cursor, 'bigint'),
      limit: limit + 1,
    });
    return toPage(
      rows,
      limit,
      (e) => AuditEventDto.from(e),
      (e) => ({ at: e.at, id: e.id }),
    );
  }

  /**
   * Writes what is queued, closing the open failed-authentication windows first. Reads and tests
   * call it to see rows at once.
   */
  flush(): Promise<void> {
    this.closeAuthWindows(true);
    return this.writer.flush();
  }
}
