import { randomUUID } from 'node:crypto';
import { AuditRepository } from '../../../src/audit/audit.repository';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config/app-config';
import { MetricsService } from '../../../src/metrics/metrics.service';
import { AuditService } from '../../../src/audit/audit.service';
import type { Caller } from '../../../src/auth/caller';
import { AuditEventEntity } from '../../../src/database/entities';
import { type MigratedDb, openMigrated } from '../../helpers/migrated-db';

// The audit table lives with the usage tables in one migration, so it is checked here too.

const alice: Caller = { kind: 'jwt', sub: 'alice', orgAdmin: false, admin: false };
const key = {
  id: '0b5c7c1e-9a55-4c1e-8d0e-0d6f3c2f1a11',
  provider: 'cerebras',
  keyHint: '…wxyz',
  ownerType: 'user',
  ownerId: 'alice',
};

describe.each([
  { name: 'PostgreSQL', postgres: true },
  { name: 'PGlite', postgres: false },
])('audit_events on $name', ({ postgres }) => {
  let db: MigratedDb;
  let audit: AuditService;

  beforeAll(async () => {
    db = await openMigrated(postgres, 'audit');
    audit = new AuditService(
      new AuditRepository(db.ds.getRepository(AuditEventEntity)),
      new MetricsService(),
      loadConfig({ DATA_DIR: mkdtempSync(join(tmpdir(), 'byok-audit-')) }),
    );
  });
  afterAll(async () => {
    await audit?.beforeApplicationShutdown();
    await db?.close();
  });

  it('writes queued rows in a batch and lists them newest first with filters and a cursor', async () => {
    for (let i = 0; i < 5; i++)
      audit.record({ action: 'key.update', actor: alice, key, detail: { priority: i } });
    audit.record({ action: 'token.create', actor: alice, targetType: 'token', targetId: 't1' });
    expect(await db.ds.getRepository(AuditEventEntity).count()).toBe(0); // queued, off the request
    const first = await audit.list({ action: 'key.update', limit: 2 });
    expect(first.data.map((e) => e.detail?.priority)).toEqual([4, 3]);
    expect(first.data[0]).toMatchObject({
      actorSub: 'alice',
      actorKind: 'jwt',
      targetType: 'key',
      targetId: key.id,
      keyHint: '…wxyz',
      provider: 'cerebras',
      ownerType: 'user',
      ownerId: 'alice',
    });
    const second = await audit.list({ action: 'key.update', limit: 2, cursor: first.nextCursor! });
    const third = await audit.list({ action: 'key.update', limit: 2, cursor: second.nextCursor! });
    expect([...second.data, ...third.data].map((e) => e.detail?.priority)).toEqual([2, 1, 0]);
    expect(third.nextCursor).toBeNull();
    expect((await audit.list({ targetId: 't1' })).data.map((e) => e.action)).toEqual([
      'token.create',
    ]);
    const future = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    expect((await audit.list({ from: future })).data).toEqual([]);
    await expect(audit.list({ cursor: 'bm9wZQ' })).rejects.toMatchObject({
      code: 'validation_failed',
    });
  });

  it('is append-only: UPDATE, DELETE and TRUNCATE are refused by a trigger', async () => {
    const count = await db.ds.getRepository(AuditEventEntity).count();
    expect(count).toBeGreaterThan(0);
    for (const sql of [
      `UPDATE audit_events SET actor_sub = 'mallory'`,
      'DELETE FROM audit_events',
      'TRUNCATE audit_events',
    ])
      await expect(db.ds.query(sql)).rejects.toMatchObject({
        code: '42501',
        message: expect.stringMatching(/audit_events is append-only/) as unknown,
      });
    expect(await db.ds.getRepository(AuditEventEntity).count()).toBe(count);
    const actors = await db.ds.query<{ actor_sub: string }[]>(
      'SELECT DISTINCT actor_sub FROM audit_events',
    );
    expect(actors).toEqual([{ actor_sub: 'alice' }]);
  });

  it('skips rows of a batch written again (its first write timed out but committed)', async () => {
    const events = db.ds.getRepository(AuditEventEntity);
    const [stored] = await events.find({ take: 1 });
    const count = await events.count();
    const again = { ...stored, id: undefined };
    await new AuditRepository(events).insert([again, { ...again, eventId: randomUUID() }]);
    expect(await events.count()).toBe(count + 1);
  });

  it('the schema-drift check does not see the trigger: the entities still match', async () => {
    const sql = await db.ds.driver.createSchemaBuilder().log();
    expect(sql.upQueries.map((q) => q.query)).toEqual([]);
  });
});
