import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { UsageEventEntity } from '../database/entities';
import type { UsageGroupBy } from './dto/usage-query.dto';

export type UsageRow = Omit<UsageEventEntity, 'id'>;

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
  ['event_id', 'uuid', 'eventId'],
];
const INSERT = `INSERT INTO usage_events (${COLUMNS.map(([c]) => c).join(', ')}) SELECT * FROM unnest(${COLUMNS.map(([, t], i) => `$${i + 1}::${t}[]`).join(', ')}) ON CONFLICT (event_id) DO NOTHING`;

/** Whose usage: a user's keys plus the operator keys it used, an organisation's keys, or all env usage. */
export type UsageSubject =
  { kind: 'user'; sub: string } | { kind: 'org'; orgId: string } | { kind: 'env' };

/** Sums for one (group, provider, model): cost is priced per model, then added up per group. */
export interface UsageSum {
  group: string | null;
  provider: string;
  model: string | null;
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
}

export interface RollupResult {
  /** False when another replica held the lock: it is doing this run. */
  locked: boolean;
  /** usage_events rows compacted (and deleted). */
  events: number;
  /** usage_daily rows written. */
  dailyRows: number;
}

/**
 * A fixed advisory lock id that only the usage rollup takes: 0x62796f6b0001, 'byok' in ASCII
 * then 1, written in decimal because hex integer literals need PostgreSQL 16.
 */
export const ROLLUP_LOCK = '108273699848193';

/** Rows compacted per rollup statement: well within the statement timeout on modest hardware. */
export const ROLLUP_BATCH = 20_000;

const ERROR = 'status >= 400 OR error_type IS NOT NULL';

// The same expression for both tables: the columns share names. Operator keys have no key id.
const KEY_SQL = `CASE WHEN key_id IS NULL THEN owner_type || ':' || provider ELSE key_id::text END`;
const DAY_SQL = {
  events: `to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
  daily: `to_char(day, 'YYYY-MM-DD')`,
};
const GROUP_SQL: Record<UsageGroupBy, { events: string; daily: string }> = {
  key: { events: KEY_SQL, daily: KEY_SQL },
  provider: { events: 'NULL::text', daily: 'NULL::text' },
  model: { events: 'NULL::text', daily: 'NULL::text' },
  day: DAY_SQL,
  // The provider is a column of every sum already: summarise adds it to the day.
  'day-provider': DAY_SQL,
  'day-key': {
    events: `${DAY_SQL.events} || '/' || ${KEY_SQL}`,
    daily: `${DAY_SQL.daily} || '/' || ${KEY_SQL}`,
  },
};

function subjectSql(s: UsageSubject, params: unknown[]): string {
  switch (s.kind) {
    case 'user':
      params.push(s.sub);
      return `((owner_type = 'user' AND owner_id = $${params.length}) OR (owner_type = 'env' AND caller_sub = $${params.length}))`;
    case 'org':
      params.push(s.orgId);
      return `(owner_type = 'org' AND owner_id = $${params.length})`;
    case 'env':
      return `(owner_type = 'env')`;
  }
}

/**
 * A UTC day as PostgreSQL reads a date, at the ends of the range too: 10000-01-01 (toISOString
 * says +010000-01-01) and the year before 1, which PostgreSQL calls 1 BC (it has no year 0).
 */
function isoDay(d: Date): string {
  const y = d.getUTCFullYear();
  const md = `${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')}`;
  return y > 0
    ? `${String(y).padStart(4, '0')}-${md}`
    : `${String(1 - y).padStart(4, '0')}-${md} BC`;
}
const DAY_MS = 86_400_000;

/** usage_events (raw, recent) and usage_daily (compacted, old): reads add both up. */
@Injectable()
export class UsageRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /**
   * One statement with one array per column, whatever the batch size: building a multi-row
   * INSERT through the query builder cost more CPU than the proxying itself under load.
   */
  async insertEvents(rows: UsageRow[]): Promise<void> {
    await this.ds.query(
      INSERT,
      COLUMNS.map(([, , field]) => rows.map((r) => r[field])),
    );
  }

  /**
   * Sums per (group, provider, model) over [from, to). Raw rows are cut at the exact instants;
   * a daily row counts when its UTC day overlaps the range, since it cannot be split.
   */
  async sums(
    subject: UsageSubject,
    from: Date,
    to: Date,
    groupBy: UsageGroupBy,
  ): Promise<UsageSum[]> {
    const params: unknown[] = [];
    const who = subjectSql(subject, params);
    params.push(
      from,
      to,
      isoDay(from),
      isoDay(new Date(Math.ceil(to.getTime() / DAY_MS) * DAY_MS)),
    );
    const [pFrom, pTo, dFrom, dTo] = [1, 2, 3, 4].map((i) => `$${params.length - 4 + i}`);
    const g = GROUP_SQL[groupBy];
    const rows: Record<string, string | number | null>[] = await this.ds.query(
      `SELECT grp, provider, model,
              SUM(requests)::float8 AS requests, SUM(errors)::float8 AS errors,
              SUM(prompt_tokens)::float8 AS prompt, SUM(completion_tokens)::float8 AS completion
         FROM (
           SELECT ${g.events} AS grp, provider, model, COUNT(*) AS requests,
                  COUNT(*) FILTER (WHERE ${ERROR}) AS errors,
                  COALESCE(SUM(prompt_tokens), 0) AS prompt_tokens,
                  COALESCE(SUM(completion_tokens), 0) AS completion_tokens
             FROM usage_events
            WHERE ${who} AND created_at >= ${pFrom} AND created_at < ${pTo}
            GROUP BY 1, 2, 3
           UNION ALL
           SELECT ${g.daily}, provider, model, SUM(requests), SUM(errors),
                  SUM(prompt_tokens), SUM(completion_tokens)
             FROM usage_daily
            WHERE ${who} AND day >= ${dFrom}::date AND day < ${dTo}::date
            GROUP BY 1, 2, 3
         ) u
        GROUP BY 1, 2, 3`,
      params,
    );
    return rows.map((r) => ({
      group: r.grp === null ? null : String(r.grp),
      provider: String(r.provider),
      model: r.model === null ? null : String(r.model),
      requests: Number(r.requests),
      errors: Number(r.errors),
      promptTokens: Number(r.prompt),
      completionTokens: Number(r.completion),
    }));
  }

  /**
   * Compacts every usage_events row older than `cutoff` into usage_daily, in batches of at most
   * ROLLUP_BATCH rows so that each statement stays within the database's statement timeout
   * however large the backlog. Each batch is a transaction that first takes a transaction-scoped
   * advisory lock: with N replicas one does the work and the others skip (pg_try_ never waits).
   * Deleting and summing in one statement (a data-modifying CTE) means the sums are of exactly
   * the rows deleted: an INSERT … SELECT then a DELETE could remove a row committed between the
   * two. usage_daily may hold several rows per day and dimensions; readers sum them.
   */
  async rollUpBefore(cutoff: Date, batchRows = ROLLUP_BATCH): Promise<RollupResult> {
    const total: RollupResult = { locked: false, events: 0, dailyRows: 0 };
    for (;;) {
      const batch = await this.rollUpBatch(cutoff, batchRows);
      if (!batch.locked) return total;
      total.locked = true;
      total.events += batch.events;
      total.dailyRows += batch.dailyRows;
      if (batch.events < batchRows) return total;
    }
  }

  private rollUpBatch(cutoff: Date, rows: number): Promise<RollupResult> {
    return this.ds.transaction(async (m) => {
      const [lock] = await m.query<{ locked: boolean }[]>(
        `SELECT pg_try_advisory_xact_lock(${ROLLUP_LOCK}) AS locked`,
      );
      if (!lock?.locked) return { locked: false, events: 0, dailyRows: 0 };
      const [done] = await m.query<{ daily_rows: number; events: number }[]>(
        `WITH moved AS (
           DELETE FROM usage_events
            WHERE id IN (SELECT id FROM usage_events WHERE created_at < $1 LIMIT $2)
           RETURNING created_at, caller_sub, owner_type, owner_id, key_id, provider, model,
                     status, error_type, prompt_tokens, completion_tokens
         ), written AS (
           INSERT INTO usage_daily (day, caller_sub, owner_type, owner_id, key_id, provider, model,
                                    requests, errors, prompt_tokens, completion_tokens)
           SELECT (created_at AT TIME ZONE 'UTC')::date, caller_sub, owner_type, owner_id, key_id,
                  provider, model, COUNT(*), COUNT(*) FILTER (WHERE ${ERROR}),
                  COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0)
             FROM moved GROUP BY 1, 2, 3, 4, 5, 6, 7
           RETURNING requests
         )
         SELECT COUNT(*)::int AS daily_rows, COALESCE(SUM(requests), 0)::float8 AS events FROM written`,
        [cutoff, rows],
      );
      return {
        locked: true,
        events: Number(done?.events ?? 0),
        dailyRows: Number(done?.daily_rows ?? 0),
      };
    });
  }
}
