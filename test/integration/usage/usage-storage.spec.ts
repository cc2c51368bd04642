import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { UsageDailyEntity, UsageEventEntity } from '../../../src/database/entities';
import { USAGE_GROUPS } from '../../../src/usage/dto/usage-query.dto';
import { loadPrices } from '../../../src/usage/prices';
import { rollupCutoff } from '../../../src/usage/usage-rollup';
import { ROLLUP_LOCK, UsageRepository, type UsageSum } from '../../../src/usage/usage.repository';
import { summarise } from '../../../src/usage/usage.service';
import { type MigratedDb, openMigrated } from '../../helpers/migrated-db';

const DAY = 86_400_000;
const NOW = new Date();
const ALICE_KEY = randomUUID();
const BOB_KEY = randomUUID();
const ORG_KEY = randomUUID();
// Who used which key: alice's own, the operator's (env) by alice and by bob, the org's, bob's.
const USES = [
  { callerSub: 'alice', ownerType: 'user', ownerId: 'alice', keyId: ALICE_KEY },
  { callerSub: 'alice', ownerType: 'env', ownerId: '', keyId: null },
  { callerSub: 'bob', ownerType: 'env', ownerId: '', keyId: null },
  { callerSub: 'dave', ownerType: 'org', ownerId: 'acme', keyId: ORG_KEY },
  { callerSub: 'bob', ownerType: 'user', ownerId: 'bob', keyId: BOB_KEY },
];
const MODELS = [
  { provider: 'cerebras', model: 'llama-3.3-70b' },
  { provider: 'cerebras', model: 'mystery-model' },
  { provider: 'openai', model: 'gpt-4o-mini-2024-07-18' },
  { provider: 'openai', model: null },
];

/** 400 rows over the last 120 days, every mix of owner, model, status and missing tokens. */
function seedRows(): Omit<UsageEventEntity, 'id'>[] {
  return Array.from({ length: 400 }, (_, i) => {
    const use = USES[i % USES.length];
    const m = MODELS[(i * 7) % MODELS.length];
    const failed = i % 11 === 0;
    return {
      ...use,
      ...m,
      createdAt: new Date(NOW.getTime() - (i % 120) * DAY - (i % 23) * 3_600_000),
      operation: 'chat',
      status: failed ? 429 : 200,
      errorType: failed ? 'rate_limited' : null,
      latencyMs: 10,
      promptTokens: failed || i % 13 === 0 ? null : 10 + i,
      completionTokens: failed ? null : i % 5,
      requestId: `r${i}`,
      eventId: randomUUID(),
    };
  });
}

const dims = (r: {
  day: string;
  callerSub: string;
  ownerType: string;
  ownerId: string;
  keyId: string | null;
  provider: string;
  model: string | null;
}) => [r.day, r.callerSub, r.ownerType, r.ownerId, r.keyId, r.provider, r.model].join('|');

/** What the rollup must produce from these rows, keyed by its dimensions. */
function expectedDaily(rows: Omit<UsageEventEntity, 'id'>[]) {
  const out = new Map<
    string,
    { requests: number; errors: number; prompt: number; completion: number }
  >();
  for (const r of rows) {
    const key = dims({ ...r, day: r.createdAt.toISOString().slice(0, 10) });
    const e = out.get(key) ?? { requests: 0, errors: 0, prompt: 0, completion: 0 };
    e.requests += 1;
    e.errors += r.status >= 400 || r.errorType ? 1 : 0;
    e.prompt += r.promptTokens ?? 0;
    e.completion += r.completionTokens ?? 0;
    out.set(key, e);
  }
  return out;
}

async function dailyRows(ds: DataSource) {
  const out = new Map<
    string,
    { requests: number; errors: number; prompt: number; completion: number }
  >();
  for (const d of await ds.getRepository(UsageDailyEntity).find()) {
    const key = dims(d);
    const e = out.get(key) ?? { requests: 0, errors: 0, prompt: 0, completion: 0 };
    e.requests += Number(d.requests);
    e.errors += Number(d.errors);
    e.prompt += Number(d.promptTokens);
    e.completion += Number(d.completionTokens);
    out.set(key, e);
  }
  return out;
}

describe.each([
  { name: 'PostgreSQL', postgres: true },
  { name: 'PGlite', postgres: false },
])('usage storage on $name', ({ postgres }) => {
  let db: MigratedDb;
  let repo: UsageRepository;
  const rows = seedRows();
  const cutoff = rollupCutoff(NOW, 90);
  const old = rows.filter((r) => r.createdAt < cutoff);
  const LATE = {
    ...rows[119],
    createdAt: new Date(cutoff.getTime() - DAY),
    requestId: 'late',
    eventId: randomUUID(),
  };
  // Day-aligned, so that raw rows and whole daily rows cover exactly the same span.
  const from = new Date(Math.floor((NOW.getTime() - 130 * DAY) / DAY) * DAY);
  const to = new Date(Math.ceil((NOW.getTime() + DAY) / DAY) * DAY);

  beforeAll(async () => {
    db = await openMigrated(postgres, 'usage');
    repo = new UsageRepository(db.ds);
    await db.ds.getRepository(UsageEventEntity).insert(rows);
  });
  afterAll(() => db?.close());

  it('compacts rows past the retention, in batches, into daily rows equal to the sums of the rows they replaced', async () => {
    expect(old.length).toBeGreaterThan(50);
    const before = await Promise.all(
      USAGE_GROUPS.map((g) => repo.sums({ kind: 'user', sub: 'alice' }, from, to, g)),
    );
    expect(before.every((sums) => sums.length > 1)).toBe(true);
    // Batches of 7 rows: a day's rows are split across batches, and still add up.
    const result = await repo.rollUpBefore(cutoff, 7);
    expect(result).toMatchObject({ locked: true, events: old.length });
    expect(result.dailyRows).toBeGreaterThanOrEqual(expectedDaily(old).size);
    expect(await dailyRows(db.ds)).toEqual(expectedDaily(old));
    expect(await db.ds.getRepository(UsageEventEntity).count()).toBe(rows.length - old.length);
    const minCreated = await db.ds.query<{ m: Date }[]>(
      'SELECT min(created_at) AS m FROM usage_events',
    );
    expect(new Date(minCreated[0].m).getTime()).toBeGreaterThanOrEqual(cutoff.getTime());
    // The API reads both tables: over whole days nothing changed for any grouping.
    const after = await Promise.all(
      USAGE_GROUPS.map((g) => repo.sums({ kind: 'user', sub: 'alice' }, from, to, g)),
    );
    const sort = (s: UsageSum[]) =>
      [...s].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    after.forEach((a, i) => expect(sort(a)).toEqual(sort(before[i])));
  });

  it('skips rows of a batch written again (its first write timed out but committed)', async () => {
    const events = db.ds.getRepository(UsageEventEntity);
    const before = await events.count();
    const again = rows.filter((r) => r.createdAt >= cutoff).slice(0, 3);
    const fresh = { ...again[0], requestId: 'fresh', eventId: randomUUID() };
    await repo.insertEvents([...again, fresh]);
    expect(await events.count()).toBe(before + 1);
    await events.delete({ requestId: 'fresh' });
  });

  it('a second run finds nothing; a late row for a compacted day still adds up', async () => {
    expect(await repo.rollUpBefore(cutoff)).toEqual({ locked: true, events: 0, dailyRows: 0 });
    await db.ds.getRepository(UsageEventEntity).insert(LATE);
    expect(await repo.rollUpBefore(cutoff)).toMatchObject({ events: 1, dailyRows: 1 });
    expect(await dailyRows(db.ds)).toEqual(expectedDaily([...old, LATE]));
  });

  it('reads only the subject asked for: own keys plus env use, the org, or all env use', async () => {
    const total = async (subject: Parameters<UsageRepository['sums']>[0]) =>
      (await repo.sums(subject, from, to, 'provider')).reduce((n, s) => n + s.requests, 0);
    const count = (pred: (r: (typeof USES)[number]) => boolean) =>
      [...rows, LATE].filter((r) => pred(r as (typeof USES)[number])).length;
    expect(await total({ kind: 'org', orgId: 'acme' })).toBe(count((r) => r.ownerType === 'org'));
    expect(await total({ kind: 'env' })).toBe(count((r) => r.ownerType === 'env'));
    expect(await total({ kind: 'user', sub: 'bob' })).toBe(
      count((r) => r.ownerId === 'bob' || (r.ownerType === 'env' && r.callerSub === 'bob')),
    );
    expect(await total({ kind: 'user', sub: 'nobody' })).toBe(0);
  });

  it('costs come from the price table per model; an unknown model that used tokens is null', async () => {
    const prices = loadPrices({});
    const sums = await repo.sums({ kind: 'user', sub: 'alice' }, from, to, 'model');
    const report = summarise(sums, prices, 'model');
    const llama = sums.find((s) => s.model === 'llama-3.3-70b')!;
    const row = (g: string) => report.find((r) => r.group === g)!;
    expect(row('cerebras/llama-3.3-70b').cost).toBeCloseTo(
      (llama.promptTokens * 0.85 + llama.completionTokens * 1.2) / 1e6,
      12,
    );
    const mini = sums.find((s) => s.model === 'gpt-4o-mini-2024-07-18')!;
    expect(row('openai/gpt-4o-mini-2024-07-18').cost).toBeCloseTo(
      (mini.promptTokens * 0.15 + mini.completionTokens * 0.6) / 1e6,
      12,
    );
    expect(row('cerebras/mystery-model').cost).toBeNull();
    expect(row('cerebras/mystery-model').promptTokens).toBeGreaterThan(0);
    const byProvider = summarise(
      await repo.sums({ kind: 'user', sub: 'alice' }, from, to, 'provider'),
      prices,
      'provider',
    );
    // One unpriced model makes its whole group unknown rather than silently cheaper.
    expect(byProvider.find((r) => r.group === 'cerebras')?.cost).toBeNull();
    expect(report.every((r) => r.currency === 'USD')).toBe(true);
  });

  it('pg_try_advisory_xact_lock works here, and a replica that cannot take it skips', async () => {
    const [{ locked }] = await db.ds.transaction((m) =>
      m.query<{ locked: boolean }[]>('SELECT pg_try_advisory_xact_lock(42) AS locked'),
    );
    expect(locked).toBe(true);
    if (!postgres) return; // PGlite serves one connection: there is no second replica to race.
    const holder = db.ds.createQueryRunner();
    await holder.startTransaction();
    await holder.query(`SELECT pg_advisory_xact_lock(${ROLLUP_LOCK})`);
    try {
      expect(await repo.rollUpBefore(NOW)).toEqual({ locked: false, events: 0, dailyRows: 0 });
    } finally {
      await holder.rollbackTransaction();
      await holder.release();
    }
    // Two replicas at once: together they compact every row exactly once.
    const other = new DataSource(db.ds.options);
    await other.initialize();
    try {
      const remaining = await db.ds.getRepository(UsageEventEntity).count();
      const results = await Promise.all([
        repo.rollUpBefore(new Date(NOW.getTime() + DAY)),
        new UsageRepository(other).rollUpBefore(new Date(NOW.getTime() + DAY)),
      ]);
      expect(results.reduce((n, r) => n + r.events, 0)).toBe(remaining);
      expect(await db.ds.getRepository(UsageEventEntity).count()).toBe(0);
    } finally {
      await other.destroy();
    }
  });
});
